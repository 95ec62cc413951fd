#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""corrupt — a seeded generator of corrupted ext2/3/4 images.

  corrupt.py bases DIR            builds the valid base images (cached: skipped if present)
  corrupt.py make DIR N OUT       writes case N (deterministic) to OUT and prints what it did
  corrupt.py self-test DIR        checks the checksum formulas against e2fsck

Every base holds /canary: files whose contents are known (canary.json). A case corrupts one
thing a reader parses — superblock and group descriptor fields, inode fields and flags, extent
headers and entries, ext2 block maps, directory entries, htree nodes, symlink sizes, xattr
blocks and in-inode entries, random byte flips in one metadata structure, or the image cut
short — and recomputes the checksums over what it changed, so the parsers are what is
tested. A "local" case never touches the canary's inodes or blocks nor the root directory:
after it, every canary file must still read back intact (no poisoning).
"""
import hashlib
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ext4meta  # noqa: E402
from ext4meta import u16, u32  # noqa: E402

# name: (mkfs type, size, mkfs options, extra content builder)
BASES = {
    "ext4-csum": ("ext4", "16M", ["-b", "4096", "-O", "metadata_csum,64bit,^has_journal"], None),
    "ext4-nocsum": ("ext4", "8M", ["-b", "1024", "-O", "^metadata_csum,^has_journal"], None),
    "ext4-1k-journal": ("ext4", "8M", ["-b", "1024", "-O", "metadata_csum", "-J", "size=1"], None),
    "ext2-indirect": ("ext2", "8M", ["-b", "1024"], "indirect"),
    "ext4-inline": ("ext4", "8M", ["-b", "1024", "-O", "inline_data,^has_journal", "-I", "256"],
                    None),
    "ext4-htree": ("ext4", "16M", ["-b", "1024", "-O", "^has_journal"], "htree"),
    "ext4-deep-extents": ("ext4", "8M", ["-b", "1024", "-O", "^has_journal"], "deep"),
}


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


def make_tree(src, extra):
    rnd = random.Random(7)
    os.makedirs(f"{src}/canary")
    canary = {}
    for i in range(4):
        data = bytes(rnd.getrandbits(8) for _ in range(700 * (i + 1) ** 3))
        with open(f"{src}/canary/c{i}", "wb") as f:
            f.write(data)
        canary[f"canary/c{i}"] = hashlib.sha256(data).hexdigest()
    for d in range(6):
        os.makedirs(f"{src}/files/d{d}/sub")
        for i in range(8):
            with open(f"{src}/files/d{d}/f{i}", "wb") as f:
                f.write(bytes(rnd.getrandbits(8) for _ in range(rnd.choice([0, 1, 60, 1024, 5000, 70000]))))
        os.symlink("f0", f"{src}/files/d{d}/fast")
        os.symlink("/" + "long/" * 30 + "target", f"{src}/files/d{d}/slow")
        os.symlink("missing", f"{src}/files/d{d}/dangling")
        os.link(f"{src}/files/d{d}/f1", f"{src}/files/d{d}/hardlink")
        os.mkfifo(f"{src}/files/d{d}/fifo")
        os.setxattr(f"{src}/files/d{d}/f2", "user.small", b"v" * 10)
        os.setxattr(f"{src}/files/d{d}/f3", "user.big", bytes(rnd.getrandbits(8) for _ in range(900)))
        os.setxattr(f"{src}/files/d{d}/sub", "trusted.t", b"x" * 40)
        run("setfacl", "-m", "u:1000:rw,g:1000:r", f"{src}/files/d{d}/f4")
        with open(f"{src}/files/d{d}/sparse", "wb") as f:
            f.truncate(300000)
            f.seek(150000)
            f.write(b"middle")
    if extra == "indirect":
        with open(f"{src}/files/double-indirect", "wb") as f:
            f.write(bytes(rnd.getrandbits(8) for _ in range(700 * 1024)))
    if extra == "htree":
        os.makedirs(f"{src}/files/big")
        for i in range(3000):
            open(f"{src}/files/big/entry-{i:05d}-" + "é" * 12 + "-padding-name", "w").close()
    return canary


def fragment(image, count):
    """Frees every other one of `count` 1-block files, then writes a file into the holes: an
    extent tree of depth 2 when count/2 exceeds what one index block addresses."""
    with tempfile.TemporaryDirectory() as t:
        blob = f"{t}/one"
        with open(blob, "wb") as f:
            f.write(b"\x5a" * 1024)
        script = "mkdir frag\n" + "".join(f"write {blob} frag/s{i}\n" for i in range(count))
        script += "".join(f"rm frag/s{i}\n" for i in range(0, count, 2))
        with open(f"{t}/big", "wb") as f:
            f.write(random.Random(3).randbytes(1024 * (count // 2)))
        script += f"write {t}/big frag/deep\n"
        subprocess.run(["debugfs", "-w", "-f", "-", image], input=script.encode(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pin_times(image):
    """mkfs -d and debugfs stamp inodes with the current time (E2FSPROGS_FAKE_TIME covers only
    the superblock in 1.47.0): set every time field to one value so the bytes are the same on
    every run, and redo the checksums."""
    img = bytearray(open(image, "rb").read())
    fs = ext4meta.Fs(img)
    for off in (0x2C, 0x30, 0x40, 0x108):  # s_mtime, s_wtime, s_lastcheck, s_mkfs_time
        put(img, ext4meta.SB + off, 4, 1700000000)
    for ino in range(1, fs.inodes_count + 1):
        base = fs.inode_offset(ino)
        if fs.mode(ino) == 0:
            continue
        for off in (0x8, 0xC, 0x10):
            put(img, base + off, 4, 1700000000)
        if u32(img, base + 0x14):
            put(img, base + 0x14, 4, 1700000000)
        extra = u16(img, base + 0x80) if fs.inode_size > 128 else 0
        for off in (0x84, 0x88, 0x8C, 0x90, 0x94):
            if 128 + extra >= off + 4:
                put(img, base + off, 4, 1700000000 if off == 0x90 else 0)
    ext4meta.refix_everything(fs)
    with open(image, "wb") as f:
        f.write(img)


def build_bases(out):
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, E2FSPROGS_FAKE_TIME="1700000000")
    for name, (kind, size, opts, extra) in BASES.items():
        image = f"{out}/{name}.img"
        if os.path.exists(image):
            continue
        with tempfile.TemporaryDirectory() as t:
            canary = make_tree(f"{t}/src", extra)
            for root, dirs, files in os.walk(f"{t}/src"):
                for n in dirs + files:
                    os.utime(os.path.join(root, n), (1700000000, 1700000000), follow_symlinks=False)
            # Fixed UUID, hash seed and times: the same bytes on every machine, so case N is
            # the same image everywhere.
            run(f"mkfs.{kind}", "-q", "-F", "-N", "4096", "-U", "3f1c6a52-8e0b-4c39-9d67-0b5a1e2f4c11",
                "-E", "hash_seed=6c1e4b2a-3d5f-4a7b-8c9d-0e1f2a3b4c5d", *opts, "-d", f"{t}/src",
                f"{image}.tmp", size, env=env)
        if extra == "deep":
            fragment(f"{image}.tmp", 800)
        if extra == "htree":  # mkfs -d does not index directories; e2fsck -D does
            subprocess.run(["e2fsck", "-fyD", f"{image}.tmp"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        subprocess.run(["e2fsck", "-fn", f"{image}.tmp"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        pin_times(f"{image}.tmp")
        with open(f"{out}/{name}.canary.json", "w") as f:
            json.dump(canary, f)
        os.rename(f"{image}.tmp", image)


# --- what a case may touch ----------------------------------------------------------------------

def lookup(image, path):
    out = subprocess.run(["debugfs", "-R", f"stat {path}", image], capture_output=True,
                         text=True).stdout
    return int(out.split("Inode: ")[1].split()[0])


class Target:
    """The base image parsed once: in-use inodes by kind, and what must stay intact."""

    def __init__(self, image):
        self.image = image
        self.img = bytearray(open(image, "rb").read())
        self.fs = ext4meta.Fs(self.img)
        protected = {2, lookup(image, "/canary")}
        protected |= {lookup(image, f"/canary/c{i}") for i in range(4)}
        self.protected_inodes = protected
        self.protected_blocks = set()
        for ino in protected:
            self.protected_blocks |= set(self.fs.data_blocks(ino))
            if self.fs.flags(ino) & ext4meta.EXTENTS_FL:
                self.protected_blocks |= set(self.fs.extent_tree(ino)[1])
            if self.fs.xattr_block(ino):
                self.protected_blocks.add(self.fs.xattr_block(ino))
        self.by_kind = {"reg": [], "dir": [], "lnk": [], "other": []}
        first = u32(self.img, ext4meta.SB + 0x54)
        for ino in range(first, self.fs.inodes_count + 1):
            if ino in protected or u16(self.img, self.fs.inode_offset(ino) + 0x1A) == 0:
                continue
            kind = {0x8000: "reg", 0x4000: "dir", 0xA000: "lnk"}.get(self.fs.mode(ino) & 0xF000, "other")
            self.by_kind[kind].append(ino)
        self.all_inodes = sum(self.by_kind.values(), [])

    def unshared(self, blocks):
        return [b for b in blocks if b not in self.protected_blocks]


def put(img, off, size, value):
    struct.pack_into({1: "<B", 2: "<H", 4: "<I", 8: "<Q"}[size], img, off, value & ((1 << 8 * size) - 1))


def weird(rnd, old, size):
    top = (1 << 8 * size) - 1
    return rnd.choice([0, 1, top, top >> 1, old + 1, old - 1, old ^ (1 << rnd.randrange(8 * size)),
                       rnd.randrange(top + 1), old * 2, old << 8])


SB_FIELDS = [(0x0, 4), (0x4, 4), (0x14, 4), (0x18, 4), (0x1C, 4), (0x20, 4), (0x24, 4),
             (0x28, 4), (0x38, 2), (0x4C, 4), (0x54, 4), (0x58, 2), (0x5C, 4), (0x60, 4),
             (0x64, 4), (0xCE, 2), (0xE0, 4), (0xFC, 1), (0xFE, 2), (0x104, 4), (0x150, 4),
             (0x15C, 2), (0x15E, 2), (0x160, 4), (0x174, 1), (0x175, 1), (0x270, 4)]
GD_FIELDS = [(0x0, 4), (0x4, 4), (0x8, 4), (0xC, 2), (0xE, 2), (0x10, 2), (0x12, 2), (0x1C, 2)]
INODE_FIELDS = [(0x0, 2), (0x4, 4), (0x6C, 4), (0x1A, 2), (0x1C, 4), (0x68, 4), (0x74, 2),
                (0x80, 2), (0x64, 4)]
FLAG_BITS = [0x80000, 0x10000000, 0x1000, 0x40000, 0x200000, 0x4000, 0x800, 0x20, 0x10, 0x10000,
             0x400000, 0x1000000]


def c_superblock(t, rnd):
    off, size = rnd.choice(SB_FIELDS)
    old = int.from_bytes(t.img[ext4meta.SB + off:ext4meta.SB + off + size], "little")
    put(t.img, ext4meta.SB + off, size, weird(rnd, old, size))
    t.fs.fix_superblock()
    return False, f"superblock field 0x{off:x}"


def c_group_desc(t, rnd):
    g = rnd.randrange(t.fs.groups)
    off, size = rnd.choice(GD_FIELDS)
    base = t.fs.gd_offset(g) + off
    put(t.img, base, size, weird(rnd, int.from_bytes(t.img[base:base + size], "little"), size))
    t.fs.fix_group_desc(g)
    return False, f"group {g} descriptor field 0x{off:x}"


def c_inode(t, rnd):
    ino = rnd.choice(t.all_inodes)
    base = t.fs.inode_offset(ino)
    if rnd.random() < 0.3:
        put(t.img, base + 0x20, 4, u32(t.img, base + 0x20) ^ rnd.choice(FLAG_BITS))
        what = "flags"
    elif rnd.random() < 0.3:
        off = 0x28 + rnd.randrange(60)
        t.img[off + base] = rnd.randrange(256)
        what = f"i_block byte {off - 0x28}"
    else:
        off, size = rnd.choice(INODE_FIELDS)
        put(t.img, base + off, size, weird(rnd, int.from_bytes(t.img[base + off:base + off + size], "little"), size))
        what = f"field 0x{off:x}"
    t.fs.fix_inode(ino)
    return True, f"inode {ino} {what}"


def c_extent(t, rnd):
    inodes = [i for i in t.by_kind["reg"] + t.by_kind["dir"] if t.fs.flags(i) & ext4meta.EXTENTS_FL]
    if not inodes:
        return c_inode(t, rnd)
    deep = [i for i in inodes if t.fs.extent_tree(i)[1]]
    ino = rnd.choice(deep) if deep and rnd.random() < 0.6 else rnd.choice(inodes)
    tree = t.unshared(t.fs.extent_tree(ino)[1])
    if tree and rnd.random() < 0.6:
        blk = rnd.choice(tree)
        hdr, fix = t.fs.block_offset(blk), lambda: t.fs.fix_extent_block(ino, blk)
        where = f"tree block {blk}"
    else:
        hdr, fix = t.fs.inode_offset(ino) + 0x28, lambda: t.fs.fix_inode(ino)
        where = "in-inode root"
    entries = max(1, min(u16(t.img, hdr + 2), 4 if where == "in-inode root" else 84))
    choice = rnd.randrange(8)
    if choice < 4:  # magic, entries, max, depth
        off = hdr + 2 * choice
        put(t.img, off, 2, weird(rnd, u16(t.img, off), 2))
        what = ["magic", "entries", "max", "depth"][choice]
    else:  # an entry: logical block, length, start (hi), start (lo)
        e = hdr + 12 + 12 * rnd.randrange(entries)
        off, size = [(0, 4), (4, 2), (6, 2), (8, 4)][choice - 4]
        put(t.img, e + off, size, weird(rnd, int.from_bytes(t.img[e + off:e + off + size], "little"), size))
        what = f"entry field {off}"
    fix()
    if where != "in-inode root":
        t.fs.fix_inode(ino)
    return True, f"inode {ino} extent {where} {what}"


def c_block_map(t, rnd):
    inodes = [i for i in t.by_kind["reg"] + t.by_kind["dir"]
              if not t.fs.flags(i) & (ext4meta.EXTENTS_FL | ext4meta.INLINE_DATA_FL) and t.fs.size(i)]
    if not inodes:
        return c_extent(t, rnd)
    ino = rnd.choice(inodes)
    data, ind = t.fs.block_map(ino)
    ind = t.unshared(ind)
    if ind and rnd.random() < 0.5:
        blk = rnd.choice(ind)
        off = t.fs.block_offset(blk) + 4 * rnd.randrange(t.fs.block_size // 4)
        where = f"indirect block {blk}"
    else:
        off = t.fs.inode_offset(ino) + 0x28 + 4 * rnd.randrange(15)
        where = "i_block"
    put(t.img, off, 4, rnd.choice([0, 1, 0xFFFFFFFF, t.fs.blocks_count(), rnd.randrange(1 << 32),
                                   rnd.choice(ind or [5]), rnd.randrange(t.fs.blocks_count())]))
    t.fs.fix_inode(ino)
    return True, f"inode {ino} block map {where}"


def dir_entries(t, blk):
    base, bs, out, pos = t.fs.block_offset(blk), t.fs.block_size, [], 0
    while pos + 8 <= bs and len(out) < 500:
        out.append(base + pos)
        rec = u16(t.img, base + pos + 4)
        if rec < 8:
            break
        pos += rec
    return out


def c_dirent(t, rnd):
    dirs = [(i, b) for i in t.by_kind["dir"] for b in t.unshared(t.fs.data_blocks(i))]
    if not dirs:
        return c_inode(t, rnd)
    ino, blk = rnd.choice(dirs)
    e = rnd.choice(dir_entries(t, blk))
    off, size = rnd.choice([(0, 4), (4, 2), (6, 1), (7, 1)])
    put(t.img, e + off, size, weird(rnd, int.from_bytes(t.img[e + off:e + off + size], "little"), size))
    t.fs.fix_dir_block(ino, blk)
    return True, f"dir {ino} block {blk} entry field {off}"


def c_htree(t, rnd):
    dirs = [i for i in t.by_kind["dir"] if t.fs.flags(i) & ext4meta.INDEX_FL]
    if not dirs:
        return c_dirent(t, rnd)
    ino = rnd.choice(dirs)
    blocks = t.fs.data_blocks(ino)
    root = t.fs.block_offset(blocks[0])
    choice = rnd.randrange(6)
    if choice == 0:
        off, size, what = root + 0x1C, 1, "hash version"
    elif choice == 1:
        off, size, what = root + 0x1D, 1, "info length"
    elif choice == 2:
        off, size, what = root + 0x1E, 1, "indirect levels"
    elif choice == 3:
        off, size, what = root + 0x20 + 2 * rnd.randrange(2), 2, "limit/count"
    else:
        count = max(1, min(u16(t.img, root + 0x22), 120))
        off, size, what = root + 0x20 + 8 * rnd.randrange(count) + 4 * (choice - 4), 4, "dx entry"
    put(t.img, off, size, weird(rnd, int.from_bytes(t.img[off:off + size], "little"), size))
    t.fs.fix_dir_block(ino, blocks[0])
    return True, f"dir {ino} htree root {what}"


def c_symlink(t, rnd):
    if not t.by_kind["lnk"]:
        return c_inode(t, rnd)
    ino = rnd.choice(t.by_kind["lnk"])
    base = t.fs.inode_offset(ino)
    size = rnd.choice([0, 1, 59, 60, 61, t.fs.block_size - 1, t.fs.block_size, t.fs.block_size + 1,
                       4096, 1 << 32, rnd.randrange(1 << 32)])
    put(t.img, base + 0x4, 4, size)
    put(t.img, base + 0x6C, 4, size >> 32)
    t.fs.fix_inode(ino)
    return True, f"symlink {ino} size {size}"


def c_xattr(t, rnd):
    blocks = [(i, t.fs.xattr_block(i)) for i in t.all_inodes
              if t.fs.xattr_block(i) and t.fs.xattr_block(i) not in t.protected_blocks]
    if blocks and rnd.random() < 0.6:
        ino, blk = rnd.choice(blocks)
        base = t.fs.block_offset(blk)
        if rnd.random() < 0.3:
            off, size = rnd.choice([(0, 4), (4, 4), (8, 4)])
            what = "header"
        else:
            e_field = rnd.choice([(0, 1), (1, 1), (2, 2), (4, 4), (8, 4), (12, 4)])
            off, size = 32 + e_field[0], e_field[1]
            what = f"first entry field {e_field[0]}"
        put(t.img, base + off, size, weird(rnd, int.from_bytes(t.img[base + off:base + off + size], "little"), size))
        t.fs.fix_xattr_block(blk)
        return True, f"inode {ino} xattr block {blk} {what}"
    if t.fs.inode_size <= 128:
        return c_inode(t, rnd)
    ino = rnd.choice(t.all_inodes)
    base = t.fs.inode_offset(ino)
    start = 128 + u16(t.img, base + 0x80)
    if start + 8 >= t.fs.inode_size:
        return c_inode(t, rnd)
    off = start + rnd.randrange(min(40, t.fs.inode_size - start))
    t.img[base + off] = rnd.randrange(256)
    t.fs.fix_inode(ino)
    return True, f"inode {ino} in-inode xattr byte {off}"


def c_flip(t, rnd):
    """Random bytes of one metadata structure of a non-canary object, checksum redone."""
    ino = rnd.choice(t.all_inodes)
    structures = [("inode", None)]
    if t.fs.mode(ino) & 0xF000 == 0x4000:
        structures += [("dir", b) for b in t.unshared(t.fs.data_blocks(ino))]
    if t.fs.flags(ino) & ext4meta.EXTENTS_FL:
        structures += [("extent", b) for b in t.unshared(t.fs.extent_tree(ino)[1])]
    if t.fs.xattr_block(ino) and t.fs.xattr_block(ino) not in t.protected_blocks:
        structures.append(("xattr", t.fs.xattr_block(ino)))
    kind, blk = rnd.choice(structures)
    if kind == "inode":
        base, length = t.fs.inode_offset(ino), t.fs.inode_size
    else:
        base, length = t.fs.block_offset(blk), t.fs.block_size
    for _ in range(rnd.randint(1, 8)):
        t.img[base + rnd.randrange(length)] ^= 1 << rnd.randrange(8)
    if kind == "dir":
        t.fs.fix_dir_block(ino, blk)
    elif kind == "extent":
        t.fs.fix_extent_block(ino, blk)
    elif kind == "xattr":
        t.fs.fix_xattr_block(blk)
    t.fs.fix_inode(ino)
    return True, f"byte flips in inode {ino}'s {kind}" + (f" block {blk}" if blk else "")


def c_flip_global(t, rnd):
    if rnd.random() < 0.5:
        for _ in range(rnd.randint(1, 4)):
            t.img[ext4meta.SB + rnd.randrange(0x3FC)] ^= 1 << rnd.randrange(8)
        t.fs.fix_superblock()
        return False, "byte flips in the superblock"
    g = rnd.randrange(t.fs.groups)
    base = t.fs.gd_offset(g)
    for _ in range(rnd.randint(1, 4)):
        t.img[base + rnd.randrange(t.fs.desc_size)] ^= 1 << rnd.randrange(8)
    t.fs.fix_group_desc(g)
    return False, f"byte flips in group descriptor {g}"


def c_truncate(t, rnd):
    keep = rnd.choice([0, 512, 1024, 2048, 4096, len(t.img) // 3, len(t.img) - 4096, len(t.img) - 1])
    del t.img[keep:]
    return False, f"image cut to {keep} bytes"


CASES = [(c_superblock, 3), (c_group_desc, 2), (c_inode, 4), (c_extent, 4), (c_block_map, 2),
         (c_dirent, 4), (c_htree, 2), (c_symlink, 2), (c_xattr, 3), (c_flip, 5),
         (c_flip_global, 1), (c_truncate, 1)]


def make_case(bases, n, out):
    """Case n: base n % len(BASES), corruption chosen by a generator seeded with n."""
    rnd = random.Random(n)
    name = list(BASES)[n % len(BASES)]
    t = Target(f"{bases}/{name}.img")
    kinds = [c for c, w in CASES for _ in range(w)]
    if name == "ext2-indirect":
        kinds += [c_block_map] * 6
    if name == "ext4-htree":
        kinds += [c_htree] * 6
    if name == "ext4-deep-extents":
        kinds += [c_extent] * 6
    local, what = rnd.choice(kinds)(t, rnd)
    with open(out, "wb") as f:
        f.write(t.img)
    return {"case": n, "base": name, "local": local, "what": what,
            "canary": f"{bases}/{name}.canary.json"}


def self_test(bases):
    """Harmless field changes + recomputed checksums must leave e2fsck with nothing to say."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in BASES:
            t = Target(f"{bases}/{name}.img")
            if not t.fs.csum:
                continue
            t.img[ext4meta.SB + 0x78] ^= 0x20  # volume name
            t.fs.fix_superblock()
            put(t.img, t.fs.gd_offset(0) + 0x14, 4, 0)  # exclude bitmap (unused)
            t.fs.fix_group_desc(0)
            for ino in t.all_inodes:
                put(t.img, t.fs.inode_offset(ino) + 0x8, 4, 12345)  # atime
                t.fs.fix_inode(ino)
                if t.fs.flags(ino) & ext4meta.EXTENTS_FL:
                    for blk in t.fs.extent_tree(ino)[1]:
                        put(t.img, t.fs.block_offset(blk) + 8, 4, 99)  # eh_generation
                        t.fs.fix_extent_block(ino, blk)
                if t.fs.mode(ino) & 0xF000 == 0x4000:
                    for blk in t.fs.data_blocks(ino):
                        b = t.fs.block_offset(blk)
                        tail = b + t.fs.block_size - 12
                        if u16(t.img, tail + 4) == 12:
                            put(t.img, tail + 6, 1, 0)  # checksum recomputed from scratch
                            put(t.img, tail + 8, 4, 0)
                        t.fs.fix_dir_block(ino, blk)
                xb = t.fs.xattr_block(ino)
                if xb:
                    put(t.img, t.fs.block_offset(xb) + 0x14, 4, 7)  # h_reserved
                    t.fs.fix_xattr_block(xb)
            path = f"{tmp}/{name}"
            with open(path, "wb") as f:
                f.write(t.img)
            r = subprocess.run(["e2fsck", "-fn", path], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"self-test FAILED on {name}:\n{r.stdout}{r.stderr}")
                return 1
            print(f"self-test ok: {name}")
    return 0


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "bases" and len(sys.argv) == 3:
        build_bases(sys.argv[2])
    elif cmd == "make" and len(sys.argv) == 5:
        print(json.dumps(make_case(sys.argv[2], int(sys.argv[3]), sys.argv[4])))
    elif cmd == "self-test" and len(sys.argv) == 3:
        sys.exit(self_test(sys.argv[2]))
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
