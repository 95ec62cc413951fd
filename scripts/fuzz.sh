#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target (or the ones named) for SECONDS each, starting from the committed
# seed corpora (tests/fuzz/corpus/TARGET, or corpus/image for the targets whose input is a whole
# image) and the committed reproducers of fixed crashes (tests/fuzz/regressions/TARGET), which
# libFuzzer runs first. New inputs go to build-fuzz/corpus/TARGET, never to the repository. Exits non-zero on any crash, leak, timeout or out-of-memory; the reproducer
# is left in build-fuzz/crashes/.
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]     (default 20 s; CI runs the default)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
seconds=${1:-20}
shift || true
[[ $seconds =~ ^[0-9]+$ ]] || { show_usage >&2; exit 2; }
"$here/scripts/build.sh" fuzz >/dev/null
targets=("$@")
for t in "${targets[@]}"; do
	[ -x "$here/build-fuzz/fuzz_$t" ] || { echo "fuzz.sh: no target '$t'" >&2; show_usage >&2; exit 2; }
done
[ ${#targets[@]} -gt 0 ] || targets=($(cd "$here/build-fuzz" && find . -maxdepth 1 -type f -executable -name 'fuzz_*' -printf '%f\n' | sed 's/^fuzz_//' | sort))
status=0
for t in "${targets[@]}"; do
	work=$here/build-fuzz/corpus/$t
	mkdir -p "$work" "$here/build-fuzz/crashes"
	echo "=== fuzz_$t for ${seconds}s"
	seeds=$here/tests/fuzz/corpus/$t
	[ -d "$seeds" ] || seeds=$here/tests/fuzz/corpus/image # the whole-image targets share one
	max_len=$(find "$seeds" -type f -printf '%s\n' | sort -n | tail -1)
	[ "$max_len" -ge 65536 ] || max_len=65536
	regressions=()
	[ -d "$here/tests/fuzz/regressions/$t" ] && regressions=("$here/tests/fuzz/regressions/$t")
	if "$here/build-fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$max_len" -print_final_stats=1 -artifact_prefix="$here/build-fuzz/crashes/$t-" \
		"$work" "$seeds" "${regressions[@]}" >"$here/build-fuzz/fuzz_$t.log" 2>&1; then
		grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$here/build-fuzz/fuzz_$t.log" | tr '\n' ' '
		echo
	else
		echo "fuzz_$t FAILED:"; grep -A30 -E "ERROR|==[0-9]+==" "$here/build-fuzz/fuzz_$t.log" | head -40
		status=1
	fi
done
exit $status
