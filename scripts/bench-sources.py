#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where the image lives, measured (issue 13): ext4pager reading the same filesystem from the
raw file, an Android sparse image, a qcow2 (qemu-nbd started by ext4pager), and NBD exports on a
unix socket and on 127.0.0.1 — each as a ratio to the raw file in the same run, cold (caches
dropped, fresh mount) — and against what a user does without it: convert the image first
(simg2img, qemu-img convert), then mount it with the kernel or fuse2fs. Run by
scripts/bench-sources.sh (as root); writes docs/PERFORMANCE-sources.md.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (drop_caches, w_cat, w_shell, wait_for)

WORKLOADS = [
    # name, image key, function(mnt) -> digest
    ("seq read 1 GiB", "big", lambda m: bench.w_cat(f"{m}/big-1g")),
    ("tar cf - . (50k tree)", "tree",
     lambda m: bench.w_shell("tar --numeric-owner -cf - . | sha256sum", m)),
]
SOURCES = ["raw", "sparse", "qcow2", "nbd-unix", "nbd-tcp"]


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Containers:
    """The images converted once into the containers ext4pager reads, and NBD servers of the raw
    images (qemu-nbd, as a user would run one), up for the whole run."""

    def __init__(self, images, work):
        self.images, self.work, self.servers, self.uri = images, work, [], {}
        os.makedirs(work, exist_ok=True)
        for key, raw in images.items():
            self.convert(f"img2simg {raw} {{out}}", f"{work}/{key}.simg", raw)
            self.convert(f"qemu-img convert -O qcow2 {raw} {{out}}", f"{work}/{key}.qcow2", raw)
            sock = f"{work}/{key}.sock"
            port = free_port()
            for where in (f"--socket={sock}", f"--bind=127.0.0.1 --port={port}"):
                self.servers.append(subprocess.Popen(
                    f"exec qemu-nbd --read-only --persistent --shared=8 --format=raw {where} {raw}",
                    shell=True))
            bench.wait_for(lambda: os.path.exists(sock), 30, "qemu-nbd's socket")
            bench.wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 30,
                           "qemu-nbd's port")
            self.uri[key] = {"nbd-unix": f"nbd+unix:///?socket={sock}",
                             "nbd-tcp": f"nbd://127.0.0.1:{port}"}

    @staticmethod
    def convert(cmd, out, raw):
        if os.path.exists(out) and os.path.getmtime(out) > os.path.getmtime(raw):
            return
        sh(cmd.format(out=out + ".tmp"))
        os.rename(out + ".tmp", out)

    def source(self, kind, key):
        if kind == "raw":
            return self.images[key]
        if kind == "sparse":
            return f"{self.work}/{key}.simg"
        if kind == "qcow2":
            return f"{self.work}/{key}.qcow2"
        return self.uri[key][kind]

    def stop(self):
        for p in self.servers:
            p.terminate()
            p.wait()


def daemon_pid(mnt):
    out = subprocess.run(["pgrep", "-n", "-f", f"ext4pager.* {mnt}$"], capture_output=True,
                         text=True).stdout.split()
    return int(out[0]) if out else None


def cpu_seconds(pid):
    stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def stats(ext4pager, mnt):
    out = subprocess.run([ext4pager, "--stats", mnt], capture_output=True, text=True).stdout
    return {l.split()[0]: l.split(None, 1)[1] for l in out.splitlines() if len(l.split()) >= 2}


def run_ext4pager(ext4pager, source, mnt, fn):
    """One cold run: (seconds, digest, daemon CPU seconds, --stats)."""
    bench.drop_caches()
    sh(f"{ext4pager} '{source}' {mnt}")
    try:
        pid = daemon_pid(mnt)
        c0 = cpu_seconds(pid)
        t0 = time.perf_counter()
        digest = fn(mnt)
        t = time.perf_counter() - t0
        cpu = cpu_seconds(pid) - c0
        st = stats(ext4pager, mnt)
    finally:
        sh(f"fusermount3 -u {mnt}")
        bench.wait_for(lambda: pid is None or not os.path.exists(f"/proc/{pid}"), 30,
                       "the daemon to exit")
    return t, digest, cpu, st


def first_file(mnt):
    with open(f"{mnt}/big-1g", "rb", buffering=0) as f:
        f.read(1 << 20)


def convert_then_mount(cmd, how, ext4pager, mnt, scratch):
    """A user's way without ext4pager: convert, mount, read. (time to the first MiB, total)."""
    bench.drop_caches()
    t0 = time.perf_counter()
    sh(cmd.format(out=scratch))
    if how == "kernel":
        sh(f"mount -o loop,ro {scratch} {mnt}")
    else:
        sh(f"fuse2fs -o ro {scratch} {mnt} >/dev/null 2>&1")
    try:
        first_file(mnt)
        t_first = time.perf_counter() - t0
        bench.w_cat(f"{mnt}/big-1g")
        total = time.perf_counter() - t0
    finally:
        sh(f"umount {mnt}")
        os.unlink(scratch)
    return t_first, total


def direct(ext4pager, source, mnt):
    bench.drop_caches()
    t0 = time.perf_counter()
    sh(f"{ext4pager} '{source}' {mnt}")
    try:
        first_file(mnt)
        t_first = time.perf_counter() - t0
        bench.w_cat(f"{mnt}/big-1g")
        total = time.perf_counter() - t0
    finally:
        sh(f"fusermount3 -u {mnt}")
    return t_first, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ext4pager", required=True)
    ap.add_argument("--images", required=True, help="dir with big.img and tree.img")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="docs/PERFORMANCE-sources.md")
    a = ap.parse_args()
    images = {k: os.path.join(a.images, f"{k}.img") for k in ("big", "tree")}
    mnt = "/tmp/ext4pager-bench-sources/mnt"
    os.makedirs(mnt, exist_ok=True)
    c = Containers(images, os.path.join(a.images, "sources"))
    rows = []
    try:
        for name, key, fn in WORKLOADS:
            res = {}
            for kind in SOURCES:
                runs = [run_ext4pager(a.ext4pager, c.source(kind, key), mnt, fn)
                        for _ in range(a.runs)]
                if len({r[1] for r in runs}) != 1:
                    raise RuntimeError(f"{name}: {kind} gave different outputs across runs")
                res[kind] = runs
                print(f"{name:24} {kind:9} " + " ".join(f"{r[0]:.2f}" for r in runs), flush=True)
            if len({r[0][1] for r in res.values()}) != 1:
                raise RuntimeError(f"{name}: sources disagree on the bytes")
            rows.append((name, res))
        alt = []
        for label, cmd, how, src in (
                ("simg2img, then the kernel's mount", "simg2img {sparse} {{out}}", "kernel", None),
                ("qemu-img convert, then the kernel's mount",
                 "qemu-img convert -f qcow2 -O raw {qcow2} {{out}}", "kernel", None),
                ("qemu-img convert, then fuse2fs", "qemu-img convert -f qcow2 -O raw {qcow2} {{out}}",
                 "fuse2fs", None),
                ("ext4pager on the sparse image", None, None, "sparse"),
                ("ext4pager on the qcow2", None, None, "qcow2")):
            if src:
                t = [direct(a.ext4pager, c.source(src, "big"), mnt) for _ in range(a.runs)]
            else:
                full = cmd.format(sparse=c.source("sparse", "big"), qcow2=c.source("qcow2", "big"))
                t = [convert_then_mount(full, how, a.ext4pager, mnt,
                                        os.path.join(a.images, "sources", "scratch.img"))
                     for _ in range(a.runs)]
            alt.append((label, min(x[0] for x in t), min(x[1] for x in t)))
            print(f"{label:44} first MiB {alt[-1][1]:.2f} s, total {alt[-1][2]:.2f} s", flush=True)
    finally:
        c.stop()
    write_report(a.out, rows, alt, a.runs)


def write_report(out, rows, alt, runs):
    cpu_name = subprocess.run("lscpu | grep 'Model name' | sed 's/.*: *//'", shell=True,
                              capture_output=True, text=True).stdout.strip()
    lines = ["# Performance: where the image lives", "",
             f"Generated by `scripts/bench-sources.sh` on {time.strftime('%Y-%m-%d')}: "
             f"{os.cpu_count()} CPUs ({cpu_name}), kernel {os.uname().release}. Best of {runs} "
             "cold runs (host caches dropped, fresh mount); ratio = time ÷ the raw file's in "
             "the same run. Daemon CPU is ext4pager's own (not qemu-nbd's). NBD servers are "
             "`qemu-nbd --read-only --shared=8` of the raw image; the qcow2 row's qemu-nbd is "
             "the one ext4pager starts.", ""]
    for name, res in rows:
        raw = min(r[0] for r in res["raw"])
        lines += [f"## {name}", "",
                  "| source | best | ratio to raw | daemon CPU | source reads | mean read | "
                  "NBD requests |", "|---|---|---|---|---|---|---|"]
        for kind, runs in res.items():
            best = min(runs, key=lambda r: r[0])
            st = best[3]
            lines.append(f"| {kind} | {best[0]:.2f} s | {best[0] / raw:.2f}× | {best[2]:.2f} s | "
                         f"{st.get('source_reads', '-')} | "
                         f"{int(st.get('source_mean_read', 0)) / 1024:.0f} KiB | "
                         f"{st.get('nbd_requests', '-')} |")
        lines.append("")
    lines += ["## Time to the first MiB of a 1 GiB file, and to all of it", "",
              "| how | first MiB | whole file |", "|---|---|---|"]
    for label, first, total in alt:
        lines.append(f"| {label} | {first:.2f} s | {total:.2f} s |")
    lines.append("")
    analysis = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-sources-analysis.md")
    if os.path.exists(analysis):
        lines.append(open(analysis).read())
    with open(out, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
