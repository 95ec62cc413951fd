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

# ext4pager on its default transport (io_uring where the kernel offers it) and on /dev/fuse,
# and the FUSE floor (scripts/bench-floor.c: the tree in RAM) on each.
SYSTEMS = ["kernel", "ext4pager", "ext4pager-devfuse", "fuse2fs", "floor", "floor-devfuse"]
EXT4PAGER_OPTS = {"ext4pager": "-o io_uring=auto", "ext4pager-devfuse": "-o io_uring=off"}
FLOOR_OPTS = {"floor": ["-o", "io_uring"], "floor-devfuse": []}
# Each FUSE system's floor: the same transport.
FLOOR_OF = {"ext4pager": "floor", "ext4pager-devfuse": "floor-devfuse"}
URING_SWITCH = "/sys/module/fuse/parameters/enable_uring"


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def wait_for(cond, seconds, what):
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def is_mountpoint(path):
    return subprocess.run(["mountpoint", "-q", path]).returncode == 0


def set_readahead(mnt, kb):
    """The mount's readahead window, as ext4pager sets its own (read_ahead_kb=1024)."""
    st = os.stat(mnt)
    with open(f"/sys/class/bdi/{os.major(st.st_dev)}:{os.minor(st.st_dev)}/read_ahead_kb", "w") as f:
        f.write(f"{kb}\n")


class Floor:
    """A running bench-floor: it copies the image's tree from a kernel mount into RAM once, so
    it lives across the runs on one image (drop_caches still empties the kernel's caches of
    its mount between runs)."""
    running = {}  # system -> Floor

    def __init__(self, system, image, mnt, binary, dev):
        self.system, self.image, self.mnt = system, image, mnt
        src = mnt + "-src"
        os.makedirs(src, exist_ok=True)
        os.makedirs(mnt, exist_ok=True)
        sh(f"mount -o loop,ro {image} {src}")
        try:
            opts = FLOOR_OPTS[system] + (["-o", "dev"] if dev else [])
            self.proc = subprocess.Popen([binary] + opts + [src, mnt], stderr=subprocess.PIPE)
            wait_for(lambda: is_mountpoint(mnt) or self.proc.poll() is not None, 600,
                     f"{system} to load {image}")
            if self.proc.poll() is not None:
                raise RuntimeError(f"{system} failed: {self.proc.stderr.read()[-300:]!r}")
        finally:
            sh(f"umount {src}")
        set_readahead(mnt, 1024)
        self.pid = self.proc.pid

    @classmethod
    def get(cls, system, image, mnt, binary, dev):
        f = cls.running.get(system)
        if f and f.image != image:
            f.stop()
            f = None
        if not f:
            f = cls.running[system] = Floor(system, image, mnt, binary, dev)
        return f

    def stop(self):
        sh(f"fusermount3 -u {self.mnt}")
        self.proc.wait(timeout=60)
        del Floor.running[self.system]

    @classmethod
    def stop_all(cls):
        for f in list(cls.running.values()):
            f.stop()


class Mount:
    """One system's mount of one image; remounted for every cold run (so no daemon cache
    survives either). A floor stays mounted (see Floor)."""

    def __init__(self, system, image, mnt, ext4pager, extra):
        self.system, self.image, self.mnt, self.ext4pager = system, image, mnt, ext4pager
        self.extra = extra
        self.pid = None
        os.makedirs(mnt, exist_ok=True)

    def mount(self):
        t0 = time.perf_counter()
        if self.system in FLOOR_OPTS:
            if self.system == "floor":
                switch_uring_on()
            self.pid = Floor.get(self.system, self.image, self.mnt, self.extra["floor"],
                                 self.extra.get("dev")).pid
            return None
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
        if self.system in FLOOR_OPTS:
            return
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


def switch_uring_on():
    """FUSE over io_uring for the floor (ext4pager's auto does this itself as root)."""
    if os.path.exists(URING_SWITCH):
        with open(URING_SWITCH, "w") as f:
            f.write("Y\n")


def cache_image(path):
    """Reads the image file into the host's page cache (the warm-image mode)."""
    with open(path, "rb", buffering=0) as f:
        while f.read(8 << 20):
            pass


def build_floor(repo, out):
    """Compiles scripts/bench-floor.c against the project's libfuse (3.18, scripts/libfuse.sh)."""
    prefix = subprocess.run([f"{repo}/scripts/libfuse.sh"], capture_output=True, text=True,
                            check=True).stdout.strip().splitlines()[-1]
    env = dict(os.environ, PKG_CONFIG_PATH=f"{prefix}/lib/pkgconfig")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "--static", "fuse3"], env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", out,
                    f"{repo}/scripts/bench-floor.c"] + flags, check=True)
    return out


def run_one(m, fn, cold, image_cache, image):
    """One timed run on a fresh mount: (seconds, digest, daemon figures, pager stats)."""
    drop_caches()
    if image_cache == "warm":
        cache_image(image)
    mt = m.mount()
    try:
        if not cold:
            fn(m.mnt)  # warm up: the measured run reads from caches
        before = m.daemon_status()
        t0 = time.perf_counter()
        d = fn(m.mnt)
        t = time.perf_counter() - t0
        after = m.daemon_status()
        ps = m.pager_stats()
    finally:
        m.umount()
    fig = None
    if after[0] is not None and before[0] is not None:
        fig = (after[0], after[1] - before[1], after[2] - before[2])  # peak RSS, CPU, ctx
    return t, d, fig, ps, mt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ext4pager", required=True)
    ap.add_argument("--images", required=True, help="dir with big.img tree.img rootfs.img")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="docs/PERFORMANCE.md")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--image-cache", choices=("cold", "warm"), default="cold",
                    help="cold: the image is read from disk; warm: it is in the host's page "
                    "cache before every run (the daemons' own cost shows)")
    ap.add_argument("--only", default="", help="run the workloads whose name contains this "
                    "(a trial run: the report is written to --out all the same)")
    a = ap.parse_args()
    systems = a.systems.split(",")
    images = {k: os.path.join(a.images, f"{k}.img") for k in ("big", "tree", "rootfs")}
    base = "/tmp/ext4pager-bench"
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    floor = None
    if any(s in FLOOR_OPTS for s in systems):
        floor = build_floor(repo, os.path.join(a.images, "bench-floor"))
    results, digests, daemon, pstats, mount_times = {}, {}, {}, {}, {}
    try:
        for name, key, cold, fn in workloads(images):
            if a.only not in name:
                continue
            for run in range(a.runs):
                order = systems[run % len(systems):] + systems[:run % len(systems)]
                for sysname in order:
                    m = Mount(sysname, images[key], f"{base}/{sysname}", a.ext4pager,
                              {"dev": key == "rootfs", "floor": floor})
                    t, d, fig, ps, mt = run_one(m, fn, cold, a.image_cache, images[key])
                    if mt is not None:
                        mount_times.setdefault((sysname, key), []).append(mt)
                    results.setdefault((name, sysname), []).append(t)
                    digests.setdefault(name, {}).setdefault(sysname, set()).add(d)
                    if fig:
                        prev = daemon.get((name, sysname), (0, [], []))
                        daemon[(name, sysname)] = (max(prev[0], fig[0]), prev[1] + [fig[1]],
                                                   prev[2] + [fig[2]])
                    if ps and sysname == "ext4pager":
                        pstats[name] = ps
                    print(f"{name:45s} {sysname:17s} run {run + 1}: {t:8.3f} s", flush=True)
    finally:
        Floor.stop_all()
    write_report(a, systems, results, digests, daemon, pstats, mount_times)
    write_chart(a, systems, results)


def med(xs):
    return statistics.median(xs)


def best(xs):
    return min(xs)


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "-"


def write_report(a, systems, results, digests, daemon, pstats, mount_times):
    names = [w[0] for w in workloads({"big": "", "tree": "", "rootfs": ""})]
    names = [n for n in names if (n, systems[0]) in results]
    others = [s for s in systems if s != "kernel"]
    floored = [s for s in systems if FLOOR_OF.get(s) in systems]
    # Each ratio column: (system, what it is divided by).
    ratio_cols = ([(s, "kernel") for s in others] if "kernel" in systems else []) + \
        [(s, FLOOR_OF[s]) for s in floored]
    header = (["workload"] + [f"{s} (s)" for s in systems] +
              [f"{s} ÷ {d}" for s, d in ratio_cols] + ["outputs equal"])
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    mismatch, notes = False, []
    for n in names:
        ts = {s: best(results[(n, s)]) for s in systems}
        same = len(set().union(*digests[n].values())) == 1
        mismatch |= not same
        if not same:
            ref = digests[n].get(systems[0], set())
            notes.append(f"- {n}: differs from {systems[0]}'s output on " +
                         ", ".join(s for s in systems if digests[n].get(s) != ref))
        cells = ([n] + [f"{ts[s]:.3f}" for s in systems] +
                 [ratio(ts[s], ts[d]) for s, d in ratio_cols] + ["yes" if same else "NO"])
        lines.append("| " + " | ".join(cells) + " |")
    mt_cells = []
    for sy in systems:
        v = [x for (s, k), xs in mount_times.items() if s == sy for x in xs]
        mt_cells.append(f"{med(v) * 1000:.1f} ms" if v else "kept mounted")
    mt = ["| mount time (median over all mounts) | " + " | ".join(mt_cells) + " |"]
    daemons = [s for s in others]
    dl = ["| workload | " + " | ".join(f"{s}: peak RSS MiB / CPU s / ctx switches" for s in daemons)
          + "".join(f" | {s} CPU ÷ {FLOOR_OF[s]} CPU" for s in floored) + " |",
          "|---" * (len(daemons) + len(floored) + 1) + "|"]
    for n in names:
        cells = []
        for s in daemons:
            v = daemon.get((n, s))
            cells.append(f"{v[0]:.1f} / {med(v[1]):.2f} / {int(med(v[2]))}" if v else "-")
        for s in floored:
            v, f = daemon.get((n, s)), daemon.get((n, FLOOR_OF[s]))
            cells.append(ratio(med(v[1]), med(f[1])) if v and f else "-")
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
    version = subprocess.run([a.ext4pager, "--version"], capture_output=True,
                             text=True).stdout.strip()
    mode = ("the image file is read into the host's page cache before every run (warm image: "
            "what is left is each daemon's own cost)" if a.image_cache == "warm" else
            "every run starts with the host's caches dropped (cold image)")
    text = f"""# ext4pager performance

Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}:
{os.cpu_count()} CPUs ({cpu}), kernel {platform.release()}, {version}, {f2f or 'fuse2fs'}.
Each workload ran {a.runs} times per system, systems alternating; the table shows the best run;
{mode}. Cold runs remount (so ext4pager and fuse2fs start with empty caches too); the warm row
reads once untimed first. Ratios divide by the kernel's time and by the FUSE floor's on the same
transport, in the same run; "outputs equal" checks that every system produced the same digest of
what it read.

Systems: **kernel** is `mount -o loop,ro`; **ext4pager** uses FUSE over io_uring (`io_uring=auto`,
libfuse 3.18), **ext4pager-devfuse** the classic /dev/fuse transport (`io_uring=off`);
**floor** and **floor-devfuse** are the FUSE floor on those transports (`scripts/bench-floor.c`:
the whole tree and its data copied into RAM at start, the same kernel-facing options as
ext4pager, ENODATA for every xattr — what FUSE itself costs); **fuse2fs** is e2fsprogs'.

![time ÷ kernel per workload]({chart_name(a.out)})

## Times

{chr(10).join(lines)}

{('Outputs that differed:' + chr(10) + chr(10).join(notes)) if mismatch else 'Every workload produced identical output on all systems.'}

| | {' | '.join(systems)} |
|---|{'---|' * len(systems)}
{chr(10).join(mt)}

## Daemons (maximum peak RSS; median CPU time and context switches during the timed run)

{chr(10).join(dl)}

ext4pager's cache budget is the default 64 MiB (`cache_size=`), so its peak RSS target is
≤ 96 MiB. The floors hold the whole tree in RAM by design.

## ext4pager's page requests (last run of each workload, io_uring)

{chr(10).join(pl)}

## Reproduce

    sudo scripts/bench.sh                     # builds the images (cached in build/bench), runs, rewrites this file
    sudo scripts/bench.sh --runs 5            # more runs
    sudo scripts/bench.sh --image-cache warm --out docs/PERFORMANCE-warm.md
                                              # the image in the host's cache: the daemons' own cost
    sudo scripts/bench.sh --only 50k          # a subset (trial; rewrites this file with it)

"""
    with open(a.out, "w") as f:
        f.write(text + ANALYSIS)
    print(text)


CHART_COLORS = {"kernel": "#444444", "ext4pager": "#1f77b4", "ext4pager-devfuse": "#9ecae1",
                "fuse2fs": "#d62728", "floor": "#2ca02c", "floor-devfuse": "#a1d99b"}


def chart_name(report):
    """PERFORMANCE.md -> performance.svg, PERFORMANCE-warm.md -> performance-warm.svg."""
    return os.path.splitext(os.path.basename(report))[0].lower() + ".svg"


def write_chart(a, systems, results):
    """The chart beside the report (chart_name): per workload, each system's best time ÷ the
    kernel's, as horizontal bars on a log scale (1.0 = the kernel)."""
    import math
    if "kernel" not in systems:
        return
    names = [w[0] for w in workloads({"big": "", "tree": "", "rootfs": ""})
             if (w[0], "kernel") in results]
    bar, gap, left, width = 9, 14, 330, 420
    lo, hi = math.log10(0.05), math.log10(20)
    x = lambda r: left + (min(max(math.log10(r), lo), hi) - lo) / (hi - lo) * width
    height = 60 + len(names) * (len(systems) * bar + gap)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 40}" '
           f'height="{height + 40}" font-family="sans-serif" font-size="11">',
           f'<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="18" font-size="13">time ÷ the kernel\'s ext4 (log scale; left of '
           f'the dark line is faster than the kernel)</text>']
    for tick in (0.1, 0.25, 0.5, 1, 2, 4, 10):
        out.append(f'<line x1="{x(tick):.1f}" y1="30" x2="{x(tick):.1f}" y2="{height}" '
                   f'stroke="{"#000" if tick == 1 else "#ddd"}"/>')
        out.append(f'<text x="{x(tick):.1f}" y="{height + 14}" text-anchor="middle">{tick}x</text>')
    y = 40
    for n in names:
        k = best(results[(n, "kernel")])
        out.append(f'<text x="{left - 6}" y="{y + len(systems) * bar / 2 + 4:.0f}" '
                   f'text-anchor="end">{n}</text>')
        for s in systems:
            r = best(results[(n, s)]) / k
            out.append(f'<rect x="{x(0.05):.1f}" y="{y}" width="{x(r) - x(0.05):.1f}" '
                       f'height="{bar - 1}" fill="{CHART_COLORS.get(s, "#999")}">'
                       f'<title>{s}: {r:.2f}x</title></rect>')
            y += bar
        y += gap
    for i, s in enumerate(systems):
        out.append(f'<rect x="{10 + i * 125}" y="{height + 22}" width="10" height="10" '
                   f'fill="{CHART_COLORS.get(s, "#999")}"/><text x="{24 + i * 125}" '
                   f'y="{height + 31}">{s}</text>')
    out.append("</svg>")
    path = os.path.join(os.path.dirname(os.path.abspath(a.out)), chart_name(a.out))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


ANALYSIS = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-analysis.md")).read() \
    if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-analysis.md")) else ""

if __name__ == "__main__":
    main()
