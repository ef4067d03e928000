#!/usr/bin/env python3
"""prepare.py CORPUS WORK TARGET - the benchmark's input.

Repeats every message of CORPUS (recursively, *.eml) until about TARGET
messages and writes them as WORK/corpus.mbox (mboxrd: body lines that
start with "From " are quoted), WORK/small.mbox (a fifth, for the
memory-flatness check) and WORK/maildir/cur/ (one file per message).
Skips the work when WORK/count already says TARGET.
"""
import os, sys

from corpus import load_messages

corpus, work, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
stamp = os.path.join(work, 'stamp')
if os.path.exists(stamp) and open(stamp).read() == str(target):
    sys.exit(0)
msgs = load_messages(corpus)
reps = max(1, round(target / len(msgs)))
os.makedirs(os.path.join(work, 'maildir', 'cur'), exist_ok=True)
for old in os.listdir(os.path.join(work, 'maildir', 'cur')):
    os.unlink(os.path.join(work, 'maildir', 'cur', old))


def mbox_entry(data):
    lines = data.split(b'\n')
    out = [b'From MAILER-DAEMON Sat Nov 28 01:00:00 2026']
    for l in lines:
        # mboxrd: quote From_ lines (and already quoted ones)
        if l.lstrip(b'>').startswith(b'From '):
            l = b'>' + l
        out.append(l)
    body = b'\n'.join(out)
    if not body.endswith(b'\n'):
        body += b'\n'
    return body + b'\n'


n = 0
small = max(1, (reps * len(msgs)) // 5)
with open(os.path.join(work, 'corpus.mbox'), 'wb') as mb, \
        open(os.path.join(work, 'small.mbox'), 'wb') as sm:
    for r in range(reps):
        for data in msgs:
            e = mbox_entry(data)
            mb.write(e)
            if n < small:
                sm.write(e)
            with open(os.path.join(work, 'maildir', 'cur', '%06d.eml' % n), 'wb') as f:
                f.write(data)
            n += 1
open(os.path.join(work, 'count'), 'w').write(str(n))
open(os.path.join(work, 'count-small'), 'w').write(str(small))
open(stamp, 'w').write(str(target))
