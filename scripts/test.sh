#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's second command (and all .ci/run does): installs what is missing, builds the
# normal, ASan+UBSan and TSan flavours, and runs every test. Idempotent; any directory.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/deps.sh"
export EXT4PAGER_TEST_IMAGES=$here/build/test-images
status=0
for flavour in normal asan tsan; do
	"$here/scripts/build.sh" "$flavour"
done
"$here/scripts/make-test-images.sh" "$EXT4PAGER_TEST_IMAGES"
run_ctest() { # DIR LABEL [ctest args]
	local dir=$1 label=$2
	shift 2
	echo "=== $label"
	(cd "$dir" && ctest --output-on-failure "$@") || status=1
}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# The corruption suite: 120 images on each build, different ones (cases 0-119 and 120-239).
EXT4PAGER_CORRUPTION_CASES=120 EXT4PAGER_CORRUPTION_FIRST=0 \
	run_ctest "$here/build" "normal build: unit and integration tests"
# Under the sanitizers the conformance suite takes the images that exercise the most distinct
# parsers (inline data, bigalloc, block maps, the journal's ext3; the htree parser is fuzzed);
# the normal build above compares every image.
EXT4PAGER_CONFORMANCE_IMAGES="sample ext4-inline ext4-bigalloc ext2-1k ext3-1k" \
	EXT4PAGER_SEEK_IMAGES="ext2-1k ext3-1k ext4-inline ext4-bigalloc" \
	EXT4PAGER_CORRUPTION_CASES=120 EXT4PAGER_CORRUPTION_FIRST=120 \
	run_ctest "$here/build-asan" "AddressSanitizer + UndefinedBehaviorSanitizer: unit and integration tests"
# ThreadSanitizer: the concurrent parts — the pager unit tests and the stress test on a real
# mount (the daemon instrumented; libfuse itself is not).
run_ctest "$here/build-tsan" "ThreadSanitizer: pager unit tests and the concurrency stress" \
	-R 'unit_(pager|vmo)|integration_test_stress'
# libFuzzer (ASan+UBSan) on the parsers, a short fixed time each; scripts/fuzz.sh runs longer.
echo "=== libFuzzer targets"
"$here/scripts/fuzz.sh" 12 || status=1
exit $status
