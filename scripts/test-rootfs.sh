#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The real-root-filesystem test on its own: builds (or reuses) the Debian minbase image with
# debootstrap and runs real programs chrooted in an ext4pager mount against the kernel's mount.
# usage: scripts/test-rootfs.sh [ROOTFS_IMAGE]     (as root; builds ext4pager if needed)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
"$here/scripts/deps.sh" build test
"$here/scripts/build.sh" normal
[ $# -gt 0 ] && export ROOTFS_IMAGE=$(realpath "$1")
exec bash "$here/tests/integration/test_rootfs.sh" "$here/build/ext4pager"
