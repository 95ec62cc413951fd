#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every script in scripts/ answers --help with its usage and exit status 0, and an option it
# does not take with its usage on stderr and exit status 2 — at once, doing nothing else (no
# build, no image, no package install: each must return within seconds and leave the tree as
# it was).
source "$(dirname "$0")/lib.sh"
before=$(cd "$REPO" && git status --porcelain --ignored 2>/dev/null | sort || true)
for script in "$REPO"/scripts/*.sh "$REPO"/scripts/*.py; do
	name=$(basename "$script")
	[ "$name" = usage.sh ] && continue
	case $script in
	*.py) run=(python3 "$script") ;;
	*) run=(bash "$script") ;;
	esac
	out=$(timeout 20 "${run[@]}" --help 2>&1) && grep -qi "usage" <<<"$out" &&
		pass "$name --help" || fail "$name --help: $(head -3 <<<"$out")"
	status=0
	err=$(timeout 20 "${run[@]}" --no-such-option 2>&1 >/dev/null) || status=$?
	[ $status -eq 2 ] && grep -qi "usage" <<<"$err" && pass "$name refuses a wrong option" ||
		fail "$name --no-such-option: status $status, $(head -3 <<<"$err")"
done
after=$(cd "$REPO" && git status --porcelain --ignored 2>/dev/null | sort || true)
[ "$before" = "$after" ] && pass "the tree is unchanged" || fail "the scripts changed the tree: $(diff <(echo "$before") <(echo "$after") | head -5)"
finish
