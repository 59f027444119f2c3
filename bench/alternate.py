#!/usr/bin/env python3
"""Time commands on benchmark stacks, round-robin, and print a table.

usage: alternate.py [--runs N] [--tarflat PATH] [--old PATH] [--no-umoci]
                    WORKDIR STACK...

Each STACK is a directory WORKDIR/STACK written by mkstack.py (its
manifest.json names the layers).  For each stack the commands below are
run in turns -- A, B, C, ..., then A, B, C again, N rounds -- so that every
command sees the same load on a shared machine; what counts is the ratio
measured side by side, which is taken per round (command / baseline of
the same round) and then the median over the rounds.

  gzip stacks   tarflat L..., tarflat -j 1 / -j 2 (when tarflat --help
                mentions -j), pigz -dc L... (the baseline), gzip -dc L...,
                umoci unpack (when WORKDIR/STACK/oci exists: an OCI layout
                of the same layers, made by run.sh; into a fresh directory
                each run, removed afterwards, untimed)
  small-10k, small-100k, small-1m (memory only)
                tarflat, pigz -dc
  plain         tarflat L..., the -j variants, cat L... | cat (baseline)

The output of every command goes to a pipe that this script drains (never
to /dev/null, which a program could special-case).  Wall time runs from
the first fork to the reaping of the last process of the command; peak RSS
and CPU time are the command's own, from os.wait4 of each of its
processes (ru_maxrss of that child and the children it reaped, not the
cumulative RUSAGE_CHILDREN maximum of this script; started through a
small shell so that this script's own memory does not count, see
spawn()); for a pipeline the largest of its processes, and the sum of
their CPU times.  The inputs are read once before the rounds, so
every command reads them from the page cache.

With --old, a second tarflat binary (an earlier build) runs in the same
rounds, each of its commands right after the same command of --tarflat,
and each stack ends with the median per-round ratio new / old of every
pair: the figure a change that must not slow tarflat down is judged by.

The binary timed is a copy of --tarflat made at the start (a checkout's
binary may be rebuilt during a long run); its sha256 is printed.

Prints, per stack: median, min and max wall seconds, the median ratio to
the baseline, peak RSS (largest of the rounds), CPU seconds (median) and
output MB; then tarflat's peak RSS per input entry on the small stacks.
Writes the raw measurements to WORKDIR/results.json.  Exits non-zero if
a command failed; never on a timing.
"""
import argparse, hashlib, json, os, re, shutil, statistics, subprocess, sys
import tempfile, time

MB = 1000 * 1000
MEMORY = ["small-10k", "small-100k", "small", "small-1m"]
LIGHT = {"small-10k", "small-100k", "small-1m"}


def has_jobs(tarflat):
    try:
        p = subprocess.run([tarflat, "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return re.search(rb"(^|[\s\[,|])-j\b|--jobs\b", p.stdout, re.M) is not None


class Cmd:
    def __init__(self, label, pipeline, bundle=None):
        self.label = label
        self.pipeline = pipeline        # list of argv lists
        self.bundle = bundle            # umoci: directory to unpack into
        self.wall, self.cpu, self.rss, self.out = [], [], [], []
        self.failed = None


def rmtree(path):
    if os.path.lexists(path):
        subprocess.run(["rm", "-rf", "--", path], check=True)


# Peak RSS needs care: Linux carries the high-water mark of the memory a
# process had before exec(2) into its ru_maxrss, and a child forked (or
# vforked) from this script starts with this script's ~15 MB.  So each
# command is started by a small /bin/sh that forks it and exits at once;
# this script is the child subreaper (prctl PR_SET_CHILD_SUBREAPER), so the
# orphaned command is reparented here and reaped with os.wait4, and its
# ru_maxrss starts from the shell's ~1 MB.  The forked shell execs a second
# sh, which writes its own pid ($$, the command's pid to be) on fd 3 and
# execs the command; the first shell does nothing after the fork (dash
# reaps finished background jobs while it runs further commands, and would
# take the command's status from us).  Its stdin goes to the command
# explicitly (an asynchronous list would get /dev/null).
SPAWN = ('exec 4<&0; exec sh -c \'echo $$ >&3; exec "$@" 3>&-\' sh "$@" '
         '<&4 4<&- &')
PR_SET_CHILD_SUBREAPER = 36


def subreaper():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def spawn(argv, fd0, fd1, fd2):
    """Start argv (stdin fd0, stdout fd1, stderr fd2) as a grandchild that
    becomes our child; return its pid."""
    pr, pw = os.pipe()
    sh = os.posix_spawn("/bin/sh", ["sh", "-c", SPAWN, "sh"] + argv,
                        os.environ, file_actions=[
                            (os.POSIX_SPAWN_DUP2, fd0, 0),
                            (os.POSIX_SPAWN_DUP2, fd1, 1),
                            (os.POSIX_SPAWN_DUP2, fd2, 2),
                            (os.POSIX_SPAWN_DUP2, pw, 3)])
    os.close(pw)
    with os.fdopen(pr, "rb") as f:
        pid = f.read()
    _, status, _ = os.wait4(sh, 0)
    if status != 0 or not pid.strip().isdigit():
        raise OSError("could not start %r" % argv)
    return int(pid)


def run_once(cmd, buf):
    """One run, in the current directory:
    (wall s, cpu s, peak RSS KiB, output bytes, error or None)."""
    if cmd.bundle:
        rmtree(cmd.bundle)
    pids, errs = [], []
    devnull = os.open(os.devnull, os.O_RDONLY)
    prev = devnull
    t0 = time.perf_counter()
    try:
        for argv in cmd.pipeline:
            ef = tempfile.TemporaryFile()
            errs.append(ef)
            r, w = os.pipe()
            try:
                pids.append(spawn(argv, prev, w, ef.fileno()))
            finally:
                os.close(w)
                os.close(prev)
            prev = r
        n = 0
        while True:
            k = os.readv(prev, [buf])
            if k == 0:
                break
            n += k
    except BaseException:
        for pid in pids:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        raise
    finally:
        os.close(prev)
    cpu, rss, err = 0.0, 0, None
    for argv, pid, ef in zip(cmd.pipeline, pids, errs):
        _, status, ru = os.wait4(pid, 0)
        rc = os.waitstatus_to_exitcode(status)
        cpu += ru.ru_utime + ru.ru_stime
        rss = max(rss, ru.ru_maxrss)
        if rc != 0 and err is None:
            ef.seek(0)
            err = "%s: exit %d: %s" % (" ".join(argv), rc,
                                       ef.read(2000).decode(errors="replace")
                                       .strip())
    t1 = time.perf_counter()
    for ef in errs:
        ef.close()
    if cmd.bundle:
        rmtree(cmd.bundle)
    return t1 - t0, cpu, rss, n, err


def warm(paths):
    """Read every input once, so that all rounds find it in the page cache."""
    for top in paths:
        for root, _, files in os.walk(top) if os.path.isdir(top) \
                else [(os.path.dirname(top), None, [os.path.basename(top)])]:
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    while fh.read(1 << 20):
                        pass


def tarflat_cmds(name, files, tarflat, jobs, label):
    tf = [Cmd(label, [[tarflat] + files])]
    if name not in LIGHT and jobs:
        tf += [Cmd("%s -j %d" % (label, j), [[tarflat, "-j", str(j)] + files])
               for j in (1, 2)]
    return tf


def commands(name, sdir, man, tarflat, jobs, umoci, old=None):
    files = [L["file"] for L in man["layers"]]
    tf = tarflat_cmds(name, files, tarflat, jobs, "tarflat")
    if old:
        olds = tarflat_cmds(name, files, old, jobs, "old")
        tf = [c for pair in zip(tf, olds) for c in pair]
    if name == "plain":
        return tf + [Cmd("cat | cat", [["cat"] + files, ["cat"]])], "cat | cat"
    cmds = tf + [Cmd("pigz -dc", [["pigz", "-dc"] + files])]
    if name not in LIGHT:
        cmds.append(Cmd("gzip -dc", [["gzip", "-dc"] + files]))
        if umoci and os.path.isfile(os.path.join(sdir, "oci", "index.json")):
            cmds.append(Cmd("umoci unpack",
                            [["umoci", "unpack", "--image", "oci:bench",
                              "bundle.run"]],
                            bundle=os.path.join(sdir, "bundle.run")))
    return cmds, "pigz -dc"


def fmt_stack(name, man):
    n = len(man["layers"])
    s = "%s: %d %s layer%s, %d entries, %.1f MB of tar" % (
        name, n, "plain" if name == "plain" else "gzip", "s" if n > 1 else "",
        man["entries"], man["tar_bytes"] / MB)
    if "gz_bytes" in man:
        s += ", %.1f MB gzip" % (man["gz_bytes"] / MB)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tarflat", required=True)
    ap.add_argument("--old")
    ap.add_argument("--no-umoci", action="store_true")
    ap.add_argument("workdir")
    ap.add_argument("stacks", nargs="+")
    a = ap.parse_args()
    a.workdir = os.path.abspath(a.workdir)
    # Time a copy: the checkout's binary may be rebuilt during a long run.
    src = os.path.abspath(a.tarflat)
    tarflat = os.path.join(a.workdir, "tarflat.under-test")
    shutil.copy2(src, tarflat)
    with open(tarflat, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    jobs = has_jobs(tarflat)
    old = None
    if a.old:
        old = os.path.join(a.workdir, "tarflat.old")
        shutil.copy2(os.path.abspath(a.old), old)
        with open(old, "rb") as f:
            print("old: %s (sha256 %s)" % (a.old,
                                          hashlib.sha256(f.read()).hexdigest()[:12]))
    umoci = not a.no_umoci and os.geteuid() == 0
    buf = bytearray(1 << 20)
    subreaper()
    results = {}
    failed = False
    print("tarflat: %s (sha256 %s, %s), copied to %s" % (
        src, digest, time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                   time.gmtime(os.path.getmtime(src))),
        tarflat))
    print("-j %s; %d rounds; %d CPUs; load average %s"
          % ("found" if jobs else "not in --help", a.runs,
             os.cpu_count() or 0,
             " ".join("%.2f" % x for x in os.getloadavg())))
    print("(wall s: median [min-max] over the rounds; ratio: median of the "
          "per-round ratios to the baseline; RSS: largest of the rounds)")
    for name in a.stacks:
        sdir = os.path.join(a.workdir, name)
        with open(os.path.join(sdir, "manifest.json")) as f:
            man = json.load(f)
        cmds, base = commands(name, sdir, man, tarflat, jobs, umoci, old)
        os.chdir(sdir)
        warm([os.path.join(sdir, L["file"]) for L in man["layers"]] +
             ([os.path.join(sdir, "oci")] if any(c.bundle for c in cmds)
              else []))
        la0 = os.getloadavg()[0]
        for r in range(a.runs):
            for c in cmds:
                if c.failed:
                    continue
                wall, cpu, rss, out, err = run_once(c, buf)
                if err:
                    c.failed = err
                    failed = True
                    continue
                c.wall.append(wall)
                c.cpu.append(cpu)
                c.rss.append(rss)
                c.out.append(out)
        la1 = os.getloadavg()[0]
        bc = next(c for c in cmds if c.label == base)
        print()
        print("%s; load %.1f -> %.1f" % (fmt_stack(name, man), la0, la1))
        print("  %-14s %8s %17s %8s %10s %7s %9s" % (
            "command", "wall s", "[min-max]", "x " + base.split()[0],
            "RSS MiB", "cpu s", "out MB"))
        for c in cmds:
            if c.failed:
                print("  %-14s FAILED: %s" % (c.label, c.failed))
                continue
            if bc.failed or not bc.wall:
                ratio = "-"
            else:
                ratio = "%.2f" % statistics.median(
                    w / b for w, b in zip(c.wall, bc.wall))
            print("  %-14s %8.3f %17s %8s %10.1f %7.2f %9.1f" % (
                c.label, statistics.median(c.wall),
                "[%.3f-%.3f]" % (min(c.wall), max(c.wall)), ratio,
                max(c.rss) / 1024, statistics.median(c.cpu),
                statistics.median(c.out) / MB))
        for c in cmds:
            o = next((x for x in cmds if x.label == "old" + c.label[7:]), None)
            if old and c.label.startswith("tarflat") and o and c.wall and o.wall:
                print("  %-14s new/old wall %.3f, peak RSS %.3f" % (
                    c.label, statistics.median(w / v for w, v in zip(c.wall, o.wall)),
                    max(c.rss) / max(o.rss)))
        results[name] = dict(
            entries=man["entries"], tar_bytes=man["tar_bytes"],
            gz_bytes=man.get("gz_bytes"), baseline=base,
            commands=[dict(label=c.label, argv=c.pipeline, wall=c.wall,
                           cpu=c.cpu, rss_kib=c.rss, out_bytes=c.out,
                           failed=c.failed) for c in cmds])
    mem = [(n, results[n]) for n in MEMORY if n in results]
    if mem:
        print()
        print("tarflat peak RSS per input entry")
        print("  %-11s %9s %9s %9s %14s" % ("stack", "entries", "RSS MiB",
                                          "B/entry", "marginal B/e"))
        prev = None
        for n, r in mem:
            c = r["commands"][0]
            if not c["rss_kib"]:
                print("  %-11s %9d   FAILED" % (n, r["entries"]))
                continue
            rss = max(c["rss_kib"]) * 1024
            marg = "-"
            if prev and r["entries"] > prev[0]:
                marg = "%.0f" % ((rss - prev[1]) / (r["entries"] - prev[0]))
            print("  %-11s %9d %9.1f %9.0f %14s" % (
                n, r["entries"], rss / 1048576, rss / r["entries"], marg))
            prev = (r["entries"], rss)
    with open(os.path.join(a.workdir, "results.json"), "w") as f:
        json.dump(dict(tarflat=src, sha256=digest, runs=a.runs, jobs=jobs,
                       cpus=os.cpu_count(), stacks=results), f, indent=1)
        f.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
