#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What this machine's kernel cannot show, against a kernel that can: Debian 12's own, booted in a
# virtual machine by scripts/kernel-vm.sh (it carries CONFIG_UNICODE and the essiv template).
# The guest (vm_guest/run.sh) makes, on an empty ext4 with encrypt and casefold, directories with
# AES-128-CBC-ESSIV contents and AES-128-CTS names (v1 and v2 policies), casefolded directories,
# and an encrypted and casefolded one; then records its kernel's view of them with
# vm_guest/listing.sh, with the keys and without. Here, ext4pager mounts the image the guest left
# — with the same keys as -o key=FILE, and without — and the same listing, by the same busybox
# tools, must come out byte for byte: every path in readdir order with its inode, size, mode,
# links, owner and times; every file's SHA-256 or its error; every symlink's target; every
# directory's getdents order; and lookups of other spellings in the casefolded directories.
# A second image holds Adiantum directories (with and without DIRECT_KEY), a mode ext4pager does
# not decrypt: with the key given, it must still show exactly the kernel's no-key view.
source "$(dirname "$0")/lib.sh"
need_root
set +e
HERE=$(dirname "$0")
guest=$WORK/guest out=$WORK/out img=$WORK/vm.img f=$WORK/f
helper=$guest/fscrypt_helper
mkdir -p "$guest" "$WORK/bb"
# static: the guest has busybox and nothing else
cc -static -O2 -Wall -Wextra -Werror -o "$helper" "$HERE/fscrypt_helper.c" ||
	{ echo "FAIL: cannot build the helper"; exit 1; }
cp "$HERE/vm_guest/run.sh" "$HERE/vm_guest/listing.sh" "$guest/"
head -c 64 /dev/urandom >"$guest/key2"
head -c 64 /dev/urandom >"$guest/key1"
# the descriptor e4crypt and fscrypt give a v1 key: the first 8 bytes of SHA-512(SHA-512(key))
python3 -c 'import hashlib, sys; k = open(sys.argv[1], "rb").read(); print(hashlib.sha512(hashlib.sha512(k).digest()).hexdigest()[:16])' \
	"$guest/key1" >"$guest/key1.desc"
mkfs.ext4 -q -F -b 4096 -O encrypt,casefold,stable_inodes "$img" 64M >/dev/null
adiantum=$WORK/adiantum.img
mkfs.ext4 -q -F -b 4096 -O encrypt "$adiantum" 32M >/dev/null

if ! "$REPO/scripts/kernel-vm.sh" "$guest" "$out" "$img" "$adiantum"; then
	fail "Debian's kernel did not run the guest"
	finish
fi
if [ "$(cat "$out/rc" 2>/dev/null)" != 0 ]; then
	fail "the guest failed: $(tail -5 "$out/guest.log" 2>/dev/null)"
	finish
fi
pass "Debian's kernel $(ls "${KERNEL_VM_CACHE:-$REPO/build/kernel-vm}/root/lib/modules" 2>/dev/null) made the trees and listed them"
e2fsck -fn "$img" >"$WORK/fsck.txt" 2>&1 && pass "e2fsck -fn: the guest left a clean filesystem" ||
	{ fail "e2fsck -fn on the guest's image:"; tail -5 "$WORK/fsck.txt"; }
sum=$(sha256sum <"$img")
/bin/busybox --install -s "$WORK/bb"

# compare_listing NAME EXPECTED [LOOKUPS]: ext4pager's listing of $f against the guest's
compare_listing() {
	local name=$1 expected=$2 got=$WORK/listing.txt paths
	PATH=$WORK/bb HELPER=$helper /bin/busybox sh "$HERE/vm_guest/listing.sh" "$f" ${3:+"$3"} >"$got" 2>&1
	paths=$(sed '/^== contents/q' "$expected" | grep -c '^\./')
	if [ "$paths" -lt 2 ]; then
		fail "$name: the guest's listing is empty"
	elif cmp -s "$expected" "$got"; then
		pass "$name: identical to Debian's kernel ($paths paths${3:+, $(grep -c ': [0-9]*$' "$got") lookups that find})"
	else
		fail "$name: differs from Debian's kernel (< kernel, > ext4pager):"
		diff "$expected" "$got" | head -20
	fi
}

if mount_fuse "$img" "$f" -o key="$guest/key2",key="$guest/key1"; then
	compare_listing "with the keys" "$out/withkey.txt" "$out/lookups.txt"
	# what listing.sh reads with read(2), mmap must see too
	python3 - "$f" >"$WORK/mmap.txt" 2>&1 <<'EOF'
import mmap, os, sys
bad = checked = 0
for top in ("essiv-v1", "essiv-v2", "ci-v2"):
    for root, _, files in os.walk(os.path.join(sys.argv[1], top)):
        for name in files:
            p = os.path.join(root, name)
            if os.path.islink(p):
                continue
            data = open(p, "rb").read()
            if data:
                with open(p, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
                    bad += m[:] != data
            checked += 1
print(f"{checked} files, {bad} differ")
sys.exit(1 if bad or not checked else 0)
EOF
	[ $? -eq 0 ] && pass "mmap reads what read(2) reads: $(cat "$WORK/mmap.txt")" || fail "mmap: $(cat "$WORK/mmap.txt")"
	stats=$("$EXT4PAGER" --stats "$f")
	[[ $stats == *"fscrypt_unsupported_policies 0"* ]] && pass "--stats: no policy left undecrypted" ||
		fail "--stats: $(grep fscrypt <<<"$stats")"
	unmount_fuse "$f"
fi
if mount_fuse "$img" "$f"; then
	compare_listing "without keys (the no-key view)" "$out/nokey.txt" "$out/lookups.txt"
	unmount_fuse "$f"
fi
asum=$(sha256sum <"$adiantum")
for key in "" "$guest/key2"; do
	label="Adiantum, without the key"
	[ -z "$key" ] || label="Adiantum, with the key"
	if mount_fuse "$adiantum" "$f" ${key:+-o key="$key"}; then
		compare_listing "$label: the kernel's no-key view" "$out/adiantum-nokey.txt"
		stats=$("$EXT4PAGER" --stats "$f")
		[ -z "$key" ] || [[ $stats != *"fscrypt_unsupported_policies 0"* ]] &&
			pass "$label: --stats $(grep unsupported <<<"$stats")" ||
			fail "$label: not counted as unsupported"
		unmount_fuse "$f"
	fi
done
[ "$(sha256sum <"$img")" = "$sum" ] && [ "$(sha256sum <"$adiantum")" = "$asum" ] &&
	pass "images unchanged" || fail "an image changed"
finish
