#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Images whose journal needs recovery (scripts/make-journal-images.sh): ext4pager replays the
# journal in memory and must show exactly what the kernel shows after its own replay (done on a
# scratch copy through a writable loop device, then mounted ro); the image is never written.
# -o norecovery is compared with the kernel's ro,norecovery view; a journal broken in the
# middle replays up to the break as the kernel's does; a corrupt journal superblock is refused.
source "$(dirname "$0")/lib.sh"
need_root
set +e # every step reports its own failure
HERE=$(dirname "$0")
JIMAGES=$IMAGES/journal
"$REPO/scripts/make-journal-images.sh" "$JIMAGES" || { fail "could not build the journal images"; finish; }
LOOPS=()
trap 'for d in "${LOOPS[@]}"; do umount "$d" 2>/dev/null; done; for l in $(losetup -j "$WORK/ref.img" -O NAME -n 2>/dev/null); do losetup -d "$l"; done; cleanup' EXIT

# kernel_recovered IMAGE DIR: the kernel's view after its own replay of a scratch copy.
kernel_recovered() {
	local dev
	cp --sparse=always "$1" "$WORK/ref.img"
	dev=$(losetup -f --show "$WORK/ref.img") || return 1
	mkdir -p "$2"
	if ! mount -o ro "$dev" "$2"; then
		losetup -d "$dev"
		return 1
	fi
	LOOPS+=("$2")
	MOUNTS+=("$2")
}
kernel_release() { umount "$1"; losetup -j "$WORK/ref.img" -O NAME -n | xargs -r -n1 losetup -d; }

stat_of() { getfattr --only-values -n ext4pager.stats "$1" 2>/dev/null | awk -v k="$2" '$1 == k { print $2 }'; }

compare_views() { # LABEL KERNEL FUSE → 0 when identical
	python3 "$HERE/compare.py" --label "$1" "$2" "$3" >"$WORK/cmp.txt" 2>&1
	local rc=$?
	[ $rc -ne 0 ] && tail -15 "$WORK/cmp.txt"
	return $rc
}

for img in "$JIMAGES"/*.img; do
	name=$(basename "$img" .img)
	sum=$(sha256sum <"$img")
	k=$WORK/k-$name f=$WORK/f-$name
	kernel_recovered "$img" "$k" || { fail "$name: the kernel could not recover its copy"; continue; }
	mount_fuse "$img" "$f" || continue
	if compare_views "$name" "$k" "$f"; then
		pass "$name: replayed view matches the kernel's recovered view ($(tail -1 "$WORK/cmp.txt")); transactions $(stat_of "$f" journal_transactions), overlay $(stat_of "$f" journal_overlay_blocks) blocks / $(stat_of "$f" journal_overlay_bytes) bytes, revoked $(stat_of "$f" journal_blocks_revoked)"
	else
		fail "$name: replayed view differs from the kernel's"
	fi
	[ "$(stat_of "$f" journal_replayed)" = 1 ] && [ "$(stat_of "$f" journal_transactions)" -gt 0 ] ||
		fail "$name: stats do not show a replay"
	unmount_fuse "$f"
	# norecovery: the last checkpointed state, as the kernel's ro,norecovery shows it; it must
	# differ from the recovered view (or replay would not have mattered).
	mount_kernel "$img" "$k-nr" "norecovery"
	mount_fuse "$img" "$f-nr" -o norecovery
	if compare_views "$name-norecovery" "$k-nr" "$f-nr"; then
		pass "$name: -o norecovery matches the kernel's ro,norecovery ($(tail -1 "$WORK/cmp.txt"))"
	else
		fail "$name: -o norecovery differs from the kernel's"
	fi
	python3 "$HERE/compare.py" --label x --no-content "$k" "$f-nr" >/dev/null 2>&1 &&
		fail "$name: the unreplayed state equals the recovered one: the image tests nothing" ||
		pass "$name: unreplayed and recovered states differ"
	unmount_fuse "$f-nr"
	umount "$k-nr"
	kernel_release "$k"
	[ "$(sha256sum <"$img")" = "$sum" ] && pass "$name: image unchanged" || fail "$name: image was written"
done

# A journal broken in the middle: the commit block of the last transaction zeroed. The kernel
# replays the transactions before it; so must ext4pager.
src=$JIMAGES/csum-v3-64bit.img
cp --sparse=always "$src" "$WORK/broken.img"
last_commit=$(debugfs -R logdump "$WORK/broken.img" 2>/dev/null | sed -nE 's/.*type 2 \(commit block\) at block ([0-9]+).*/\1/p' | tail -1)
phys=$(debugfs -R "bmap <8> $last_commit" "$WORK/broken.img" 2>/dev/null)
bs=$(dumpe2fs -h "$WORK/broken.img" 2>/dev/null | awk '/^Block size:/ { print $3 }')
dd if=/dev/zero of="$WORK/broken.img" bs="$bs" seek="$phys" count=1 conv=notrunc status=none
kernel_recovered "$WORK/broken.img" "$WORK/k-broken" && mount_fuse "$WORK/broken.img" "$WORK/f-broken" && {
	want=$(($(debugfs -R logdump "$src" 2>/dev/null | grep -c 'commit block') - 1))
	got=$(stat_of "$WORK/f-broken" journal_transactions)
	[ "$got" = "$want" ] && pass "broken log: replayed the $got transactions before the zeroed commit" ||
		fail "broken log: replayed $got transactions, expected $want"
	compare_views broken "$WORK/k-broken" "$WORK/f-broken" && pass "broken log: matches the kernel's recovery" ||
		fail "broken log: differs from the kernel's recovery"
	unmount_fuse "$WORK/f-broken"
	kernel_release "$WORK/k-broken"
}

# A corrupt journal superblock: refused with one clear line.
cp --sparse=always "$src" "$WORK/badjsb.img"
phys=$(debugfs -R "bmap <8> 0" "$WORK/badjsb.img" 2>/dev/null)
printf '\x00\x00\x00\x00' | dd of="$WORK/badjsb.img" bs=1 seek=$((phys * bs)) conv=notrunc status=none
mkdir -p "$WORK/nomount"
out=$("$EXT4PAGER" -f "$WORK/badjsb.img" "$WORK/nomount" 2>&1) && fail "corrupt journal superblock mounted" ||
	{ grep -q "journal needs recovery and cannot be replayed: the journal superblock is corrupt" <<<"$out" &&
		[ "$(echo "$out" | wc -l)" = 1 ] && pass "corrupt journal superblock refused: $out" || fail "corrupt jsb message: $out"; }
"$EXT4PAGER" -f -o norecovery "$WORK/badjsb.img" "$WORK/nomount" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q " $WORK/nomount " /proc/mounts && break; sleep 0.05; done
grep -q " $WORK/nomount " /proc/mounts && pass "corrupt journal superblock: -o norecovery still mounts" ||
	fail "-o norecovery with a corrupt journal superblock did not mount"
fusermount3 -u "$WORK/nomount" 2>/dev/null; wait $pid
finish
