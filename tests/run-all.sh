#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds Wattbus twice and runs every test in both builds:
#   1. _build-test: gcc, the normal build (fuzz targets replay their seed corpora);
#   2. _build-asan: clang with AddressSanitizer and UndefinedBehaviorSanitizer, the
#      libFuzzer targets fuzzing for a bounded time (FUZZ_SECONDS, default 20). No GIR
#      there (g-ir-scanner cannot run a sanitized dumper), so the Python-through-GI
#      tests run in the first build only.
# A skipped test counts as a failure. Run .ci/install-deps first (the README's
# test command does both).
set -eu
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
JOBS=${JOBS:-$(nproc)}
# each integration test is one daemon, one bus and a few emulators: run several at once
TEST_JOBS=${TEST_JOBS:-$((JOBS * 2))}

run_suite() {
	dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@"
	else
		meson setup --reconfigure "$dir" "$@" >/dev/null
	fi
	meson compile -C "$dir"
	meson test -C "$dir" --print-errorlogs --num-processes "$TEST_JOBS"
	# a skipped test is a test that did not run
	if grep -q '"result": "SKIP"' "$dir/meson-logs/testlog.json"; then
		echo "error: skipped tests in $dir:" >&2
		grep '"result": "SKIP"' "$dir/meson-logs/testlog.json" >&2
		exit 1
	fi
}

echo "== build and test (gcc)"
CC=gcc run_suite _build-test -Dwerror=true

echo "== build and test with ASan + UBSan, fuzzing ${FUZZ_SECONDS}s per target (clang)"
CC=clang run_suite _build-asan -Db_sanitize=address,undefined -Db_lundef=false \
	-Dfuzzing=true -Dfuzz_seconds="$FUZZ_SECONDS" -Dintrospection=false

# one plain closing line over both builds
passed=0
failed=0
for dir in _build-test _build-asan; do
	p=$(grep -c '"result": "OK"' "$dir/meson-logs/testlog.json" || true)
	f=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$dir/meson-logs/testlog.json" || true)
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "all tests passed in both builds"
echo "tests: $passed passed, $failed failed"
