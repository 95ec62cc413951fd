#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Encrypted (fscrypt) directories without their key: the kernel's no-key view, exactly. The
# kernel makes the images on a read-write loop mount (tests/integration/fscrypt_helper.c adds a
# v2 key and a v1 key and sets v2 and v1 policies, as fscryptctl would); unmounted, the keys are
# gone, and the kernel's read-only mount shows the no-key names, sizes and symlink targets that
# ext4pager must show too. Each image: short and long (hashed) names, a subdirectory, short and
# block-sized symlinks, a 300-entry htree directory, an unencrypted directory; once with
# inline data.
source "$(dirname "$0")/lib.sh"
need_root
set +e
HERE=$(dirname "$0")
helper=$WORK/fscrypt_helper
cc -O2 -Wall -Wextra -Werror -o "$helper" "$HERE/fscrypt_helper.c" || { echo "FAIL: cannot build the helper"; exit 1; }
w=$WORK/rw

make_image() { # IMAGE MKFS-FEATURES
	local img=$1 id
	mkfs.ext4 -q -F -b 4096 -O "$2" "$img" 64M >/dev/null
	mkdir -p "$w"
	mount -o loop "$img" "$w" || { fail "rw mount of $img"; return 1; }
	head -c 64 /dev/urandom >"$WORK/key2"
	head -c 64 /dev/urandom >"$WORK/key1"
	id=$("$helper" add_key "$w" "$WORK/key2") && "$helper" add_key_v1 "$w" "$WORK/key1" 0123456789abcdef ||
		{ fail "adding keys"; umount "$w"; return 1; }
	mkdir "$w/v2" "$w/v1" "$w/plain"
	"$helper" set_policy "$w/v2" v2 "$id" && "$helper" set_policy "$w/v1" v1 0123456789abcdef ||
		{ fail "setting policies"; umount "$w"; return 1; }
	for d in v2 v1; do
		echo "secret $d" >"$w/$d/short"
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
	mount_fuse "$img" "$f" || continue
	if python3 "$HERE/compare.py" --label "$name" "$k" "$f" >"$WORK/cmp.txt" 2>&1; then
		pass "$name: no-key view matches the kernel's ($(tail -1 "$WORK/cmp.txt"))"
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
	[ -n "$links_k" ] && [ "$links_k" = "$links_f" ] && pass "$name: symlink targets (no-key encoded) identical" ||
		fail "$name: symlinks: $(diff <(echo "$links_k") <(echo "$links_f") | head -4)"
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
	umount "$k"
	[ "$(sha256sum <"$img")" = "$sum" ] && pass "$name: image unchanged" || fail "$name: image changed"
done
finish
