#!/bin/sh
# memcheck.sh - valgrind over the parse of every fixture and example: no
# invalid access, no definite or possible leak.  (What GMime and GLib keep
# for the life of the process is "still reachable", not a leak.)
# tests/valgrind.supp names the system libraries' false positives.
set -eu
command -v valgrind >/dev/null 2>&1 || {
	echo "memcheck: valgrind is not installed: apt-get install valgrind" >&2
	exit 1
}
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,possible \
	--suppressions=tests/valgrind.supp \
	--error-exitcode=1 ./bounced/bounced parse --json \
	tests/fixtures/parse/*.eml examples/bounces/*.eml > /dev/null
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,possible \
	--error-exitcode=1 ./bounced/bounced classify --json \
	< examples/logs/smtp-results.jsonl > /dev/null
echo "memcheck: no errors, no leaks"
