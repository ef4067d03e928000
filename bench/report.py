#!/usr/bin/env python3
"""report.py RESULTS.jsonl - the `make bench` table and ratios."""
import json, sys

rows = {}
runs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[r['name']] = runs.get(r['name'], 0) + 1
    # repeated runs: keep the least CPU time (the least disturbed)
    if r['name'] not in rows or r['cpu'] < rows[r['name']]['cpu']:
        rows[r['name']] = r


def rate(r):
    return r['messages'] / r['cpu'] if r['cpu'] > 0 else float('inf')


print('%-20s %9s %9s %9s %12s %10s' % ('run', 'messages', 'cpu s', 'wall s', 'msgs/cpu-s', 'peak RSS'))
print('(the best of %d runs each where repeated)' % max(runs.values()))
for r in rows.values():
    flag = '' if r['status'] == 0 else '  (exit %d: %s)' % (r['status'], r['stderr'].strip()[:80])
    print('%-20s %9d %9.2f %9.2f %12.0f %8.1f MB%s' % (
        r['name'], r['messages'], r['cpu'], r['wall'], rate(r), r['maxrss_kb'] / 1024, flag))


def ratio(a, b, what):
    if a in rows and b in rows:
        print('%-44s %6.2fx' % (what, rate(rows[a]) / rate(rows[b])))


print()
ratio('bounced-mbox', 'gmime-mbox', 'bounced / GMime-only, one mbox stream:')
ratio('bounced-files', 'gmime-files', 'bounced / GMime-only, one file per message:')
ratio('bounced-mbox', 'sisimai-mbox', 'bounced / Sisimai, one mbox stream:')
if 'bounced-mbox' in rows and 'gmime-mbox' in rows:
    print('%-44s %6.2fx' % ('peak RSS bounced / GMime-only (mbox):',
                           rows['bounced-mbox']['maxrss_kb'] / rows['gmime-mbox']['maxrss_kb']))
if 'bounced-mbox' in rows and 'bounced-mbox-small' in rows:
    print('%-44s %6.2fx' % ('peak RSS, 5x the input (flat is 1.00x):',
                           rows['bounced-mbox']['maxrss_kb'] / rows['bounced-mbox-small']['maxrss_kb']))
