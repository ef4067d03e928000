#!/usr/bin/env python3
"""unique_maildir.py CORPUS DIR TARGET - the store benchmark's input.

Repeats every message of CORPUS (recursively, *.eml, sorted) until about
TARGET messages and writes them one file each to DIR/cur, every copy made
unique by a first header line "X-Bench-Copy: N": the store keeps a message
by the SHA-256 of its bytes, and copies that were the same bytes would be
stored once and then only counted as duplicates.  A leading mbox "From "
line is dropped, as bench/prepare.py does.  Skips the work when DIR/stamp
already says TARGET.  Prints the number of messages written.
"""
import os, sys

from corpus import load_messages

corpus, out, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
stamp = os.path.join(out, 'stamp')
cur = os.path.join(out, 'cur')
if os.path.exists(stamp) and open(stamp).read().split()[0] == str(target):
    print(open(stamp).read().split()[1])
    sys.exit(0)
msgs = load_messages(corpus)
if not msgs:
    sys.exit('unique_maildir.py: no *.eml under %s' % corpus)
reps = max(1, round(target / len(msgs)))
for d in ('cur', 'new', 'tmp'):
    os.makedirs(os.path.join(out, d), exist_ok=True)
for old in os.listdir(cur):
    os.unlink(os.path.join(cur, old))
n = 0
for r in range(reps):
    for data in msgs:
        with open(os.path.join(cur, '%06d.eml' % n), 'wb') as f:
            f.write(b'X-Bench-Copy: %d\n' % n)
            f.write(data)
        n += 1
open(stamp, 'w').write('%d %d' % (target, n))
print(n)
