#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compares two mounts of the same image, the kernel's and ext4pager's, for everything a user
can observe: the set of paths, readdir order, d_ino and d_type, every lstat field with
nanoseconds, symlink targets, xattr names and values, file contents through read() and mmap(),
reads at odd offsets and lengths, and statvfs. Prints one line per mismatch
(image, path, field, kernel value, ext4pager value) and a total; exits 1 on any mismatch.

usage: compare.py [--label NAME] [--no-content] [--quick-content BYTES] KERNEL_MOUNT FUSE_MOUNT
"""
import argparse
import hashlib
import mmap
import os
import random
import stat
import sys

STAT_FIELDS = ("st_mode", "st_ino", "st_nlink", "st_uid", "st_gid", "st_size", "st_blocks",
               "st_atime_ns", "st_mtime_ns", "st_ctime_ns", "st_rdev")
STATVFS_FIELDS = ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files",
                  "f_ffree", "f_namemax")
# Crossing 4 KiB pages and 128 KiB readahead windows, and the ends of the file.
OFFSETS = (0, 1, 4095, 4096, 4097, 9000, 131071, 131072, 131073, 262143, 1 << 20)
LENGTHS = (1, 100, 4096, 4097, 65536, 131073, 300000)


def short(value, limit=300):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


class Comparer:
    def __init__(self, label, kroot, froot, content, quick):
        self.label, self.kroot, self.froot = label, kroot, froot
        self.content, self.quick = content, quick
        self.mismatches = 0
        self.checked = 0

    def report(self, path, field, kval, fval):
        self.mismatches += 1
        if self.mismatches <= 200:
            print(f"MISMATCH {self.label} {path or '/'} {field}: kernel={short(kval)} "
                  f"ext4pager={short(fval)}")

    def same(self, path, field, kval, fval):
        if kval != fval:
            self.report(path, field, kval, fval)
            return False
        return True

    @staticmethod
    def attempt(fn, *args, **kw):
        try:
            return ("ok", fn(*args, **kw))
        except OSError as e:
            return ("error", e.errno)

    def listing(self, root, rel):
        out = []
        with os.scandir(os.path.join(root, rel)) as it:
            for e in it:
                kind = ("dir" if e.is_dir(follow_symlinks=False) else
                        "link" if e.is_symlink() else
                        "file" if e.is_file(follow_symlinks=False) else "other")
                out.append((e.name, e.inode(), kind))
        return out

    def compare_xattrs(self, rel, kp, fp):
        kn = self.attempt(os.listxattr, kp, follow_symlinks=False)
        fn = self.attempt(os.listxattr, fp, follow_symlinks=False)
        if not self.same(rel, "listxattr", sorted(kn[1]) if kn[0] == "ok" else kn,
                         sorted(fn[1]) if fn[0] == "ok" else fn):
            return
        if kn[0] != "ok":
            return
        for name in kn[1]:
            kv = self.attempt(os.getxattr, kp, name, follow_symlinks=False)
            fv = self.attempt(os.getxattr, fp, name, follow_symlinks=False)
            self.same(rel, "xattr " + name, kv, fv)

    def read_all(self, path):
        h = hashlib.sha256()
        with open(path, "rb", buffering=0) as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                h.update(b)
        return h.hexdigest()

    def mmap_all(self, path):
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                return hashlib.sha256().hexdigest()
            with mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
                h = hashlib.sha256()
                for off in range(0, size, 1 << 20):
                    h.update(m[off:off + (1 << 20)])
                return h.hexdigest()

    def odd_reads(self, path, size):
        out = []
        rnd = random.Random(size)
        offsets = list(OFFSETS) + [max(size - 1, 0), size, size + 1, size + 4096]
        offsets += [rnd.randrange(0, size + 1) for _ in range(4)] if size else []
        with open(path, "rb", buffering=0) as f:
            for off in offsets:
                for ln in LENGTHS:
                    out.append((off, ln, hashlib.sha256(os.pread(f.fileno(), ln, off)).hexdigest()))
        return out

    def data_runs(self, path, size, budget=64 << 20):
        """Hashes of the data runs SEEK_DATA/SEEK_HOLE find (at most `budget` bytes read)."""
        out, pos = [], 0
        with open(path, "rb", buffering=0) as f:
            fd = f.fileno()
            while pos < size and budget > 0:
                try:
                    start = os.lseek(fd, pos, os.SEEK_DATA)
                except OSError:
                    break
                end = os.lseek(fd, start, os.SEEK_HOLE)
                n = min(end - start, budget)
                out.append((start, end, hashlib.sha256(os.pread(fd, n, start)).hexdigest()))
                budget -= n
                pos = max(end, start + 1)
        return out

    def compare_file(self, rel, kp, fp, size):
        if self.quick and size > self.quick:
            kr = self.attempt(self.odd_reads, kp, size)
            fr = self.attempt(self.odd_reads, fp, size)
            self.same(rel, "pread at odd offsets", kr, fr)
            self.same(rel, "data runs (SEEK_DATA/SEEK_HOLE)", self.attempt(self.data_runs, kp, size),
                      self.attempt(self.data_runs, fp, size))
            return
        kd = self.attempt(self.read_all, kp)
        fd = self.attempt(self.read_all, fp)
        self.same(rel, "content sha256 (read)", kd, fd)
        fm = self.attempt(self.mmap_all, fp)
        self.same(rel, "content sha256 (mmap)", kd, fm)
        kr = self.attempt(self.odd_reads, kp, size)
        fr = self.attempt(self.odd_reads, fp, size)
        self.same(rel, "pread at odd offsets", kr, fr)

    def compare_path(self, rel):
        kp, fp = os.path.join(self.kroot, rel), os.path.join(self.froot, rel)
        ks, fs = self.attempt(os.lstat, kp), self.attempt(os.lstat, fp)
        self.checked += 1
        if ks[0] != "ok" or fs[0] != "ok":
            self.same(rel, "lstat", ks if ks[0] != "ok" else "ok", fs if fs[0] != "ok" else "ok")
            return None
        ks, fs = ks[1], fs[1]
        for field in STAT_FIELDS:
            self.same(rel, field, getattr(ks, field), getattr(fs, field))
        if stat.S_ISLNK(ks.st_mode):
            self.same(rel, "readlink", self.attempt(os.readlink, kp), self.attempt(os.readlink, fp))
        self.compare_xattrs(rel, kp, fp)
        if self.content and stat.S_ISREG(ks.st_mode) and stat.S_ISREG(fs.st_mode):
            self.compare_file(rel, kp, fp, ks.st_size)
        return ks

    def walk(self, rel=""):
        ks = self.compare_path(rel)
        if ks is None or not stat.S_ISDIR(ks.st_mode):
            return
        kl = self.attempt(self.listing, self.kroot, rel)
        fl = self.attempt(self.listing, self.froot, rel)
        if not self.same(rel, "readdir (name, d_ino, d_type) in order", kl, fl):
            if kl[0] == "ok" and fl[0] == "ok":
                self.same(rel, "readdir as a set", sorted(kl[1]), sorted(fl[1]))
        if kl[0] != "ok":
            return
        for name, _, _ in kl[1]:
            self.walk(os.path.join(rel, name))

    def compare_statvfs(self):
        ks, fs = os.statvfs(self.kroot), os.statvfs(self.froot)
        for field in STATVFS_FIELDS:
            self.same("", "statvfs " + field, getattr(ks, field), getattr(fs, field))
        self.same("", "statvfs ST_RDONLY", bool(ks.f_flag & os.ST_RDONLY),
                  bool(fs.f_flag & os.ST_RDONLY))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", default="image")
    ap.add_argument("--no-content", action="store_true")
    ap.add_argument("--quick-content", type=int, default=0,
                    help="files larger than this get odd-offset reads only")
    ap.add_argument("kernel")
    ap.add_argument("fuse")
    a = ap.parse_args()
    c = Comparer(a.label, a.kernel, a.fuse, not a.no_content, a.quick_content)
    c.walk()
    c.compare_statvfs()
    print(f"compare {a.label}: {c.checked} paths, {c.mismatches} mismatches")
    sys.exit(1 if c.mismatches else 0)


if __name__ == "__main__":
    main()
