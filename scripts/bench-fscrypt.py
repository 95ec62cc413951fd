#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reading encrypted files, measured: ext4pager with -o key=FILE against the kernel's loop mount
with the same key added (FS_IOC_ADD_ENCRYPTION_KEY), on the same image, cold (caches dropped,
fresh mounts), best of N, with ext4pager's daemon CPU; and unencrypted files on the same image
(and through fuse2fs) as the baseline. Every run's bytes are checked against what Debian's
kernel read back when it wrote them. Run by scripts/bench-fscrypt.sh (as root); writes
docs/PERFORMANCE-fscrypt.md.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (drop_caches, w_cat, wait_for)

POLICIES = [("plain", "none"), ("xts", "AES-256-XTS / AES-256-CTS"),
            ("essiv", "AES-128-CBC-ESSIV / AES-128-CTS")]


def read_tree(root):
    out = subprocess.run("find . -type f | sort | xargs cat", shell=True, cwd=root, check=True,
                         capture_output=True, env=dict(os.environ, LC_ALL="C")).stdout
    return hashlib.sha256(out).hexdigest()


WORKLOADS = [("big", "sequential read, 256 MiB", lambda d: bench.w_cat(f"{d}/big")),
             ("tree", "read 3000 small files (find | sort | xargs cat)",
              lambda d: read_tree(f"{d}/tree"))]


def cpu_seconds(pid):
    stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


class Mount:
    """One fresh mount of the image by `system`, with the key where it applies."""

    def __init__(self, a, system, mnt):
        self.a, self.system, self.mnt, self.pid = a, system, mnt, None

    def __enter__(self):
        a, m = self.a, self.mnt
        if self.system == "kernel":
            bench.sh(f"mount -o loop,ro {a.image} {m}")
            bench.sh(f"{a.helper} add_key {m} {a.key} >/dev/null")
        elif self.system == "fuse2fs":
            bench.sh(f"fuse2fs -o ro {a.image} {m} >/dev/null 2>&1")
        else:
            bench.sh(f"{a.ext4pager} {a.image} {m} -o key={a.key}")
            out = subprocess.run(["pgrep", "-n", "-f", f"ext4pager.* {m} "], capture_output=True,
                                 text=True).stdout.split()
            self.pid = int(out[0])
        return self

    def __exit__(self, *exc):
        bench.sh(f"umount {self.mnt}")
        if self.pid:
            bench.wait_for(lambda: not os.path.exists(f"/proc/{self.pid}"), 30, "the daemon")


def one_run(a, system, policy, fn, mnt):
    """(seconds, digest, daemon CPU seconds or None); digest None when the read fails."""
    with Mount(a, system, mnt) as m:
        bench.drop_caches()
        c0 = cpu_seconds(m.pid) if m.pid else 0
        t0 = time.perf_counter()
        try:
            digest = fn(f"{mnt}/{policy}")
        except (OSError, subprocess.CalledProcessError):
            digest = None
        t = time.perf_counter() - t0
        cpu = cpu_seconds(m.pid) - c0 if m.pid else None
    return t, digest, cpu


def main():
    ap = argparse.ArgumentParser()
    for opt in ("--ext4pager", "--image", "--key", "--helper", "--sums"):
        ap.add_argument(opt, required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="docs/PERFORMANCE-fscrypt.md")
    a = ap.parse_args()
    sums = {(l.split()[0], l.split()[1]): l.split()[2] for l in open(a.sums)}
    mnt = "/tmp/ext4pager-bench-fscrypt"
    os.makedirs(mnt, exist_ok=True)
    res = {}
    for key, _, fn in WORKLOADS:
        for policy, _ in POLICIES:
            for system in ("kernel", "ext4pager", "fuse2fs"):
                if system == "fuse2fs" and policy != "plain":
                    continue
                runs = [one_run(a, system, policy, fn, mnt) for _ in range(a.runs)]
                ok = [r for r in runs if r[1] == sums[(policy, key)]]
                if system == "ext4pager" and len(ok) != len(runs):
                    raise RuntimeError(f"ext4pager read wrong bytes: {policy} {key}")
                res[(key, policy, system)] = min(ok) if ok else None
                print(f"{key:5} {policy:6} {system:10} " +
                      " ".join(f"{r[0]:.2f}" + ("" if r[1] else "(failed)") for r in runs),
                      flush=True)
    write_report(a, res)


def cell(r, base=None):
    if r is None:
        return "cannot read"
    s = f"{r[0]:.2f} s"
    if base:
        s += f" ({r[0] / base[0]:.2f}×)"
    return s


def kernel_drivers():
    """The implementations this kernel chose for the fscrypt modes (instantiated by the runs)."""
    found, name = {}, None
    for line in open("/proc/crypto"):
        k, _, v = (x.strip() for x in line.partition(":"))
        if k == "name":
            name = v
        elif k == "driver" and name in ("xts(aes)", "essiv(cbc(aes),sha256)"):
            found.setdefault(name, v)
    return found


def write_report(a, res):
    kernel = subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip()
    drivers = kernel_drivers()
    lines = ["# Reading encrypted files: ext4pager -o key=FILE against the kernel", "",
             "Made by `scripts/bench-fscrypt.sh`; do not edit. Cold (caches dropped, fresh "
             f"mounts), best of {a.runs}; the ratio is to the kernel in the same row. "
             f"Kernel: {kernel}; {os.cpu_count()} CPUs. Every run's bytes were checked against "
             "the SHA-256 Debian's kernel read back when it wrote them.", "",
             f"The kernel's AES-256-XTS here is `{drivers.get('xts(aes)', 'none')}`, its "
             f"ESSIV `{drivers.get('essiv(cbc(aes),sha256)', 'none (no essiv template)')}`; "
             "ext4pager decrypts with OpenSSL's libcrypto, with AES-NI where the CPU has it.",
             ""]
    for key, title, _ in WORKLOADS:
        lines += [f"## {title}", "",
                  "| policy | kernel (loop, key added) | ext4pager (-o key) | ext4pager daemon CPU"
                  " | fuse2fs |", "|---|---|---|---|---|"]
        for policy, label in POLICIES:
            k = res[(key, policy, "kernel")]
            e = res[(key, policy, "ext4pager")]
            f = res.get((key, policy, "fuse2fs"))
            lines.append(f"| {label} | {cell(k)} | {cell(e, k)} | {e[2]:.2f} s | "
                         f"{cell(f, k) if policy == 'plain' else 'cannot decrypt'} |")
        lines.append("")
    with open(a.out, "w") as fh:
        fh.write("\n".join(lines))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
