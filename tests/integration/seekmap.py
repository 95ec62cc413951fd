#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Prints, for every regular file under ROOT, its SEEK_DATA/SEEK_HOLE map: the data runs found
by alternating lseek(SEEK_DATA) and lseek(SEEK_HOLE) from 0, plus the answers at a few probe
offsets (inside, at and past EOF). Two mounts of the same image must print the same text.

Run it on a fresh mount: the kernel counts cached pages of unwritten extents as data.

A directory's first FILES_PER_DIR files (sorted) are mapped: the test images' 50,000-entry htree
directories hold only empty files (compare.py checks every one of them), and mapping them all
was most of the test's time."""
import errno
import os
import sys


def seek(fd, off, whence):
    try:
        return str(os.lseek(fd, off, whence))
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def file_map(path):
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        size = os.fstat(fd).st_size
        runs, pos = [], 0
        while pos < size and len(runs) < 100000:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as e:
                if e.errno != errno.ENXIO:
                    runs.append("error " + errno.errorcode.get(e.errno, "?"))
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            runs.append(f"{start}-{end}")
            if end <= start:
                runs.append("no progress")
                break
            pos = end
        probes = [0, 1, 4095, 4096, 65537, size // 2, size - 1, size, size + 1, 1 << 40]
        answers = [f"{p}:{seek(fd, p, os.SEEK_DATA)}/{seek(fd, p, os.SEEK_HOLE)}"
                   for p in probes if p >= 0]
        return f"size={size} data=[{' '.join(runs)}] probes=[{' '.join(answers)}]"
    finally:
        os.close(fd)


FILES_PER_DIR = 500


def main():
    root = sys.argv[1]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames)[:FILES_PER_DIR]:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                print(os.path.relpath(path, root), file_map(path))


if __name__ == "__main__":
    main()
