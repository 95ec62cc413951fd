#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Concurrency stress on a real mount: 8 threads pread and mmap overlapping ranges of the same
# and different files while others open and close them (VMO reclaim racing page requests),
# with a 1 MiB page cache so pages are evicted and supplied again all the time. Every byte is
# checked against the pattern the files were written with, over io_uring (when the kernel and
# libfuse have it; root turns the switch on) and over /dev/fuse. CI runs it on the normal, ASan
# and ThreadSanitizer daemons.
source "$(dirname "$0")/lib.sh"
need_root
seconds=${EXT4PAGER_STRESS_SECONDS:-12} # on each transport
src=$WORK/src img=$WORK/stress.img
mkdir -p "$src"
python3 - "$src" <<'PY'
import struct, sys
for k, size in enumerate([3 << 20, 1 << 20, 2 << 20 | 12345, 300000, 4 << 20, 70000]):
    words = (k * 0x9E3779B97F4A7C15 + o & (1 << 64) - 1 for o in range(0, size + 8, 8))
    data = b"".join(struct.pack("<Q", w) for w in words)[:size]
    open(f"{sys.argv[1]}/f{k}", "wb").write(data)
PY
mkfs.ext4 -q -F -b 1024 -O ^has_journal -d "$src" "$img" 32M >/dev/null
stress=$WORK/stress
cc -O1 -pthread -o "$stress" "$REPO/tests/integration/faults/stress.c"
# On each transport: over io_uring requests for one file arrive on several queues' threads.
transports=off
uring_possible && transports="on off"
for transport in $transports; do
	mnt=$WORK/mnt-$transport
	mount_fuse "$img" "$mnt" -o cache_size=1M,io_uring=$transport
	if "$stress" "$mnt" 6 "$seconds" 8; then
		pass "io_uring=$transport: concurrent pread/mmap/open/close, every byte checked"
	else
		fail "io_uring=$transport: mismatches or errors"
	fi
	stats=$(getfattr --only-values -n ext4pager.stats "$mnt" 2>/dev/null || true)
	evicted=$(awk '$1 == "pages_evicted" { print $2 }' <<<"$stats")
	reclaimed=$(awk '$1 == "vmos_reclaimed" { print $2 }' <<<"$stats")
	[ "${evicted:-0}" -gt 0 ] && [ "${reclaimed:-0}" -gt 0 ] &&
		pass "io_uring=$transport: eviction ($evicted pages) and reclaim ($reclaimed VMOs)" ||
		fail "io_uring=$transport: no eviction/reclaim (evicted=${evicted:-?} reclaimed=${reclaimed:-?})"
	unmount_fuse "$mnt"
done
finish
