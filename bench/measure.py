#!/usr/bin/env python3
"""measure.py - run a command and print its cost as one JSON line.

usage: measure.py NAME MESSAGES -- CMD [ARG...]

CPU time (user + system) of the command and all its children, wall time,
and the largest resident set of any one of its processes (ru_maxrss of
the children).  Standard output of the command goes to /dev/null, so
printing costs what writing to a pipe costs, not a terminal.
"""
import json, os, resource, subprocess, sys, time

name, messages = sys.argv[1], int(sys.argv[2])
cmd = sys.argv[sys.argv.index('--') + 1:]
before = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.monotonic()
p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.monotonic() - t0
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({'name': name, 'messages': messages, 'cpu': round(cpu, 3),
                  'wall': round(wall, 3), 'maxrss_kb': after.ru_maxrss,
                  'status': p.returncode,
                  'stderr': p.stderr.decode(errors='replace')[-300:]}))
