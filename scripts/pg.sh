#!/bin/sh
# pg.sh - a private PostgreSQL cluster for newcomers and tests.
#
#   scripts/pg.sh start          create the cluster on first use, start it,
#                                create the `bounced` database (idempotent:
#                                an already running cluster is fine)
#   scripts/pg.sh stop [MODE]    stop it (MODE: fast, the default, smart or
#                                immediate, as pg_ctl takes them); a stopped
#                                cluster is fine
#   scripts/pg.sh url            print the libpq URL to give bounced, e.g.
#                                postgresql://bounced@/bounced?host=/abs/.local/pg/socket
#   scripts/pg.sh status         say whether it runs (exit 0 when it does,
#                                3 when it does not, 4 when there is none)
#   scripts/pg.sh psql [ARGS]    psql connected to the bounced database
#
# Typical use:
#   scripts/pg.sh start
#   export BOUNCED_DATABASE_URL="$(scripts/pg.sh url)"
#   bounced db migrate
#
# Where: .local/pg/ at the top of the repository (git-ignored), or
# $BOUNCED_PG_DIR.  data/ holds the cluster, socket/ its Unix socket, log
# the server log.  Remove the folder (after `stop`) to start afresh.
#
# What it is: initdb with trust authentication, UTF-8 and the C locale,
# listening on a Unix socket only (listen_addresses = ''), in a socket
# directory only its owner can enter; no TCP port, no system service.
# Durability is PostgreSQL's default (fsync on, synchronous_commit on): the
# numbers measured against it are the numbers of a real installation.
#
# Security: trust authentication is safe here only because the socket is
# the only way in and its directory is mode 0700.  Do not copy this set-up
# to a shared machine's system cluster.
#
# Root: initdb and the server refuse to run as root.  Run as root (this
# is how CI runs), the script runs them as the `postgres` user that the
# Debian package creates (or $BOUNCED_PG_USER), which then owns the
# cluster folder; root itself can still reach the socket.  The folder must
# be reachable by that user: every parent directory searchable (mode o+x).
#
# Binaries: $PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else
# PATH.  `make deps` (scripts/deps.sh) installs them on Debian.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
pgdir=${BOUNCED_PG_DIR:-$root/.local/pg}
data=$pgdir/data
socket=$pgdir/socket
logfile=$pgdir/log
dbname=bounced
dbuser=bounced

die() {
	echo "pg.sh: $*" >&2
	exit 1
}

find_bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		[ -x "$PG_BINDIR/initdb" ] ||
			die "no initdb in PG_BINDIR=$PG_BINDIR"
		echo "$PG_BINDIR"
		return
	fi
	# sort -V: 9.6 < 13 < 15
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		echo "$d"
		return
	fi
	if command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return
	fi
	die "PostgreSQL server binaries (initdb, pg_ctl) not found; install" \
	    "them with \`make deps\` (Debian package postgresql) or set PG_BINDIR"
}

# as_owner CMD...: run CMD as the cluster's owner (ourselves unless root)
owner=
as_owner() {
	if [ -n "$owner" ]; then
		runuser -u "$owner" -- "$@"
	else
		"$@"
	fi
}

setup_owner() {
	[ "$(id -u)" = 0 ] || return 0
	owner=${BOUNCED_PG_USER:-postgres}
	id "$owner" >/dev/null 2>&1 ||
		die "running as root, and user '$owner' (who will own the" \
		    "cluster: PostgreSQL refuses to run as root) does not" \
		    "exist; create it (useradd --system $owner) or set" \
		    "BOUNCED_PG_USER to an unprivileged user"
	command -v runuser >/dev/null 2>&1 ||
		die "running as root needs runuser (util-linux) to run" \
		    "PostgreSQL as '$owner'"
}

# libpq URLs take the socket directory as a query parameter; escape what
# would end it
urlencode() {
	printf '%s' "$1" | sed -e 's/%/%25/g' -e 's/ /%20/g' -e 's/&/%26/g' \
	    -e 's/#/%23/g' -e 's/?/%3F/g' -e 's/=/%3D/g' -e 's/+/%2B/g'
}

url() {
	echo "postgresql://$dbuser@/$dbname?host=$(urlencode "$socket")"
}

init_cluster() {
	bindir=$1
	# the socket path (with ".s.PGSQL.5432") must fit in sun_path
	[ ${#socket} -le 90 ] ||
		die "$socket is too long for a Unix socket path;" \
		    "set BOUNCED_PG_DIR to a shorter folder"
	mkdir -p "$pgdir"
	if [ -n "$owner" ]; then
		chown "$owner" "$pgdir"
		as_owner test -w "$pgdir" ||
			die "user '$owner' cannot write $pgdir: a parent" \
			    "folder is not searchable by others (chmod o+x" \
			    "it) or set BOUNCED_PG_DIR to a folder it can reach"
	fi
	chmod 700 "$pgdir"
	as_owner mkdir -p "$socket"
	as_owner chmod 700 "$socket"
	echo "pg.sh: creating a private cluster in $data" >&2
	as_owner "$bindir/initdb" -D "$data" -U "$dbuser" --auth=trust \
	    -E UTF8 --locale=C >"$pgdir/initdb.log" 2>&1 ||
		die "initdb failed; see $pgdir/initdb.log"
	# Unix socket only; durability settings stay at their defaults
	as_owner sh -c "cat >>'$data/postgresql.conf'" <<EOF

# --- scripts/pg.sh: private cluster, Unix socket only ---
listen_addresses = ''
unix_socket_directories = '$socket'
unix_socket_permissions = 0700
EOF
}

running() {
	[ -f "$data/PG_VERSION" ] || return 1
	as_owner "$1/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
	bindir=$(find_bindir)
	[ -f "$data/PG_VERSION" ] || init_cluster "$bindir"
	if ! running "$bindir"; then
		as_owner "$bindir/pg_ctl" -D "$data" -l "$logfile" -w -t 120 \
		    start >/dev/null ||
			die "the server did not start; see $logfile"
	fi
	# the database bounced uses; psql runs as the caller, over the socket
	exists=$("$bindir/psql" -X -q -A -t -h "$socket" -U "$dbuser" \
	    -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$dbname'") ||
		die "cannot connect to the private cluster at $socket; see $logfile"
	if [ "$exists" != 1 ]; then
		"$bindir/createdb" -h "$socket" -U "$dbuser" "$dbname" ||
			die "cannot create database $dbname"
	fi
}

stop() {
	mode=${1:-fast}
	case $mode in
	smart | fast | immediate) ;;
	*) die "stop: mode is smart, fast or immediate, not '$mode'" ;;
	esac
	bindir=$(find_bindir)
	if running "$bindir"; then
		as_owner "$bindir/pg_ctl" -D "$data" -m "$mode" -w -t 120 \
		    stop >/dev/null || die "the server did not stop; see $logfile"
	fi
}

status() {
	bindir=$(find_bindir)
	if [ ! -f "$data/PG_VERSION" ]; then
		echo "no private cluster in $data (scripts/pg.sh start makes one)"
		exit 4
	fi
	if running "$bindir"; then
		echo "running: $(url)"
		exit 0
	fi
	echo "stopped: $data"
	exit 3
}

setup_owner
cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
start) start ;;
stop) stop "$@" ;;
url) url ;;
status) status ;;
psql)
	bindir=$(find_bindir)
	exec "$bindir/psql" -X "$(url)" "$@"
	;;
*)
	echo "usage: scripts/pg.sh start | stop [fast|immediate] | url |" \
	    "status | psql [ARGS]" >&2
	exit 64
	;;
esac
