#!/bin/sh
# run.sh BINDIR SHARED - run every Check program, then the seed SMTP
# cases when ../shared is there.  Exits non-zero when anything fails.
set -u
bindir=$1
shared=${2:-../shared}
fail=0
# the sanitizers make every process slower: give the tests that run many
# of them (check_ingest) more time
case $bindir in
*/san/*) export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-4} ;;
esac
for t in "$bindir"/check_*; do
	[ -x "$t" ] || continue
	if ! "$t"; then
		echo "FAILED: $t" >&2
		fail=1
	fi
done
if [ -d "$shared/cases" ]; then
	echo "seed SMTP cases ($shared/cases/seed-smtp.jsonl):"
	python3 "$shared/eval/score-smtp" --bounced ./bounced/bounced \
		--min accuracy=1 || fail=1
else
	echo "seed SMTP cases: skipped, $shared is absent" >&2
fi
[ $fail = 0 ] && echo "all tests passed"
exit $fail
