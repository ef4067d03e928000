#!/bin/sh
# lint.sh LIBSO - house rules a compiler does not check:
#   - libbounce exports only bounce_* names (STYLE.md 1);
#   - no banned functions: strcpy, strcat, sprintf, vsprintf, gets,
#     strtok, atoi, atol (STYLE.md 8);
#   - SQL only in the store (store_*.c) and migration modules (STYLE.md 9).
set -u
so=$1
fail=0
strays=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep -v '^bounce_' || true)
if [ -n "$strays" ]; then
	echo "lint: libbounce exports names without the bounce_ prefix:" >&2
	echo "$strays" >&2
	fail=1
fi
banned=$(grep -nE '\<(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol)[[:space:]]*\(' \
	libbounce/*.c libbounce/*.h bounced/*.c bounced/*.h 2>/dev/null || true)
if [ -n "$banned" ]; then
	echo "lint: banned functions:" >&2
	echo "$banned" >&2
	fail=1
fi
sql=$(grep -lE 'PQexec|PQprepare' bounced/*.c 2>/dev/null | grep -vE 'bounced/(store_[a-z]+|migrate)\.c' || true)
if [ -n "$sql" ]; then
	echo "lint: SQL outside the store and migration modules: $sql" >&2
	fail=1
fi
[ $fail = 0 ] && echo "lint: ok"
exit $fail
