#!/bin/sh
# deps.sh - install what bounced needs to build, test and run on Debian 12.
#
# As root it runs apt-get; otherwise it prints the exact apt-get line and
# fails, so nothing is half-installed behind your back.  Checks are by
# pkg-config module or command, so a machine that has everything is not
# touched at all.
set -u

# package: how to tell it is there
need=""
want() { need="$need $1"; }

command -v cc >/dev/null 2>&1 || want gcc
command -v make >/dev/null 2>&1 || want make
command -v pkg-config >/dev/null 2>&1 || want pkg-config
pc() { pkg-config --exists "$1" 2>/dev/null || want "$2"; }
pc gmime-3.0 libgmime-3.0-dev
pc json-c libjson-c-dev
pc libcurl libcurl4-openssl-dev
pc libpq libpq-dev
pc check check
pc libcrypto libssl-dev
# the private PostgreSQL cluster needs the server binaries (initdb, pg_ctl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want postgresql
command -v psql >/dev/null 2>&1 || want postgresql-client
command -v python3 >/dev/null 2>&1 || want python3
command -v curl >/dev/null 2>&1 || want curl
# `make bench` compares with Sisimai; hyperfine is not needed
if [ "${BOUNCED_DEPS_BENCH:-0}" = 1 ]; then
	[ -f /usr/share/perl5/Sisimai.pm ] || want libsisimai-perl
fi

[ -z "$need" ] && exit 0
line="apt-get install -y --no-install-recommends$need"
# Debian's server package creates and starts a system cluster
# (postgresql@15-main) on first install.  bounced runs its own private
# cluster (scripts/pg.sh) and needs no system service, so when the server
# is installed here for the first time, postgresql-common is told first
# not to create one (create_main_cluster, pg_createcluster(1)).
nomain="create_main_cluster = false"
ccconf=/etc/postgresql-common/createcluster.conf
case " $need " in
*" postgresql "*) fresh_pg=1 ;;
*) fresh_pg=0 ;;
esac
[ -e "$ccconf" ] && fresh_pg=0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing:$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || { echo "deps: apt-get update failed; run: apt-get update && $line" >&2; exit 1; }
	if [ "$fresh_pg" = 1 ]; then
		apt-get install -y -qq --no-install-recommends postgresql-common \
		    >/dev/null || { echo "deps: apt-get failed; run as root:" \
		    "apt-get install postgresql-common" >&2; exit 1; }
		sed -i "s/^#* *create_main_cluster *=.*/$nomain/" "$ccconf"
		grep -q "^$nomain" "$ccconf" || echo "$nomain" >> "$ccconf"
		echo "deps: $ccconf: $nomain (bounced uses its own private cluster)"
	fi
	apt-get install -y -qq --no-install-recommends $need >/dev/null || {
		echo "deps: apt-get failed; run as root: $line" >&2; exit 1; }
	exit 0
fi
echo "deps: missing packages:$need" >&2
if [ "$fresh_pg" = 1 ]; then
	echo "deps: run as root:  apt-get update && apt-get install -y postgresql-common && echo '$nomain' >> $ccconf && $line" >&2
	echo "deps: (the middle step keeps Debian from creating and starting a system PostgreSQL cluster bounced does not use)" >&2
else
	echo "deps: run as root:  apt-get update && $line" >&2
fi
exit 1
