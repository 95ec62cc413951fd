#!/usr/bin/env bash
# Configures and builds one flavour of ext4pager. Idempotent.
# usage: scripts/build.sh [normal|asan|tsan]   → build/, build-asan/, build-tsan/
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
flavour=${1:-normal}
case $flavour in
normal) dir=$here/build; san="" ;;
asan) dir=$here/build-asan; san=address ;;
tsan) dir=$here/build-tsan; san=thread ;;
*) echo "usage: $0 [normal|asan|tsan]" >&2; exit 2 ;;
esac
cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXT4PAGER_SANITIZE="$san" -DEXT4PAGER_TESTS=ON >/dev/null
cmake --build "$dir" -j "$(nproc)" >/dev/null
echo "built $dir/ext4pager"
