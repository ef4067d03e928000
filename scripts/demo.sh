#!/bin/sh
# demo.sh - the main job end to end, readably: parse and classify the
# bounces in examples/, then classify the synchronous SMTP results in
# examples/logs/smtp-results.jsonl.
set -eu
b=./bounced/bounced
echo "== bounced parse examples/bounces/*.eml"
echo
$b parse examples/bounces/*.eml
echo
echo "== the same, as the JSON lines scripts read (first one)"
echo
$b parse --json examples/bounces/postfix-verp-dsn.eml
echo
echo "== bounced classify: synchronous SMTP replies (examples/logs/smtp-results.jsonl)"
echo
python3 - "$b" examples/logs/smtp-results.jsonl <<'PY'
import json, subprocess, sys
exe, path = sys.argv[1], sys.argv[2]
out = subprocess.run([exe, 'classify', '--json'], stdin=open(path), capture_output=True, text=True, check=True).stdout
print('%-8s %-5s %-8s %-10s %-16s %s' % ('PHASE', 'CODE', 'ENH', 'CATEGORY', 'REASON', 'TEXT'))
for line in out.splitlines():
    o = json.loads(line)
    print('%-8s %-5s %-8s %-10s %-16s %.60s' % (o.get('phase') or '-', o.get('code') or 0, o.get('enhanced') or '-',
          o.get('category') or '-', o.get('reason') or '-', o.get('text') or ''))
PY
