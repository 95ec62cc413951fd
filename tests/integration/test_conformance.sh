#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every test image, mounted by the kernel (mount -o loop,ro) and by ext4pager, compared for
# everything a user can see (compare.py), plus `ls -lR`, `getfattr -d -m -`, `getfacl -R` and
# `lsattr -R -a -p` (inode flags and project ids, through FUSE's ioctl).
source "$(dirname "$0")/lib.sh"
need_root
"$REPO/scripts/make-test-images.sh" "$IMAGES"

# statx reaches a FUSE daemon through libfuse 3.18 and later.
btime=0
[[ $("$EXT4PAGER" --version) =~ libfuse\ 3\.(1[89]|[2-9][0-9]) ]] && btime=1

for img in "$REPO/images/sample.img" "$IMAGES"/*.img; do
	name=$(basename "$img" .img)
	# EXT4PAGER_CONFORMANCE_IMAGES="a b": only these (the sanitizer run); default all.
	if [ -n "${EXT4PAGER_CONFORMANCE_IMAGES:-}" ] && ! [[ " $EXT4PAGER_CONFORMANCE_IMAGES " == *" $name "* ]]; then
		echo "skip: $name (not in EXT4PAGER_CONFORMANCE_IMAGES)"
		continue
	fi
	k=$WORK/k-$name f=$WORK/f-$name
	mount_kernel "$img" "$k"
	mount_fuse "$img" "$f"
	# compare.py and the tools' walks of the two mounts run side by side (2+ cores).
	python3 "$REPO/tests/integration/compare.py" --label "$name" --quick-content $((64 << 20)) "$k" "$f" \
		>"$WORK/compare.out" 2>&1 &
	compare_pid=$!
	tools=("ls -lRAn --time-style=full-iso" "getfattr -R -h -d -m - --absolute-names" "getfacl -R -P -n"
		"lsattr -R -a -p")
	tool_pids=()
	for side in k f; do
		root=$WORK/$side-$name
		(
			for i in "${!tools[@]}"; do
				(cd "$root" && ${tools[$i]} . 2>&1) >"$WORK/$side.$i.out" || true
			done
		) &
		tool_pids+=($!)
	done
	wait "${tool_pids[@]}"
	if wait "$compare_pid"; then
		cat "$WORK/compare.out"
		pass "$name: compare.py"
	else
		cat "$WORK/compare.out"
		fail "$name: compare.py found mismatches"
	fi
	for i in "${!tools[@]}"; do
		tool=${tools[$i]}
		if cmp -s "$WORK/k.$i.out" "$WORK/f.$i.out"; then
			pass "$name: ${tool%% *} output identical"
		else
			fail "$name: ${tool%% *} output differs"
			diff "$WORK/k.$i.out" "$WORK/f.$i.out" | head -20 || true
		fi
	done
	# Birth time (statx; libfuse 3.18 carries it): stat -c %W on every path, sorted.
	if [ $btime -eq 1 ]; then
		btime_pids=()
		for side in k f; do
			(cd "$WORK/$side-$name" && find . -xdev -print0 | sort -z | xargs -0 stat -c '%n %W %w') \
				>"$WORK/$side.btime" 2>&1 &
			btime_pids+=($!)
		done
		wait "${btime_pids[@]}" # not a bare wait: the daemon is a child too
		if cmp -s "$WORK/k.btime" "$WORK/f.btime"; then
			pass "$name: birth times (stat -c %W) identical on $(grep -c '' "$WORK/k.btime") paths"
		else
			fail "$name: birth times differ"
			diff "$WORK/k.btime" "$WORK/f.btime" | head -10 || true
		fi
	fi
	# Setting inode flags is refused as on the kernel's read-only mount (the VFS says EROFS).
	if [ -e "$k/flags/file-s" ]; then
		kerr=$(chattr +i "$k/flags/file-s" 2>&1 | sed "s|$k||") || true
		ferr=$(chattr +i "$f/flags/file-s" 2>&1 | sed "s|$f||") || true
		[ -n "$kerr" ] && [ "$kerr" = "$ferr" ] && pass "$name: chattr refused alike ($ferr)" ||
			fail "$name: chattr: kernel '$kerr', ext4pager '$ferr'"
	fi
	kdf=$(df -B1 --output=size,used,avail,pcent,itotal,iused,iavail,ipcent "$k" | tail -1)
	fdf=$(df -B1 --output=size,used,avail,pcent,itotal,iused,iavail,ipcent "$f" | tail -1)
	[ "$kdf" = "$fdf" ] && pass "$name: df identical ($fdf)" || fail "$name: df: kernel '$kdf', ext4pager '$fdf'"
	unmount_fuse "$f"
	unmount_kernel "$k"
done
finish
