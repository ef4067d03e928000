#!/bin/sh
# demo.sh - the main job end to end, readably: parse and classify the
# bounces in examples/, classify the synchronous SMTP results in
# examples/logs/smtp-results.jsonl, then store: a bounce on stdin as the
# MTA delivers it, the same one again, a backlog and the MTA logs, and
# show the rows.  With $BOUNCED_DATABASE_URL unset the rows go to a
# database bounced_demo in the private cluster (scripts/pg.sh), made
# afresh each run.
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

# ---- storing: a bounce on stdin, as the MTA delivers it, to rows ----
echo
if [ -n "${BOUNCED_DATABASE_URL:-}" ]; then
	url=$BOUNCED_DATABASE_URL
	echo "== using the database in \$BOUNCED_DATABASE_URL"
else
	echo "== no database configured: starting the private PostgreSQL cluster (scripts/pg.sh)"
	sh scripts/pg.sh start
	base=$(sh scripts/pg.sh url)
	sh scripts/pg.sh psql -q -c 'DROP DATABASE IF EXISTS bounced_demo' 2>/dev/null
	url=$(echo "$base" | sed 's|/bounced?|/bounced_demo?|')
fi
export BOUNCED_DATABASE_URL="$url"
conf=$(mktemp)
chmod 600 "$conf"
export BOUNCED_CONFIG="$conf"
trap 'rm -f "$conf"' EXIT
echo
echo "== bounced db init"
$b db init
echo
echo "== bounced ingest --list announce --recipient alice=example.net < examples/bounces/postfix-verp-dsn.eml"
$b ingest -v --list announce --recipient alice=example.net < examples/bounces/postfix-verp-dsn.eml
echo "exit status $?"
echo
echo "== the same message again (the MTA retried): stored once"
$b ingest --list announce < examples/bounces/postfix-verp-dsn.eml
echo "exit status $?"
echo
echo "== a backlog: every example bounce, then the MTA logs and JSON results"
$b ingest --list announce examples/bounces
$b ingest --smtp postfix --list announce examples/logs/postfix-mail.log
$b ingest --smtp exim --list announce examples/logs/exim-mainlog
$b ingest --smtp json examples/logs/smtp-results.jsonl
echo
echo "== messages"
psql -X "$url" -c "SELECT id, kind, format, parse_status, size, left(encode(sha256, 'hex'), 12) AS sha256, source FROM messages ORDER BY id"
echo "== events (first 20)"
psql -X "$url" -c "SELECT source, kind, recipient, phase, reply_code AS code, status, category, reason, rule FROM events ORDER BY id LIMIT 20"
echo "== events by category"
psql -X "$url" -c "SELECT coalesce(category, '-') AS category, kind, count(*) FROM events GROUP BY 1, 2 ORDER BY 3 DESC"
