#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The image-source benchmark (not a test): the bench images (scripts/bench.sh --build-only) read
# by ext4pager from the raw file, an Android sparse image, a qcow2 and NBD exports, against
# converting first (simg2img, qemu-img convert) and mounting with the kernel or fuse2fs.
# Writes docs/PERFORMANCE-sources.md.
# usage: sudo scripts/bench-sources.sh [--runs N] [--out REPORT.md]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "--runs --out" "$@"
"$here/scripts/bench.sh" --build-only
exec python3 "$here/scripts/bench-sources.py" --ext4pager "$here/build/ext4pager" \
	--images "$here/build/bench" --out "$here/docs/PERFORMANCE-sources.md" "$@"
