#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Encrypted (fscrypt) directories, against the kernel. The kernel makes the images on a
# read-write loop mount (tests/integration/fscrypt_helper.c adds a v2 key and a v1 key and sets
# v2 policies — per-file keys, and IV_INO_LBLK_64 — and a v1 policy, AES-256-XTS/CTS, as fscryptctl
# would); unmounted, the keys are gone. Then, on each image:
#  - without keys: the kernel's read-only mount shows the no-key view (names, sizes, symlink
#    targets, ENOKEY) that ext4pager must show too;
#  - with keys: the same keys added to the kernel's read-only mount (FS_IOC_ADD_ENCRYPTION_KEY)
#    and given to ext4pager as -o key=FILE: names, contents (read and mmap), symlinks equal;
#  - a wrong key leaves the no-key view; a key file of a bad size is refused at mount.
# Each image: short and long (hashed) names, a subdirectory, short and block-sized symlinks, a
# 300-entry htree directory, files of several sizes, an unencrypted directory; once with inline
# data.
source "$(dirname "$0")/lib.sh"
need_root
set +e
HERE=$(dirname "$0")
helper=$WORK/fscrypt_helper
mkdir -p "$WORK/nomount"
cc -O2 -Wall -Wextra -Werror -o "$helper" "$HERE/fscrypt_helper.c" || { echo "FAIL: cannot build the helper"; exit 1; }
w=$WORK/rw

# The descriptor e4crypt and fscrypt give a v1 key: the first 8 bytes of SHA-512(SHA-512(key)).
v1_descriptor() {
	python3 -c 'import hashlib, sys; k = open(sys.argv[1], "rb").read(); print(hashlib.sha512(hashlib.sha512(k).digest()).hexdigest()[:16])' "$1"
}

# compare_views NAME KERNEL FUSE: compare.py (names, metadata, contents by read and mmap), the
# tools' outputs, and every symlink's target.
compare_views() {
	local name=$1 k=$2 f=$3 tool links_k links_f
	if python3 "$HERE/compare.py" --label "$name" "$k" "$f" >"$WORK/cmp.txt" 2>&1; then
		pass "$name: matches the kernel's view ($(tail -1 "$WORK/cmp.txt"))"
	else
		fail "$name: compare.py:"; tail -20 "$WORK/cmp.txt"
	fi
	for tool in "ls -lRAn --time-style=full-iso" "getfattr -R -h -d -m - --absolute-names" "lsattr -R -a"; do
		if cmp -s <(cd "$k" && $tool . 2>&1) <(cd "$f" && $tool . 2>&1); then
			pass "$name: ${tool%% *} identical"
		else
			fail "$name: ${tool%% *} differs"
			diff <(cd "$k" && $tool . 2>&1) <(cd "$f" && $tool . 2>&1) | head -10
		fi
	done
	links_k=$(cd "$k" && find . -type l -printf '%p -> %l\n' | sort)
	links_f=$(cd "$f" && find . -type l -printf '%p -> %l\n' | sort)
	[ -n "$links_k" ] && [ "$links_k" = "$links_f" ] && pass "$name: symlink targets identical" ||
		fail "$name: symlinks: $(diff <(echo "$links_k") <(echo "$links_f") | head -4)"
}

make_image() { # IMAGE MKFS-FEATURES
	local img=$1 id desc
	mkfs.ext4 -q -F -b 4096 -O "$2,stable_inodes" "$img" 64M >/dev/null # IV_INO_LBLK_64 needs it
	mkdir -p "$w"
	mount -o loop "$img" "$w" || { fail "rw mount of $img"; return 1; }
	head -c 64 /dev/urandom >"$WORK/key2"
	head -c 64 /dev/urandom >"$WORK/key1"
	desc=$(v1_descriptor "$WORK/key1")
	id=$("$helper" add_key "$w" "$WORK/key2") && "$helper" add_key_v1 "$w" "$WORK/key1" "$desc" ||
		{ fail "adding keys"; umount "$w"; return 1; }
	mkdir "$w/v2" "$w/v1" "$w/v2-lblk64" "$w/plain"
	"$helper" set_policy "$w/v2" v2 "$id" && "$helper" set_policy "$w/v1" v1 "$desc" &&
		"$helper" set_policy "$w/v2-lblk64" v2 "$id" 0x0a ||
		{ fail "setting policies"; umount "$w"; return 1; }
	for d in v2 v1 v2-lblk64; do
		echo "secret $d" >"$w/$d/short"
		for size in 1 4095 4096 4097 100000; do head -c $size /dev/urandom >"$w/$d/data-$size"; done
		echo x >"$w/$d/$(printf 'L%.0s' $(seq 1 200))" # > 149 bytes of ciphertext: hashed
		mkdir "$w/$d/sub"
		echo inner >"$w/$d/sub/inner"
		ln -s short "$w/$d/link"
		ln -s "$(printf 'T%.0s' $(seq 1 300))" "$w/$d/longlink"
		mkdir "$w/$d/big"
		for i in $(seq 1 300); do echo "$i" >"$w/$d/big/file-$i"; done
	done
	echo plain >"$w/plain/p"
	umount "$w" # the keys go with the mount
}

for variant in "encrypt" "encrypt,inline_data"; do
	name=${variant//,/+}
	img=$WORK/$name.img k=$WORK/k-$name f=$WORK/f-$name
	make_image "$img" "$variant" || continue
	sum=$(sha256sum <"$img")
	mount_kernel "$img" "$k"

	# Without keys: the no-key view.
	mount_fuse "$img" "$f" || continue
	compare_views "$name, no key" "$k" "$f"
	file=$(cd "$f" && find v2 -maxdepth 1 -type f | head -1)
	out=$(cat "$f/$file" 2>&1 >/dev/null)
	kout=$(cat "$k/$file" 2>&1 >/dev/null)
	[[ $out == *"Required key not available"* ]] && [ "${out##*: }" = "${kout##*: }" ] &&
		pass "$name: reading an encrypted file: ENOKEY, as on the kernel" || fail "$name: read: '$out' vs '$kout'"
	# The context xattr ("c", index 9) and names outside every namespace: EOPNOTSUPP, as the VFS.
	for n in c foo.bar system.data; do
		kx=$(getfattr -n "$n" "$k/v2" 2>&1 | tail -1) fx=$(getfattr -n "$n" "$f/v2" 2>&1 | tail -1)
		[ "${kx##*: }" = "${fx##*: }" ] && pass "$name: getxattr $n: ${fx##*: }" || fail "$name: getxattr $n: '$fx' vs '$kx'"
	done
	[ "$(cat "$f/plain/p")" = plain ] && pass "$name: the unencrypted directory reads normally" || fail "$name: plain file"
	unmount_fuse "$f"

	# A wrong key: the no-key view stays.
	head -c 64 /dev/urandom >"$WORK/wrong"
	if mount_fuse "$img" "$f" -o key="$WORK/wrong"; then
		[ "$(ls "$f/v2" | sort)" = "$(ls "$k/v2" | sort)" ] && pass "$name: a wrong key leaves the no-key names" ||
			fail "$name: a wrong key changed the listing"
		unmount_fuse "$f"
	fi

	# With the keys, on both sides.
	"$helper" add_key "$k" "$WORK/key2" >/dev/null && "$helper" add_key_v1 "$k" "$WORK/key1" "$(v1_descriptor "$WORK/key1")" ||
		fail "$name: adding the keys to the kernel's mount"
	if mount_fuse "$img" "$f" -o key="$WORK/key2",key="$WORK/key1"; then
		compare_views "$name, with keys" "$k" "$f"
		[ "$(cat "$f/v2/short")" = "secret v2" ] && [ "$(cat "$f/v1/short")" = "secret v1" ] &&
			[ "$(cat "$f/v2-lblk64/short")" = "secret v2-lblk64" ] &&
			pass "$name: decrypted contents (v2, v1, v2 IV_INO_LBLK_64)" || fail "$name: decrypted contents"
		hexkey=$(od -An -tx1 "$WORK/key2" | tr -d ' \n' | cut -c1-16)
		cmdline=$(tr '\0' ' ' </proc/"${DAEMONS[-1]}"/cmdline)
		[[ $cmdline == *"$hexkey"* ]] && fail "$name: key bytes in the command line" ||
			pass "$name: no key bytes in the daemon's command line"
		unmount_fuse "$f"
	fi
	umount "$k"
	[ "$(sha256sum <"$img")" = "$sum" ] && pass "$name: image unchanged" || fail "$name: image changed"
done

# A policy ext4pager does not decrypt (Adiantum, with or without DIRECT_KEY) cannot be made by
# this kernel; test_kernel_vm.sh makes it under Debian's and compares the no-key view. IV_INO_LBLK_32
# (a hashed inode number in a 32-bit IV) is compared with the kernel like the others.
img=$WORK/lblk32.img
mkfs.ext4 -q -F -b 4096 -O encrypt,stable_inodes "$img" 16M >/dev/null
mkdir -p "$w" && mount -o loop "$img" "$w" && {
	id=$("$helper" add_key "$w" "$WORK/key2") && mkdir "$w/d" && "$helper" set_policy "$w/d" v2 "$id" 0x12 &&
		for size in 5 4096 20000; do head -c $size /dev/urandom >"$w/d/data-$size"; done &&
		ln -s "$(printf 'S%.0s' $(seq 1 40))" "$w/d/link" && mkdir "$w/d/sub" && echo in >"$w/d/sub/f"
	umount "$w"
}
k=$WORK/k-lblk32 f=$WORK/f-lblk32
mount_kernel "$img" "$k"
"$helper" add_key "$k" "$WORK/key2" >/dev/null || fail "IV_INO_LBLK_32: adding the key to the kernel's mount"
if mount_fuse "$img" "$f" -o key="$WORK/key2"; then
	compare_views "IV_INO_LBLK_32, with its key" "$k" "$f"
	unmount_fuse "$f"
fi
umount "$k"

# A key file that is not a raw key: refused at mount, one line, naming the file.
head -c 10 /dev/urandom >"$WORK/short.key"
out=$("$EXT4PAGER" -o key="$WORK/short.key" "$img" "$WORK/nomount" 2>&1) && fail "a 10-byte key mounted" ||
	{ [[ $out == *"short.key: not a raw fscrypt key"* ]] && pass "bad key file refused: $out" || fail "bad key: $out"; }
finish
