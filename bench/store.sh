#!/bin/sh
# store.sh [N] [RCPTS] [BATCH] - batch ingest speed of the store, against
# `bounced parse --json` over the same Maildir.
#
# Writes N (50000) distinct DSNs of RCPTS (5) recipients each into
# bench/work/maildir, times `bounced parse --json` over them, then stores
# them all (parse + store, batches of BATCH, 500) into a fresh database
# bounced_bench on the private cluster (scripts/pg.sh), with PostgreSQL's
# default durability (fsync on, synchronous_commit on), and prints both
# rates and their ratio.  Run from the top of the repository after `make`.
set -eu
n=${1:-50000}
rcpts=${2:-5}
batch=${3:-500}
b=build/release
make --no-print-directory all "$b/bench/store_bench" >/dev/null
work=bench/work
rm -rf "$work/maildir"
mkdir -p "$work"
"$b/bench/store_bench" make-maildir "$work/maildir" "$n" "$rcpts"

sh scripts/pg.sh start
url=$(sh scripts/pg.sh url)
sh scripts/pg.sh psql -q -c 'DROP DATABASE IF EXISTS bounced_bench'
benchurl=$(echo "$url" | sed 's|/bounced?|/bounced_bench?|')
./bounced/bounced db init --database "$benchurl" >/dev/null
echo "fsync=$(sh scripts/pg.sh psql -tAc 'show fsync')" \
    "synchronous_commit=$(sh scripts/pg.sh psql -tAc 'show synchronous_commit')"

t0=$(date +%s.%N)
find "$work/maildir/cur" -type f -print0 |
	xargs -0 ./bounced/bounced parse --json >/dev/null
t1=$(date +%s.%N)
parse_rate=$(awk "BEGIN { print $n / ($t1 - $t0) }")
printf 'parse --json: %d messages in %.2f s: %.0f messages/s\n' "$n" \
    "$(awk "BEGIN { print $t1 - $t0 }")" "$parse_rate"

out=$("$b/bench/store_bench" store "$benchurl" "$work/maildir" "$batch")
echo "store: $out"
store_rate=$(echo "$out" | sed -n 's/.*s: \([0-9]*\) messages\/s.*/\1/p')
printf 'store / parse = %.2f (the bar is 0.5)\n' \
    "$(awk "BEGIN { print $store_rate / $parse_rate }")"
