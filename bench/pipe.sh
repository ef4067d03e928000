#!/bin/sh
# pipe.sh [N] - the MTA pipe case: one `bounced ingest` process per
# message, 4 at a time, as Postfix pipe(8) with maxproc 4 would run it,
# against the same number of single-row INSERT transactions from psql,
# 4 at a time, into the same private PostgreSQL cluster (default
# durability: every transaction waits for its WAL flush).
#
# Two psql baselines: one psql process per INSERT (a process and a
# connection per row, as the pipe pays), and one psql session per worker
# running N/4 autocommit INSERTs (the cost of the transactions alone).
# N (500) messages are the first N of bench/work/store-corpus (made by
# bench/store.sh or bench/unique_maildir.py).  Prints messages per second
# of wall-clock time for each.
set -eu
n=${1:-500}
shared=${SHARED:-../shared}
work=bench/work
maildir=$work/store-corpus
python3 bench/unique_maildir.py "$shared/corpus/sisimai/eml" "$maildir" \
    50000 >/dev/null
sh scripts/pg.sh start >/dev/null
url=$(sh scripts/pg.sh url)
db=bounced_bench_pipe
dburl=$(echo "$url" | sed "s|/bounced?|/$db?|")
sh scripts/pg.sh psql -q -c "DROP DATABASE IF EXISTS $db" 2>/dev/null
./bounced/bounced db init --database "$dburl" >/dev/null
psql -q "$dburl" -c 'CREATE TABLE bench_rows (id serial PRIMARY KEY,
    recipient text NOT NULL, body bytea NOT NULL)'
ls "$maildir/cur" | sort | head -n "$n" > "$work/pipe-list"
cfg=$work/pipe.conf
: > "$cfg"
chmod 600 "$cfg"

wall() {
	python3 bench/measure.py "$1" "$n" -- sh -c "$2" |
	    sed 's/.*"wall": \([0-9.]*\).*/\1/'
}

t_ingest=$(wall pipe "cd '$maildir/cur' && xargs -P 4 -I{} sh -c \
    'BOUNCED_CONFIG=$PWD/$cfg BOUNCED_DATABASE_URL=\"$dburl\" \
    $PWD/bounced/bounced ingest < {}' < $PWD/$work/pipe-list")
stored=$(psql -tA "$dburl" -c 'SELECT count(*) FROM messages')
t_psql_proc=$(wall psql-proc "seq 1 $n | xargs -P 4 -I{} psql -q \
    '$dburl' -c \"INSERT INTO bench_rows (recipient, body) VALUES \
    ('r{}@example.org', '\\\\x00')\"")
t_psql_sess=$(wall psql-session "for w in 1 2 3 4; do (seq 1 \
    $((n / 4)) | sed \"s/.*/INSERT INTO bench_rows (recipient, body) \
    VALUES ('s&@example.org', '\\\\\\\\x00');/\" | psql -q '$dburl' \
    >/dev/null) & done; wait")
rate() { awk "BEGIN { printf \"%.0f\", $n / $1 }"; }
echo "pipe case: $n messages, 4 in parallel ($stored stored)"
printf '  bounced ingest, a process per message:   %6s messages/s (%.2f s)\n' \
    "$(rate "$t_ingest")" "$t_ingest"
printf '  psql, a process per INSERT transaction:  %6s rows/s     (%.2f s)\n' \
    "$(rate "$t_psql_proc")" "$t_psql_proc"
printf '  psql, one session, autocommit INSERTs:   %6s rows/s     (%.2f s)\n' \
    "$(rate "$t_psql_sess")" "$t_psql_sess"
printf '  bounced ingest / psql per process: %.2fx\n' \
    "$(awk "BEGIN { print $t_psql_proc / $t_ingest }")"
