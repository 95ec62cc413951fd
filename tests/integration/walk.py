#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""walk — touches everything a mount shows and prints what each inode gave, as JSON.

  walk.py MOUNT fwd|rev

Every directory reachable from MOUNT is listed once (by inode, so a corrupted entry that loops
back to an ancestor ends the descent), and for every inode seen: lstat, readlink (symlinks),
listxattr and each getxattr, read() of the start and the end, and mmap of the start where
read() succeeded. Results are keyed by inode number, so two walks in opposite orders must print
the same thing: an error on one object that changed what later objects give (poisoning) shows
up as a difference. Errors are recorded as errno names; nothing is followed outside MOUNT.
"""
import errno
import hashlib
import json
import mmap
import os
import stat
import sys

READ_HEAD = 1 << 20
READ_TAIL = 64 << 10
MMAP_BYTES = 256 << 10
MAX_INODES = 20000


def err(e):
    return "E:" + errno.errorcode.get(e.errno, str(e.errno))


def attempt(fn):
    try:
        return fn()
    except OSError as e:
        return err(e)


def xattrs(path):
    names = os.listxattr(path, follow_symlinks=False)
    return {n: attempt(lambda n=n: hashlib.sha256(
        os.getxattr(path, n, follow_symlinks=False)).hexdigest()[:16]) for n in sorted(names)}


def contents(path, size):
    out = {}
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        head = attempt(lambda: os.pread(fd, READ_HEAD, 0))
        out["head"] = head if isinstance(head, str) else hashlib.sha256(head).hexdigest()[:16]
        if size > READ_HEAD:
            tail = attempt(lambda: os.pread(fd, READ_TAIL, size - READ_TAIL))
            out["tail"] = tail if isinstance(tail, str) else hashlib.sha256(tail).hexdigest()[:16]
        n = min(size, MMAP_BYTES)
        if not isinstance(head, str) and n > 0 and len(head) >= n:
            with mmap.mmap(fd, n, prot=mmap.PROT_READ) as m:
                if hashlib.sha256(m[:n]).hexdigest() != hashlib.sha256(head[:n]).hexdigest():
                    out["mmap"] = "differs from read()"
    finally:
        os.close(fd)
    return out


def visit(path, st):
    r = {"mode": st.st_mode, "size": st.st_size, "nlink": st.st_nlink}
    r["xattr"] = attempt(lambda: xattrs(path))
    if stat.S_ISLNK(st.st_mode):
        r["link"] = attempt(lambda: os.readlink(path))
    elif stat.S_ISREG(st.st_mode):
        r["data"] = attempt(lambda: contents(path, st.st_size))
    return r


def walk(root, reverse):
    seen, dirs = {}, [root]
    root_st = os.lstat(root)
    seen[root_st.st_ino] = visit(root, root_st)
    while dirs and len(seen) < MAX_INODES:
        d = dirs.pop()
        names = attempt(lambda: sorted(os.listdir(d), reverse=reverse))
        dir_ino = os.lstat(d).st_ino
        seen[dir_ino]["list"] = names if isinstance(names, str) else len(names)
        if isinstance(names, str):
            continue
        for name in names:
            path = os.path.join(d, name)
            try:
                st = os.lstat(path)
            except OSError as e:
                seen.setdefault(f"{dir_ino}/{name}", err(e))
                continue
            if st.st_ino in seen:
                continue
            seen[st.st_ino] = visit(path, st)
            if stat.S_ISDIR(st.st_mode):
                dirs.append(path)
    return {str(k): v for k, v in sorted(seen.items(), key=lambda kv: str(kv[0]))}


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in ("fwd", "rev"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    json.dump(walk(sys.argv[1], sys.argv[2] == "rev"), sys.stdout, sort_keys=True)
