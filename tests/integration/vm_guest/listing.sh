# SPDX-License-Identifier: MIT
# The view of a tree that test_kernel_vm.sh compares: run with busybox sh, the same tools on both
# sides, in Debian's kernel (on its own mount) and on the host (on ext4pager's).
# usage: HELPER=fscrypt_helper sh listing.sh ROOT [LOOKUPS]
#  - every path in readdir order (find does not sort) with its inode, size, mode, links, owner
#    and times;
#  - every regular file's SHA-256, or the error reading it gives (ENOKEY without the key);
#  - every symlink's target;
#  - every directory's entries in getdents order, "." and ".." included;
#  - with LOOKUPS (a file of relative paths), what looking each one up gives: the inode, or the
#    error (casefolded spellings, names that should not exist).
cd "$1" || exit 1
find . -exec stat -c '%n %i %s %f %h %u %g %X %Y %Z' {} + 2>&1
echo "== contents"
find . -type f -exec sha256sum {} + 2>&1
echo "== symlinks"
find . -type l | while read -r link; do
	echo "$link -> $(readlink "$link" 2>&1)"
done
echo "== readdir"
find . -type d | while read -r dir; do
	echo "$dir: $("$HELPER" readdir "$dir" 2>&1)"
done
[ -n "${2:-}" ] || exit 0
echo "== lookups"
while read -r path; do
	echo "$path: $(stat -c %i "$path" 2>&1)"
done <"$2"
