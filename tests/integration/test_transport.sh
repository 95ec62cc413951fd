#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The FUSE transport (-o io_uring=auto|on|off) and ext4's noacl/nouser_xattr: io_uring is used
# when the kernel offers it (root turns the switch on), the bytes and the tree are the kernel's
# on either transport with readers in parallel, a normal user gets a hint or a clear refusal,
# and fusermount3 still mounts for a normal user.
source "$(dirname "$0")/lib.sh"
need_root
"$REPO/scripts/make-test-images.sh" "$IMAGES"
img=$IMAGES/ext4-4k.img
switch=$URING_SWITCH
[ -e "$switch" ] || { echo "skip: this kernel has no FUSE over io_uring ($switch)"; exit 0; }
uring_built=0
uring_possible && uring_built=1
saved=$(cat "$switch")
trap 'echo "$saved" >"$switch"; cleanup' EXIT

# Every regular file's checksum (but the sparse giants: 5 and 17 GiB of holes) and the long
# listing of DIR.
snapshot() { # DIR OUT
	(cd "$1" && find . -type f -size -64M -print0 | sort -z | xargs -0 -P 4 -n 64 md5sum | sort -k2 &&
		ls -lRAn --time-style=full-iso .) >"$2"
}
mount_kernel "$img" "$WORK/k"
snapshot "$WORK/k" "$WORK/k.txt"

for mode in auto off; do
	echo N >"$switch"
	mount_fuse "$img" "$WORK/f-$mode" -o io_uring=$mode
	want=$([ $mode = auto ] && echo $uring_built || echo 0)
	stats_show "$WORK/f-$mode" "^fuse_io_uring $want\$" &&
		pass "io_uring=$mode: fuse_io_uring $want" || fail "io_uring=$mode: fuse_io_uring is not $want"
	if [ $mode = auto ] && [ $uring_built = 1 ]; then
		[ "$(cat "$switch")" = Y ] && pass "io_uring=auto as root turned the kernel's switch on" ||
			fail "io_uring=auto as root left $switch off"
	fi
	snapshot "$WORK/f-$mode" "$WORK/f.txt"
	cmp -s "$WORK/k.txt" "$WORK/f.txt" && pass "io_uring=$mode: every file's bytes and ls -lR as the kernel's" ||
		{ fail "io_uring=$mode: differs from the kernel"; diff "$WORK/k.txt" "$WORK/f.txt" | head; }
	# Readers in parallel on one fresh big file: READs wait on each other's page requests and
	# are answered by the pager threads.
	sums=$(for i in 1 2 3 4; do md5sum <"$WORK/f-$mode/big/two-mib" & done; wait)
	[ "$(sort -u <<<"$sums" | wc -l)" = 1 ] && [ "$(head -1 <<<"$sums" | cut -d' ' -f1)" = "$(md5sum <"$WORK/k/big/two-mib" | cut -d' ' -f1)" ] &&
		pass "io_uring=$mode: 4 parallel readers read the kernel's bytes" || fail "io_uring=$mode: parallel readers: $sums"
	# Ring threads that answered requests yield their CPU to the requester (SCHED_IDLE, policy
	# 5); no other thread does (the pager threads supply pages at normal priority).
	idle_rings=0 idle_others=0
	for t in /proc/${DAEMONS[-1]}/task/*; do
		[ "$(awk '{print $(NF-11)}' "$t/stat")" = 5 ] || continue
		case $(cat "$t/comm") in fuse-ring-*) idle_rings=$((idle_rings + 1)) ;; *) idle_others=$((idle_others + 1)) ;; esac
	done
	want_idle=$([ "$want" = 1 ] && echo ">= 1" || echo 0)
	if [ $idle_others = 0 ] && ((want ? idle_rings >= 1 : idle_rings == 0)); then
		pass "io_uring=$mode: $idle_rings ring threads at SCHED_IDLE (want $want_idle), no other thread"
	else
		fail "io_uring=$mode: $idle_rings ring threads and $idle_others other threads at SCHED_IDLE (want $want_idle and 0)"
	fi
	unmount_fuse "$WORK/f-$mode"
done

# A normal user cannot turn the switch on: a hint (auto) or a refusal (on); fusermount3 mounts.
user_dir=$(mktemp -d /tmp/ext4pager-user.XXXXXX)
MOUNTS+=("$user_dir/m")
trap 'echo "$saved" >"$switch"; fusermount3 -u "$user_dir/m" 2>/dev/null || true; rm -rf "$user_dir"; cleanup' EXIT
cp "$REPO/images/sample.img" "$user_dir/sample.img"
mkdir "$user_dir/m"
chmod 755 "$user_dir"
chmod 644 "$user_dir/sample.img"
chown nobody "$user_dir/m"
# Debian makes /dev/fuse crw-rw-rw- (libfuse opens it before it calls fusermount3); some
# containers leave it 0600.
dev_mode=$(stat -c %a /dev/fuse)
chmod 666 /dev/fuse
trap 'echo "$saved" >"$switch"; chmod "$dev_mode" /dev/fuse; fusermount3 -u "$user_dir/m" 2>/dev/null || true; rm -rf "$user_dir"; cleanup' EXIT
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
echo N >"$switch"
if [ $uring_built = 1 ]; then
	out=$(nobody "$EXT4PAGER" -o io_uring=on "$user_dir/sample.img" "$user_dir/m" 2>&1) && st=0 || st=$?
	[ $st -ne 0 ] && [ "$(wc -l <<<"$out")" = 1 ] && [[ $out == *"io_uring"*"off in the kernel"* ]] &&
		pass "io_uring=on, normal user, switch off: refused ($out)" || fail "io_uring=on as a normal user: status $st, '$out'"
fi
out=$(nobody "$EXT4PAGER" "$user_dir/sample.img" "$user_dir/m" 2>&1) && st=0 || st=$?
if [ $st -eq 0 ] && grep -q " $user_dir/m fuse.ext4pager " /proc/mounts; then
	pass "a normal user mounts through fusermount3"
	[ $uring_built = 0 ] || [[ $out == *"hint: FUSE over io_uring is off"* ]] &&
		pass "io_uring=auto, normal user, switch off: a hint" || fail "no hint for a normal user: '$out'"
	[ -n "$(nobody ls "$user_dir/m")" ] && pass "the normal user's mount lists" || fail "the normal user's mount is empty"
	nobody fusermount3 -u "$user_dir/m" && pass "the normal user unmounts with fusermount3 -u" ||
		fail "fusermount3 -u failed for the normal user"
else
	fail "a normal user could not mount (status $st): $out"
fi

out=$("$EXT4PAGER" -o io_uring=maybe "$img" "$WORK/nowhere" 2>&1) && st=0 || st=$?
[ $st -ne 0 ] && [ "$(wc -l <<<"$out")" = 1 ] && [[ $out == *"expected auto, on or off"* ]] &&
	pass "io_uring=maybe refused: $out" || fail "io_uring=maybe: status $st, '$out'"

# ext4's noacl and nouser_xattr: those xattrs are EOPNOTSUPP and not listed.
mount_fuse "$img" "$WORK/acl"
mount_fuse "$img" "$WORK/noacl" -o noacl,nouser_xattr
[[ $(ls -l "$WORK/acl/xattr/acl-file") =~ ^.{10}\+ ]] &&
	pass "acl (default): ls -l marks the ACL" || fail "acl: no + in ls -l"
! [[ $(ls -l "$WORK/noacl/xattr/acl-file") =~ ^.{10}\+ ]] && pass "noacl: ls -l shows no ACL" || fail "noacl: ls -l still shows an ACL"
out=$(getfattr -n system.posix_acl_access "$WORK/noacl/xattr/acl-file" 2>&1 || true)
[[ $out == *"Operation not supported"* ]] && pass "noacl: the ACL xattr is EOPNOTSUPP" || fail "noacl: getfattr said '$out'"
out=$(getfattr -n user.a "$WORK/noacl/xattr/small" 2>&1 || true)
[[ $out == *"Operation not supported"* ]] && pass "nouser_xattr: user.a is EOPNOTSUPP" || fail "nouser_xattr: getfattr said '$out'"
listed=$(getfattr -d -m - --absolute-names "$WORK/noacl/xattr/small" "$WORK/noacl/xattr/acl-file" 2>&1)
if ! grep -qE "user\.|posix_acl" <<<"$listed" && grep -q "trusted.t" <<<"$listed"; then
	pass "noacl,nouser_xattr: listxattr keeps trusted/security, drops user and ACLs"
else
	fail "noacl,nouser_xattr: listed $listed"
fi
grep -q "user.a" <<<"$(getfattr -d -m - "$WORK/acl/xattr/small" 2>&1)" &&
	pass "user_xattr (default): user.a listed" || fail "user_xattr: user.a not listed"
unmount_fuse "$WORK/acl"
unmount_fuse "$WORK/noacl"
unmount_kernel "$WORK/k"
finish
