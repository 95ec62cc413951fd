#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The corruption suite: seeded corrupted images (tests/integration/corrupt.py) of seven feature
# sets, each mounted and walked (corruption_run.py checks: no crash, no hang, bounded memory,
# one-line refusals, errno per bad object, no poisoning of other files, nothing written).
#   EXT4PAGER_CORRUPTION_CASES  how many images (default 240; CI's ASan run takes fewer)
#   EXT4PAGER_CORRUPTION_FIRST  first case number (default 0; any range is a new corpus)
source "$(dirname "$0")/lib.sh"
need_root
bases=$IMAGES/corrupt-bases
python3 "$REPO/tests/integration/corrupt.py" bases "$bases"
python3 "$REPO/tests/integration/corrupt.py" self-test "$bases" >/dev/null ||
	fail "checksum formulas of corrupt.py disagree with e2fsck"
before=$(sha256sum "$bases"/*.img)

# The sanitizers' shadow memory and quarantine count in RSS; the bound is for the normal build.
if grep -q libasan <<<"$(ldd "$EXT4PAGER")"; then
	export EXT4PAGER_CORRUPTION_RSS_MB=${EXT4PAGER_CORRUPTION_RSS_MB:-900}
fi
if python3 "$REPO/tests/integration/corruption_run.py" "$EXT4PAGER" "$bases" \
	"${EXT4PAGER_CORRUPTION_FIRST:-0}" "${EXT4PAGER_CORRUPTION_CASES:-240}"; then
	pass "corrupted images: no crash, hang, poisoning or write"
else
	fail "corrupted images (see above)"
fi
[ "$(sha256sum "$bases"/*.img)" = "$before" ] || fail "a base image changed"
finish
