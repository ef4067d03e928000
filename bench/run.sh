#!/bin/sh
# run.sh BUILD SHARED - `make bench`: how fast bounced parses, against a
# GMime-only floor and Sisimai, all measured in this one run (the
# machines are shared and noisy: only ratios within a run mean much).
#
# Input: the corpus in SHARED/corpus/sisimai repeated to about 50,000
# messages (BENCH_MESSAGES), once as one mbox stream and once as one file
# per message.  Rates are messages per CPU second (user + system) of a
# single process; peak memory is the largest resident set.  Work files go
# to bench/work/ (git-ignored).
#
# Then storing (bench/store.sh): `bounced ingest` of a Maildir of unique
# copies of the corpus into the private PostgreSQL against `bounced parse
# --json` over the same files; and the MTA pipe case (bench/pipe.sh): a
# `bounced ingest` process per message, 4 in parallel, against as many
# single-row INSERT transactions from psql.  BENCH_DB=0 skips these.
set -eu
build=$1
shared=${2:-../shared}
target=${BENCH_MESSAGES:-50000}
corpus=$shared/corpus/sisimai/eml
work=bench/work
bounced=./bounced/bounced
baseline=$build/bench/gmime_baseline

if [ ! -d "$corpus" ]; then
	echo "bench: $corpus is absent; the benchmark needs the shared corpus" >&2
	exit 1
fi
mkdir -p "$work"
python3 bench/prepare.py "$corpus" "$work" "$target"
total=$(cat "$work/count")
fifth=$(cat "$work/count-small")

m() { python3 bench/measure.py "$@" >> "$work/results.jsonl"; }
: > "$work/results.jsonl"
echo "bench: $total messages ($(du -sh "$work/corpus.mbox" | cut -f1) mbox); running..."
# each pair BENCH_REPEAT (3) times, interleaved; the report keeps each
# run's least CPU time, the one least disturbed by the rest of the machine
i=0
while [ "$i" -lt "${BENCH_REPEAT:-3}" ]; do
	m gmime-mbox "$total" -- "$baseline" "$work/corpus.mbox"
	m bounced-mbox "$total" -- "$bounced" parse --json "$work/corpus.mbox"
	m bounced-mbox-small "$fifth" -- "$bounced" parse --json "$work/small.mbox"
	m gmime-files "$total" -- sh -c "cd '$work/maildir/cur' && ls | xargs -n 5000 '$PWD/$baseline'"
	m bounced-files "$total" -- sh -c "cd '$work/maildir/cur' && ls | xargs -n 5000 '$PWD/$bounced' parse --json"
	i=$((i + 1))
done
if perl -MSisimai -e 1 2>/dev/null; then
	m sisimai-mbox "$total" -- perl bench/sisimai_baseline.pl "$work/corpus.mbox"
else
	echo "bench: Sisimai (libsisimai-perl) is not installed; install it with: apt-get install libsisimai-perl" >&2
fi
python3 bench/report.py "$work/results.jsonl"

# storing: batch ingest of a Maildir against parse --json over the same
# files, and the MTA pipe case (BENCH_DB=0 skips both)
if [ "${BENCH_DB:-1}" = 1 ]; then
	echo
	SHARED=$shared sh bench/store.sh corpus "$target"
	echo
	SHARED=$shared sh bench/pipe.sh "${BENCH_PIPE_MESSAGES:-500}"
fi
