#!/bin/sh
# eval.sh SHARED - accuracy of ./bounced/bounced on the shared corpus:
# ../shared/eval/score-dsn over corpus/sisimai and score-smtp over the
# seed SMTP cases.  Says so and succeeds when SHARED is absent (the
# corpus is not part of the repository).
set -u
shared=${1:-../shared}
if [ ! -d "$shared/eval" ] || [ ! -d "$shared/corpus/sisimai" ]; then
	echo "eval: $shared/eval or $shared/corpus is absent; skipped" \
	     "(the corpus lives beside the repository, not in it)"
	exit 0
fi
command -v python3 >/dev/null 2>&1 || {
	echo "eval: python3 is needed for the scorers: apt-get install python3" >&2
	exit 1
}
echo "== bounce messages: $shared/corpus/sisimai (score-dsn)"
python3 "$shared/eval/score-dsn" --bounced ./bounced/bounced ${EVAL_VERBOSE:+--verbose} ${EVAL_MIN:-}
s1=$?
echo "== SMTP replies: $shared/cases/seed-smtp.jsonl (score-smtp)"
python3 "$shared/eval/score-smtp" --bounced ./bounced/bounced ${EVAL_VERBOSE:+--verbose}
s2=$?
[ $s1 = 0 ] && [ $s2 = 0 ]
