#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ext4pager benchmark: the kernel's ext4 (mount -o loop,ro) vs ext4pager vs fuse2fs, in one run,
alternating systems, each workload several times; medians, ratios to the kernel, outputs
checked equal across systems. Writes docs/PERFORMANCE.md. Run by scripts/bench.sh (as root).
"""
import argparse
import hashlib
import mmap
import os
import platform
import random
import statistics
import subprocess
import sys
import time

# ext4pager on its default transport (io_uring where the kernel offers it) and on /dev/fuse.
SYSTEMS = ["kernel", "ext4pager", "ext4pager-devfuse", "fuse2fs"]
EXT4PAGER_OPTS = {"ext4pager": "-o io_uring=auto", "ext4pager-devfuse": "-o io_uring=off"}


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


class Mount:
    """One system's mount of one image; remounted for every cold run (so no daemon cache
    survives either)."""

    def __init__(self, system, image, mnt, ext4pager, extra):
        self.system, self.image, self.mnt, self.ext4pager = system, image, mnt, ext4pager
        self.extra = extra
        self.pid = None
        os.makedirs(mnt, exist_ok=True)

    def mount(self):
        t0 = time.perf_counter()
        if self.system == "kernel":
            sh(f"mount -o loop,ro {self.image} {self.mnt}")
        elif self.system in EXT4PAGER_OPTS:
            opts = EXT4PAGER_OPTS[self.system] + (" -o dev" if self.extra.get("dev") else "")
            sh(f"{self.ext4pager} {opts} {self.image} {self.mnt}")
        else:
            opts = "ro" + (",dev" if self.extra.get("dev") else "")
            sh(f"fuse2fs -o {opts} {self.image} {self.mnt} >/dev/null 2>&1")
        t = time.perf_counter() - t0
        self.pid = None
        if self.system != "kernel":
            name = "ext4pager" if self.system in EXT4PAGER_OPTS else self.system
            out = subprocess.run(["pgrep", "-n", "-f", f"{name}.* {self.mnt}$"],
                                 capture_output=True, text=True).stdout.split()
            self.pid = int(out[0]) if out else None
        return t

    def umount(self):
        if self.system == "kernel":
            sh(f"umount {self.mnt}")
        else:
            sh(f"fusermount3 -u {self.mnt}")
            for _ in range(200):
                if self.pid is None or not os.path.exists(f"/proc/{self.pid}"):
                    break
                time.sleep(0.02)

    def daemon_status(self):
        """(peak RSS MiB, CPU seconds, context switches) of the daemon, or Nones."""
        if not self.pid:
            return None, None, None
        try:
            st = open(f"/proc/{self.pid}/status").read().split("\n")
            stat = open(f"/proc/{self.pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            return None, None, None
        kv = {l.split(":")[0]: l.split(":", 1)[1].strip() for l in st if ":" in l}
        hwm = int(kv["VmHWM"].split()[0]) / 1024
        cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        ctx = 0  # summed over every thread of the daemon
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                for l in open(f"/proc/{self.pid}/task/{tid}/status"):
                    if l.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        ctx += int(l.split()[1])
            except OSError:
                pass
        return hwm, cpu, ctx

    def pager_stats(self):
        if self.system not in EXT4PAGER_OPTS:
            return {}
        out = subprocess.run([self.ext4pager, "--stats", self.mnt], capture_output=True,
                             text=True).stdout
        return {l.split()[0]: int(l.split()[1]) for l in out.splitlines() if len(l.split()) == 2}


# --- workloads: each returns a digest of what it read, so systems can be checked equal -------

def w_cat(path):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def w_mmap_random(path, touches=20000, seed=42):
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        with mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
            m.madvise(mmap.MADV_RANDOM)
            r = random.Random(seed)
            h = hashlib.sha256()
            for _ in range(touches):
                off = r.randrange(0, size // 4096) * 4096
                h.update(m[off:off + 8])
            return h.hexdigest()


def w_mmap_seq(path):
    with open(path, "rb") as f:
        with mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
            m.madvise(mmap.MADV_SEQUENTIAL)
            h = hashlib.sha256()
            for off in range(0, len(m), 4096):
                h.update(m[off:off + 8])
            return h.hexdigest()


def w_parallel(path):
    size = os.path.getsize(path)
    half = size // 2
    cmds = [f"dd if={path} bs=1M count={half >> 20} status=none | sha256sum",
            f"dd if={path} bs=1M skip={half >> 20} status=none | sha256sum"]
    procs = [subprocess.Popen(c, shell=True, stdout=subprocess.PIPE, text=True) for c in cmds]
    return "".join(p.communicate()[0] for p in procs)


def w_shell(cmd, cwd):
    out = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, check=False).stdout
    return hashlib.sha256(out).hexdigest()


def w_chroot(root):
    script = ("ls -R /usr >/dev/null; dpkg -l >/dev/null; "
              "perl -e 'use POSIX; print floor(3.7)' >/dev/null; "
              "for i in 1 2 3 4 5; do /bin/true; ls / >/dev/null; done; "
              "sha256sum /usr/bin/* /usr/lib/x86_64-linux-gnu/*.so* 2>/dev/null | sha256sum")
    p = subprocess.run(["env", "-i", "PATH=/usr/bin:/bin", "LANG=C", "/usr/sbin/chroot", root,
                        "/bin/sh", "-c", script], capture_output=True)
    if p.returncode != 0 or not p.stdout:
        raise RuntimeError(f"chrooted programs failed: {p.stderr[-300:]!r}")
    out = p.stdout
    return hashlib.sha256(out).hexdigest()


def workloads(images):
    big, tree, root = images["big"], images["tree"], images["rootfs"]
    return [
        # name, image key, cold?, function(mnt) -> digest
        ("seq read 1 GiB, cold", "big", True, lambda m: w_cat(f"{m}/big-1g")),
        ("seq re-read 1 GiB, warm", "big", False, lambda m: w_cat(f"{m}/big-1g")),
        ("mmap random 4 KiB x20000 (256 MiB), cold", "big", True,
         lambda m: w_mmap_random(f"{m}/mid-256m")),
        ("mmap sequential 256 MiB, cold", "big", True, lambda m: w_mmap_seq(f"{m}/mid-256m")),
        ("2 parallel readers (1 GiB halves), cold", "big", True,
         lambda m: w_parallel(f"{m}/big-1g")),
        ("find -type f (50k tree), cold", "tree", True,
         lambda m: w_shell("find . -type f | sort | sha256sum", m)),
        ("du --apparent-size (50k tree), cold", "tree", True,
         lambda m: w_shell("du -s --apparent-size .", m)),
        ("ls -lR (50k tree), cold", "tree", True,
         lambda m: w_shell("ls -lR --time-style=full-iso . | sha256sum", m)),
        ("tar cf - . (50k tree), cold", "tree", True,
         lambda m: w_shell("tar --numeric-owner -cf - . | sha256sum", m)),
        ("chrooted programs (Debian rootfs), cold", "rootfs", True, w_chroot),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ext4pager", required=True)
    ap.add_argument("--images", required=True, help="dir with big.img tree.img rootfs.img")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="docs/PERFORMANCE.md")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--only", default="", help="run the workloads whose name contains this "
                    "(a trial run: the report is written to --out all the same)")
    a = ap.parse_args()
    systems = a.systems.split(",")
    images = {k: os.path.join(a.images, f"{k}.img") for k in ("big", "tree", "rootfs")}
    base = "/tmp/ext4pager-bench"
    results, digests, daemon, pstats, mount_times = {}, {}, {}, {}, {}
    for name, key, cold, fn in workloads(images):
        if a.only not in name:
            continue
        for run in range(a.runs):
            order = systems[run % len(systems):] + systems[:run % len(systems)]
            for sysname in order:
                m = Mount(sysname, images[key], f"{base}/{sysname}", a.ext4pager,
                          {"dev": key == "rootfs"})
                drop_caches()
                mt = m.mount()
                mount_times.setdefault((sysname, key), []).append(mt)
                try:
                    if not cold:
                        fn(m.mnt)  # warm up: the measured run reads from caches
                    elif key == "rootfs":
                        pass
                    t0 = time.perf_counter()
                    d = fn(m.mnt)
                    t = time.perf_counter() - t0
                    hwm, cpu, ctx = m.daemon_status()
                    ps = m.pager_stats()
                finally:
                    m.umount()
                results.setdefault((name, sysname), []).append(t)
                digests.setdefault(name, {}).setdefault(sysname, set()).add(d)
                if hwm is not None:
                    prev = daemon.get((name, sysname), (0, [], []))
                    daemon[(name, sysname)] = (max(prev[0], hwm), prev[1] + [cpu], prev[2] + [ctx])
                if ps:
                    pstats[name] = ps
                print(f"{name:45s} {sysname:10s} run {run + 1}: {t:8.3f} s", flush=True)
    write_report(a, systems, results, digests, daemon, pstats, mount_times)


def med(xs):
    return statistics.median(xs)


def write_report(a, systems, results, digests, daemon, pstats, mount_times):
    names = [w[0] for w in workloads({"big": "", "tree": "", "rootfs": ""})]
    lines = []
    lines.append("| workload | " + " | ".join(f"{s} (s)" for s in systems) + " | " +
                 " | ".join(f"{s}/kernel" for s in systems if s != "kernel") + " | outputs equal |")
    lines.append("|---" * (len(systems) * 2) + "|---|")
    mismatch = False
    notes = []
    names = [n for n in names if (n, systems[0]) in results]
    for n in names:
        ts = {s: med(results[(n, s)]) for s in systems}
        same = len(set().union(*digests[n].values())) == 1
        mismatch |= not same
        if not same:
            kd = digests[n].get("kernel", set())
            notes.append(f"- {n}: differs from the kernel's output on " +
                         ", ".join(s for s in systems if digests[n].get(s) != kd))
        ratios = [f"{ts[s] / ts['kernel']:.2f}x" for s in systems if s != "kernel"]
        lines.append(f"| {n} | " + " | ".join(f"{ts[s]:.3f}" for s in systems) + " | " +
                     " | ".join(ratios) + f" | {'yes' if same else 'NO'} |")
    mt = ["| mount time (median over all mounts) | " +
          " | ".join(f"{med([x for (s, k), v in mount_times.items() if s == sy for x in v]) * 1000:.1f} ms"
                     for sy in systems) + " |"]
    dl = ["| workload | " + " | ".join(f"{s} peak RSS MiB / CPU s / ctx switches" for s in systems
                                      if s != "kernel") + " |",
          "|---" * len(systems) + "|"]
    for n in names:
        cells = []
        for s in systems:
            if s == "kernel":
                continue
            v = daemon.get((n, s))
            cells.append(f"{v[0]:.1f} / {med(v[1]):.2f} / {int(med(v[2]))}" if v else "-")
        dl.append(f"| {n} | " + " | ".join(cells) + " |")
    pl = ["| workload | page requests | bytes read from image | avg request | coalesced waits | read hits |",
          "|---|---|---|---|---|---|"]
    for n in names:
        p = pstats.get(n)
        if p:
            avg = p["bytes_read"] / p["page_requests"] if p.get("page_requests") else 0
            pl.append(f"| {n} | {p['page_requests']} | {p['bytes_read']} | {avg / 1024:.0f} KiB | "
                      f"{p['coalesced_waits']} | {p['read_hits']} |")
    cpu = subprocess.run("lscpu | grep 'Model name' | sed 's/.*: *//'", shell=True,
                         capture_output=True, text=True).stdout.strip()
    f2f = subprocess.run("fuse2fs -V 2>&1 | head -1", shell=True, capture_output=True,
                         text=True).stdout.strip()
    text = f"""# ext4pager performance

Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}:
{os.cpu_count()} CPUs ({cpu}), kernel {platform.release()}, {f2f or 'fuse2fs'}.
Each workload ran {a.runs} times per system, systems alternating; the table shows medians.
Cold runs drop the kernel's caches and remount (so the ext4pager and fuse2fs daemons start
empty too); the warm run reads once untimed first. Ratios are time ÷ the kernel's time in the
same run; "outputs equal" checks that every system produced the same digest of what it read.

## Times

{chr(10).join(lines)}

{('Outputs that differed:' + chr(10) + chr(10).join(notes)) if mismatch else 'Every workload produced identical output on all systems.'}

| | {' | '.join(systems)} |
|---|{'---|' * len(systems)}
{chr(10).join(mt)}

## Daemons (maximum peak RSS, median CPU time and context switches per run)

{chr(10).join(dl)}

ext4pager's cache budget is the default 64 MiB (`cache_size=`), so its peak RSS target is
≤ 96 MiB.

## ext4pager's page requests (last run of each workload)

{chr(10).join(pl)}

## Reproduce

    sudo scripts/bench.sh            # builds the images (cached in build/bench), runs, rewrites this file
    sudo scripts/bench.sh --runs 5   # more runs
    sudo scripts/bench.sh --only 50k # a subset (trial; rewrites this file with it)

"""
    with open(a.out, "w") as f:
        f.write(text + ANALYSIS)
    print(text)


ANALYSIS = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-analysis.md")).read() \
    if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-analysis.md")) else ""

if __name__ == "__main__":
    main()
