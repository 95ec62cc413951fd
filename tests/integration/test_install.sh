#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The man page renders without warnings and documents every option --help lists;
# `cmake --install` puts the daemon and the page where they belong.
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

[ "$FAILURES" -eq 0 ] || { echo "test_install.sh: $FAILURES failure(s)"; exit 1; }
echo "test_install.sh: all passed"
