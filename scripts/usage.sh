# SPDX-License-Identifier: MIT
# Sourced by every script in scripts/ before it does anything: `--help` prints the script's
# header comment (what it does and its usage line) and exits 0; an option the script does not
# take is refused with the same text on stderr and exit status 2.
# usage: source "$here/scripts/usage.sh"; check_args "OPTIONS THE SCRIPT TAKES" "$@"

# The comment block at the top of the running script, without the SPDX line.
show_usage() {
	awk 'NR == 1 && /^#!/ { next } /^#/ { if ($0 !~ /SPDX-License/) { sub(/^# ?/, ""); print }; next } { exit }' "$0"
}

check_args() {
	local allowed=" $1 " a
	shift
	for a in "$@"; do
		case $a in
		-h | --help)
			show_usage
			exit 0
			;;
		-*)
			case $allowed in
			*" $a "*) ;;
			*)
				echo "$(basename "$0"): unknown option '$a'" >&2
				show_usage >&2
				exit 2
				;;
			esac
			;;
		esac
	done
}
