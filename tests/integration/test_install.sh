#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The man page renders without warnings and documents every option --help lists;
# `cmake --install` puts the daemon and the page where they belong; and, when the test command
# has built the Debian package (EXT4PAGER_DEB), the package installs with dpkg, its binary
# mounts through mount -t fuse.ext4pager and an fstab line, and it removes cleanly.
source "$(dirname "$0")/lib.sh"
page=$REPO/docs/ext4pager.1

out=$(mandoc -Tlint -W warning "$page" 2>&1) && [ -z "$out" ] && pass "mandoc -Tlint: clean" || fail "mandoc -Tlint: $out"
out=$(MANWIDTH=80 man --warnings=w "$page" 2>&1 >/dev/null) && [ -z "$out" ] && pass "man renders without warnings" ||
	fail "man warnings: $out"
text=$(MANWIDTH=200 man "$page" 2>/dev/null | col -b)
for opt in $("$EXT4PAGER" --help | grep -oE '^  [a-z_]+(=|,|  )' | grep -oE '[a-z_]+'); do
	grep -qw -- "$opt" <<<"$text" || fail "option $opt (from --help) is not in the man page"
done
for word in EXIT "run" EXT4PAGER_MOUNT partition= idle_timeout auto_unmount fstab fusermount3 SECURITY DIFFERENCES; do
	grep -q -- "$word" <<<"$text" || fail "man page lacks '$word'"
done
pass "man page covers --help's options, run mode, exit status, examples, trust model"

build=$(dirname "$EXT4PAGER")
if [ -f "$build/CMakeCache.txt" ]; then
	cmake --install "$build" --prefix "$WORK/prefix" >"$WORK/install.log" 2>&1 || fail "cmake --install: $(cat "$WORK/install.log")"
	[ -x "$WORK/prefix/bin/ext4pager" ] && pass "installs bin/ext4pager" || fail "bin/ext4pager not installed"
	[ -f "$WORK/prefix/share/man/man1/ext4pager.1" ] && pass "installs share/man/man1/ext4pager.1" || fail "man page not installed"
	grep -q "^ext4pager " <<<"$("$WORK/prefix/bin/ext4pager" --version)" && pass "installed binary runs" || fail "installed binary"
else
	fail "no CMakeCache.txt next to $EXT4PAGER"
fi

# The Debian package, installed for real and removed again (even when a check fails).
deb_checks() {
	local mnt=$WORK/debmnt img=$REPO/images/sample.img fstab=$WORK/fstab
	dpkg -i "$EXT4PAGER_DEB" >"$WORK/dpkg.log" 2>&1 || { fail "dpkg -i: $(cat "$WORK/dpkg.log")"; return; }
	pass "dpkg -i $(basename "$EXT4PAGER_DEB")"
	grep -q "^ext4pager [0-9]" <<<"$(/usr/bin/ext4pager --version)" && pass "the packaged /usr/bin/ext4pager runs" ||
		fail "packaged binary"
	if [ -f /usr/share/man/man1/ext4pager.1.gz ] && [ -f /usr/share/doc/ext4pager/copyright ] &&
		compgen -G "/usr/share/doc/ext4pager/README.md*" >/dev/null; then
		pass "man page, copyright and README installed"
	else
		fail "package contents: $(dpkg -L ext4pager | tr '\n' ' ')"
	fi
	mkdir -p "$mnt"
	MOUNTS+=("$mnt")
	if mount -t fuse.ext4pager -o ro "$img" "$mnt" && [ "$(cat "$mnt/README.txt")" = "$(debugfs -R 'cat /README.txt' "$img" 2>/dev/null)" ]; then
		pass "mount -t fuse.ext4pager runs the packaged binary"
	else
		fail "mount -t fuse.ext4pager with the package"
	fi
	umount "$mnt" 2>/dev/null || true
	printf '%s %s fuse.ext4pager ro,nofail 0 0\n' "$img" "$mnt" >"$fstab"
	if mount --fstab "$fstab" "$mnt" && [ -f "$mnt/README.txt" ]; then
		pass "an fstab line mounts it"
	else
		fail "fstab line: $(cat "$fstab")"
	fi
	umount "$mnt" 2>/dev/null || true
}
remove_package() { dpkg -r ext4pager >/dev/null 2>&1 || true; }
if [ -n "${EXT4PAGER_DEB:-}" ]; then
	if grep -q "ok installed" <<<"$(dpkg-query -W -f='${Status}' ext4pager 2>/dev/null || true)"; then
		fail "ext4pager is installed as a package already; not replacing it"
	else
		trap 'remove_package; cleanup' EXIT
		deb_checks
		remove_package
		[ ! -e /usr/bin/ext4pager ] && pass "dpkg -r removes it" || fail "/usr/bin/ext4pager left after dpkg -r"
	fi
fi

[ "$FAILURES" -eq 0 ] || { echo "test_install.sh: $FAILURES failure(s)"; exit 1; }
echo "test_install.sh: all passed"
