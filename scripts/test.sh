#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's second command (and all .ci/run does): installs what is missing, builds the
# normal, ASan+UBSan and TSan flavours and the Debian package, and runs every test. Idempotent;
# any directory. With --fast: the normal build's tests not labelled slow (under two minutes).
# usage: scripts/test.sh [--fast]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "--fast" "$@"
fast=0
case ${1:-} in
--fast) fast=1 ;;
"") ;;
*) show_usage >&2; exit 2 ;;
esac
export EXT4PAGER_TEST_IMAGES=$here/build/test-images
status=0
run_ctest() { # DIR LABEL [ctest args]
	local dir=$1 label=$2
	shift 2
	echo "=== $label"
	(cd "$dir" && ctest --output-on-failure "$@") || status=1
}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

if [ $fast -eq 1 ]; then
	"$here/scripts/deps.sh" build test
	"$here/scripts/build.sh" normal
	"$here/scripts/make-test-images.sh" "$EXT4PAGER_TEST_IMAGES"
	run_ctest "$here/build" "normal build: the tests not labelled slow" -LE slow
	exit $status
fi

"$here/scripts/deps.sh" build test package
for flavour in normal asan tsan; do
	"$here/scripts/build.sh" "$flavour"
done
"$here/scripts/make-test-images.sh" "$EXT4PAGER_TEST_IMAGES"
# The Debian package: built, checked with lintian, and installed and removed by test_install.
EXT4PAGER_DEB=$("$here/scripts/package.sh") || { echo "=== Debian package: FAILED"; status=1; EXT4PAGER_DEB=; }
export EXT4PAGER_DEB
# The corruption suite: 120 images on each build, different ones (cases 0-119 and 120-239).
EXT4PAGER_CORRUPTION_CASES=120 EXT4PAGER_CORRUPTION_FIRST=0 \
	run_ctest "$here/build" "normal build: unit and integration tests"
unset EXT4PAGER_DEB
# Under the sanitizers the conformance suite takes the images that exercise the most distinct
# parsers (inline data, bigalloc, block maps, the journal's ext3; the htree parser is fuzzed);
# the normal build above compares every image. The image-source test skips the VM formats that
# only exercise qemu's parsers (EXT4PAGER_SOURCES_QUICK).
EXT4PAGER_SOURCES_QUICK=1 \
	EXT4PAGER_CONFORMANCE_IMAGES="sample ext4-inline ext4-bigalloc ext2-1k ext3-1k" \
	EXT4PAGER_SEEK_IMAGES="ext2-1k ext3-1k ext4-inline ext4-bigalloc" \
	EXT4PAGER_CORRUPTION_CASES=120 EXT4PAGER_CORRUPTION_FIRST=120 \
	run_ctest "$here/build-asan" "AddressSanitizer + UndefinedBehaviorSanitizer: unit and integration tests"
# ThreadSanitizer (clang, which also checks the lock annotations at build time): the concurrent
# parts — the data path's unit tests, the NBD source's concurrent readers, and the stress test
# on a real mount (the daemon instrumented; libfuse itself is not).
run_ctest "$here/build-tsan" "ThreadSanitizer: data-path unit tests and the concurrency stress" \
	-R 'unit_(page_source|supply|pager|read_path|source)|integration_test_stress'
# libFuzzer (ASan+UBSan) on the parsers, a short fixed time each; scripts/fuzz.sh runs longer.
echo "=== libFuzzer targets"
"$here/scripts/fuzz.sh" 12 || status=1
exit $status
