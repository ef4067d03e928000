#!/bin/sh
# store.sh [corpus [N] | synthetic [N [RCPTS]]] - batch
# ingest (parse + store into PostgreSQL) against `bounced parse --json`
# over the same Maildir, in the same run.
#
#   corpus (the default): the messages of SHARED/corpus/sisimai/eml (real
#     bounces, a few KiB, ~1 recipient each) repeated to about N (50000),
#     each copy made unique by a first line "X-Bench-Copy: n" (the store
#     keeps a message once by the SHA-256 of its bytes: copies of the same
#     bytes would only count as duplicates);
#   synthetic: N distinct DSNs of RCPTS (5) recipients each.
#
# Parsing: `bounced parse --json` over the files, 5,000 to a process
# (xargs), output to /dev/null.  Ingest: `bounced ingest MAILDIR`: one
# process, one connection, batches of 500, the next batch parsed while the
# server writes the last (bounced/ingest_mail.c), into a fresh database
# bounced_bench on
# the private cluster (scripts/pg.sh) with PostgreSQL's default durability
# (fsync on, synchronous_commit on; printed).  Both read the same files.
#
# Printed: messages per second of wall-clock time and per CPU second of
# the bounced process (user + system) for each, the server's CPU seconds
# for the ingest (all the cluster's processes, from /proc), and the ratios
# ingest / parse (the bar: wall-clock >= 0.5).  The machines are shared
# and noisy: ROUNDS=3 runs the pair three times and prints each.
#
# Run from the top of the repository; SHARED (../shared) is where the
# corpus is.  Work files go to bench/work/ (git-ignored).
set -eu
mode=${1:-corpus}
case $mode in
corpus)
	n=${2:-50000}
	rcpts=
	;;
synthetic)
	n=${2:-50000}
	rcpts=${3:-5}
	;;
*)
	echo "usage: bench/store.sh [corpus [N] | synthetic [N [RCPTS]]]" >&2
	exit 64
	;;
esac
shared=${SHARED:-../shared}
rounds=${ROUNDS:-1}
b=build/release
make --no-print-directory all "$b/bench/store_bench" >/dev/null
work=bench/work
mkdir -p "$work"

if [ "$mode" = corpus ]; then
	corpus=$shared/corpus/sisimai/eml
	if [ ! -d "$corpus" ]; then
		echo "store.sh: $corpus is absent; give SHARED=DIR or use" \
		    "synthetic" >&2
		exit 1
	fi
	maildir=$work/store-corpus
	n=$(python3 bench/unique_maildir.py "$corpus" "$maildir" "$n")
	what="$n unique copies of the $corpus messages"
else
	maildir=$work/store-synthetic
	stamp="$n $rcpts"
	if [ "$(cat "$maildir/stamp" 2>/dev/null)" != "$stamp" ]; then
		rm -rf "$maildir"
		"$b/bench/store_bench" make-maildir "$maildir" "$n" "$rcpts"
		echo "$stamp" > "$maildir/stamp"
	fi
	what="$n synthetic DSNs of $rcpts recipients"
fi
echo "store bench: $what ($(du -sh "$maildir/cur" | cut -f1))"

sh scripts/pg.sh start
url=$(sh scripts/pg.sh url)
benchurl=$(echo "$url" | sed 's|/bounced?|/bounced_bench?|')
pgdata=${BOUNCED_PG_DIR:-$(pwd)/.local/pg}/data
echo "server: $(sh scripts/pg.sh psql -tAc 'show server_version')," \
    "fsync=$(sh scripts/pg.sh psql -tAc 'show fsync')," \
    "synchronous_commit=$(sh scripts/pg.sh psql -tAc \
    'show synchronous_commit')"

# CPU seconds of every process of the private cluster, living or reaped
# (Linux /proc; "?" elsewhere)
server_cpu() {
	pm=$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null) || {
		echo '?'
		return
	}
	# processes come and go while this reads: cat skips those gone
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$pm" \
	    -v hz="$(getconf CLK_TCK)" '
	{
		pid = $1
		sub(/^.*\) /, "")	# past "pid (comm) "
		# $2 ppid, $12..$15 utime stime cutime cstime
		if (pid == pm)
			t += $12 + $13 + $14 + $15
		else if ($2 == pm)
			t += $12 + $13
	}
	END { printf "%.2f\n", t / hz }'
}

ratios=
r=1
while [ "$r" -le "$rounds" ]; do
	# parse: CPU of the bounced processes, as bench/run.sh measures
	p=$(python3 bench/measure.py parse "$n" -- sh -c \
	    "find '$maildir/cur' -type f | sort | xargs -n 5000 \
	    ./bounced/bounced parse --json")
	pwall=$(echo "$p" | sed 's/.*"wall": \([0-9.]*\).*/\1/')
	pcpu=$(echo "$p" | sed 's/.*"cpu": \([0-9.]*\).*/\1/')
	printf 'parse --json: %d messages, %.2f s wall, %.2f s CPU: %.0f' \
	    "$n" "$pwall" "$pcpu" "$(awk "BEGIN { print $n / $pwall }")"
	printf ' messages/s, %.0f messages/CPU-s\n' \
	    "$(awk "BEGIN { print $n / $pcpu }")"

	sh scripts/pg.sh psql -q -c 'DROP DATABASE IF EXISTS bounced_bench' \
	    2>/dev/null
	./bounced/bounced db init --database "$benchurl" >/dev/null
	sh scripts/pg.sh psql -q -c 'CHECKPOINT'
	s0=$(server_cpu)
	i=$(python3 bench/measure.py ingest "$n" -- ./bounced/bounced ingest \
	    --database "$benchurl" "$maildir")
	s1=$(server_cpu)
	iwall=$(echo "$i" | sed 's/.*"wall": \([0-9.]*\).*/\1/')
	icpu=$(echo "$i" | sed 's/.*"cpu": \([0-9.]*\).*/\1/')
	stored=$(psql "$benchurl" -tAc \
	    'SELECT count(*) FROM messages' 2>/dev/null || echo '?')
	printf 'ingest: %s messages stored, %.2f s wall, %.2f s CPU: %.0f' \
	    "$stored" "$iwall" "$icpu" "$(awk "BEGIN { print $n / $iwall }")"
	printf ' messages/s, %.0f messages/CPU-s (bounced ingest, batches' \
	    "$(awk "BEGIN { print $n / $icpu }")"
	printf ' of 500, overlapped)\n'
	if [ "$s0" != '?' ] && [ "$s1" != '?' ]; then
		printf 'ingest: server %.2f s CPU (the whole cluster)\n' \
		    "$(awk "BEGIN { print $s1 - $s0 }")"
	fi
	ratio=$(awk "BEGIN { printf \"%.2f\", $pwall / $iwall }")
	printf 'ingest / parse: %s wall-clock (the bar is 0.5), %.2f per' \
	    "$ratio" "$(awk "BEGIN { print $pcpu / $icpu }")"
	printf ' CPU second of bounced\n'
	ratios="$ratios $ratio"
	r=$((r + 1))
done
if [ "$rounds" -gt 1 ]; then
	echo "ingest / parse, wall-clock, each round:$ratios"
fi
