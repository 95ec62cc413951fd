#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configures and builds one flavour of ext4pager. Idempotent.
# usage: scripts/build.sh [normal|asan|tsan|fuzz]   → build/, build-asan/, build-tsan/, build-fuzz/
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
flavour=${1:-normal}
case $flavour in
normal) dir=$here/build; san="" ;;
asan) dir=$here/build-asan; san=address ;;
tsan) dir=$here/build-tsan; san=thread; cc=clang ;; # clang also checks the lock annotations
fuzz) dir=$here/build-fuzz; san=fuzzer ;;
*) echo "usage: $0 [normal|asan|tsan|fuzz]" >&2; exit 2 ;;
esac
# The project's libfuse (3.18, FUSE over io_uring): fetched and built once, then cached.
"$here/scripts/libfuse.sh" >/dev/null
if [ "$flavour" = fuzz ]; then
	CC=clang cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXT4PAGER_SANITIZE=fuzzer -DEXT4PAGER_TESTS=OFF >/dev/null
else
	CC=${cc:-cc} cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXT4PAGER_SANITIZE="$san" -DEXT4PAGER_TESTS=ON >/dev/null
fi
cmake --build "$dir" -j "$(nproc)" >/dev/null
echo "built $dir/ext4pager"
