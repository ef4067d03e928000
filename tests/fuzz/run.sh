#!/bin/sh
# run.sh [ROUNDS] - mutation fuzzing of `bounced parse` under ASan and
# UBSan: each round writes 2,000 mutated copies of the project's own
# fixtures and examples (and of $FUZZ_SEEDS, a folder of more .eml files,
# when set) and parses them with the SAN build.  Any sanitizer report or
# crash stops it; the round's inputs stay in build/fuzz/ to reproduce it
# (`build/san/bounced/bounced parse build/fuzz/m01234.eml`).
# FUZZ_BIN runs another binary.
# Not part of `make check` (it is a search, not a test); `make fuzz`.
set -eu
rounds=${1:-5}
out=build/fuzz
bin=${FUZZ_BIN:-build/san/bounced/bounced}
seeds="tests/fixtures/parse examples/bounces ${FUZZ_SEEDS:-}"
r=1
while [ "$r" -le "$rounds" ]; do
	rm -rf "$out"
	python3 tests/fuzz/mutate.py $seeds -o "$out" -n 2000 -s "$r"
	rc=0
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    "$bin" parse --json "$out"/*.eml > /dev/null 2> "$out/stderr" ||
	    rc=$?
	# parse exits 0 on any input it could read; a sanitizer report or
	# a signal is a fault
	if [ "$rc" -ge 128 ] ||
	    grep -q -E "Sanitizer|runtime error" "$out/stderr"; then
		grep -E -m 3 "ERROR|SUMMARY|runtime error" "$out/stderr"
		echo "fuzz: round $r (seed $r) found a fault (exit $rc);" \
		    "inputs and report in $out/ (stderr)" >&2
		exit 1
	fi
	echo "fuzz: round $r: 2000 inputs, no fault"
	r=$((r + 1))
done
