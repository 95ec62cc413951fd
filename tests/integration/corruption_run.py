#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""corruption_run — mounts corrupted images with ext4pager and checks what the issue demands.

  corruption_run.py EXT4PAGER BASES FIRST COUNT

For cases FIRST .. FIRST+COUNT-1 of corrupt.py, each on a fresh copy:
  - a refused mount exits non-zero with exactly one line on stderr;
  - a mount walks to completion (walk.py, forward then reverse) within a timeout — no hang —
    with the daemon alive afterwards — no crash — and its peak RSS under a bound;
  - every error is an errno a filesystem gives for a bad object (EIO, EUCLEAN, EBADMSG ...);
  - both walks give the same result per inode, and after a local corruption every canary file
    reads back intact: an error on one object never poisons another;
  - the daemon exits cleanly on unmount (sanitizer reports fail the case);
  - the image hashes the same before and after (nothing is ever written).
Prints one line per failing case with the command that rebuilds it, and a summary.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# What a filesystem answers for a bad object. Not here: ENOTCONN (the daemon died), ENOMEM,
# EINVAL, EFAULT, ENOSYS — each of those from a corrupt image is a bug.
ALLOWED = {"EIO", "EUCLEAN", "EBADMSG", "ENOENT", "ENOTDIR", "ENODATA", "ERANGE", "E2BIG",
           "EOVERFLOW", "EFBIG", "ENAMETOOLONG"}
WALK_TIMEOUT = float(os.environ.get("EXT4PAGER_CORRUPTION_TIMEOUT", "60"))
RSS_LIMIT_MB = int(os.environ.get("EXT4PAGER_CORRUPTION_RSS_MB", "160"))
CACHE_OPTS = "cache_size=16M,dir_cache_size=16M"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def errors_in(value, out):
    if isinstance(value, str) and value.startswith("E:"):
        out.add(value[2:])
    elif isinstance(value, dict):
        for v in value.values():
            errors_in(v, out)
    return out


def mounted(mnt):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == mnt for line in f)


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


def walk(mnt, order):
    r = subprocess.run([sys.executable, f"{HERE}/walk.py", mnt, order], capture_output=True,
                       text=True, timeout=WALK_TIMEOUT)
    if r.returncode != 0:
        raise RuntimeError(f"walk {order} exited {r.returncode}: {r.stderr.strip()[-300:]}")
    return json.loads(r.stdout)


def check_canary(mnt, canary_file):
    with open(canary_file) as f:
        canary = json.load(f)
    for rel, digest in canary.items():
        try:
            got = sha256(f"{mnt}/{rel}")
        except OSError as e:
            return f"canary {rel}: {e.strerror}"
        if got != digest:
            return f"canary {rel}: contents differ"
    return None


def run_mounted(mnt, daemon, case):
    """The checks on a live mount; returns a failure string or None."""
    try:
        fwd = walk(mnt, "fwd")
        rev = walk(mnt, "rev")
    except subprocess.TimeoutExpired:
        return f"walk did not finish in {WALK_TIMEOUT:.0f} s (hang)"
    except RuntimeError as e:
        return str(e)
    if daemon.poll() is not None:
        return f"daemon died (exit {daemon.returncode})"
    bad = errors_in(fwd, set()) - ALLOWED
    if bad:
        return f"unexpected errno {sorted(bad)}"
    if fwd != rev:
        diff = [k for k in set(fwd) | set(rev) if fwd.get(k) != rev.get(k)]
        return f"walks in opposite orders differ at inodes {sorted(diff)[:5]} (poisoning)"
    if case["local"]:
        why = check_canary(mnt, case["canary"])
        if why:
            return why
    rss = peak_rss_mb(daemon.pid)
    if rss > RSS_LIMIT_MB:
        return f"daemon peak RSS {rss} MiB > {RSS_LIMIT_MB} MiB"
    case["errors"] = sorted(errors_in(fwd, set()))
    return None


def run_case(ext4pager, bases, n, work):
    image, mnt, log = f"{work}/case.img", f"{work}/mnt", f"{work}/daemon.log"
    out = subprocess.run([sys.executable, f"{HERE}/corrupt.py", "make", bases, str(n), image],
                         capture_output=True, text=True, check=True).stdout
    case = json.loads(out)
    before = sha256(image)
    os.makedirs(mnt, exist_ok=True)
    with open(log, "w") as logf:
        daemon = subprocess.Popen([ext4pager, "-f", image, mnt, "-o", CACHE_OPTS],
                                  stdout=logf, stderr=subprocess.STDOUT)
    failure = None
    try:
        deadline = time.monotonic() + 20
        while not mounted(mnt) and daemon.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if mounted(mnt):
            case["outcome"] = "mounted"
            failure = run_mounted(mnt, daemon, case)
        elif daemon.poll() is not None:
            case["outcome"] = "refused"
            lines = [line for line in open(log).read().splitlines() if line.strip()]
            if daemon.returncode == 0:
                failure = "mount refused with exit status 0"
            elif len(lines) != 1:
                failure = f"refusal printed {len(lines)} lines: {lines[:3]}"
            case["message"] = lines[0] if lines else ""
        else:
            failure = "neither mounted nor exited in 20 s (hang at mount)"
    finally:
        if mounted(mnt):
            subprocess.run(["fusermount3", "-u", mnt], stderr=subprocess.DEVNULL)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
            failure = failure or "daemon did not exit after unmount"
        if mounted(mnt):
            subprocess.run(["umount", "-l", mnt], stderr=subprocess.DEVNULL)
    text = open(log).read()
    if not failure and case["outcome"] == "mounted" and daemon.returncode != 0:
        failure = f"daemon exited {daemon.returncode} after unmount: {text.strip()[-500:]}"
    if not failure and ("Sanitizer" in text or "runtime error" in text):
        failure = f"sanitizer report: {text.strip()[-800:]}"
    if not failure and sha256(image) != before:
        failure = "the image was written"
    return case, failure


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        sys.exit(2)
    ext4pager, bases = os.path.abspath(sys.argv[1]), sys.argv[2]
    first, count = int(sys.argv[3]), int(sys.argv[4])
    stats = {"mounted": 0, "refused": 0}
    errnos, failures = {}, 0
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ext4pager-corrupt.") as work:
        for n in range(first, first + count):
            case, failure = run_case(ext4pager, bases, n, work)
            stats[case.get("outcome", "refused")] = stats.get(case.get("outcome", "refused"), 0) + 1
            for e in case.get("errors", []):
                errnos[e] = errnos.get(e, 0) + 1
            if failure:
                failures += 1
                print(f"FAIL case {n} ({case['base']}: {case['what']}): {failure}\n"
                      f"  rebuild: tests/integration/corrupt.py make {bases} {n} case.img")
    print(f"corruption suite: {count} images, {stats['mounted']} mounted and walked, "
          f"{stats['refused']} refused, {failures} failed, {time.monotonic() - start:.0f} s; "
          f"errors seen (images): {json.dumps(errnos, sort_keys=True)}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
