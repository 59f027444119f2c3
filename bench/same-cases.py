#!/usr/bin/env python3
"""bench/same-cases.py - the work behind bench/same.sh (read its header first).

usage: same-cases.py record ARG...            (as tarflat, through DIR/bin/tarflat)
       same-cases.py collect DIR               recorded invocations -> DIR/cases/rec
       same-cases.py stack DIR GROUP NAME [--layers] FILE...
                                               one generated stack -> DIR/cases/GROUP/NAME
       same-cases.py corpus DIR CORPUS         each file as a case -> DIR/cases/corpus
       JOBS=N ONLY=PREFIX same-cases.py compare DIR OLD NEW

A case is a directory DIR/cases/GROUP/NAME holding its input files and
case.json:
  args     tarflat's arguments as recorded (file names relative to the case
           directory; absolute names and names with '..' moved under A/)
  stdin    null or {"file": F, "kind": "file"|"pipe"}: standard input as the
           recorded run had it (a regular file, or a pipe fed from F)
  fds      [{"arg": I, "file": F}]: argument I was a pipe (<(...)): fed a pipe
           holding F's bytes, named /dev/fd/N
  stdout   "pipe", "file", "closed", "/dev/full" or "/dev/null"
  tools    which of zstd, xz and bzip2 were on the recorded PATH
  tmpdir   "ok" or "missing" ($TMPDIR for the spool of a piped stdin)
  out      null, or [I, KIND]: argument I is -o's FILE, KIND "file" (replaced
           by a file of the run's own), "dir", "nodir" or "dev" (kept)
  stack    null, or {"pre": [...], "inputs": [...]}: --layers/--platform and
           the inputs, for the option matrix; null when the arguments do not
           parse (usage errors, --help) or the same stack came before
A recorded case runs as recorded; a case with a stack also runs the matrix
(MATRIX below), each variant into a pipe except -o.
"""
import hashlib, json, os, re, shutil, signal, stat, subprocess, sys, threading, time
from concurrent.futures import ThreadPoolExecutor

TOOLS = ("zstd", "xz", "bzip2")      # what tarflat runs for other compressions
MAX_INPUT = 100 << 20                 # a recorded run with more input is left out
TIMEOUT = 120                         # seconds, one tarflat run
CAP = 32 << 20                        # bytes of stdout, stderr or -o FILE compared


# ---- tarflat's command line, as its getopt_long sees it ----------------------

LONG = {"help": 0, "version": 0, "path": 1, "platform": 1, "layers": 0}


def parse(args):
    """Splits ARGS like tarflat's main: returns (opts, inputs, out_index) with
    opts a list of (name, value, [indexes]) and inputs a list of (index, text),
    or None when getopt would stop with a usage error or --help."""
    opts, inputs, out = [], [], None
    i, dashdash = 0, False
    while i < len(args):
        a = args[i]
        if dashdash or a == "-" or not a.startswith("-") or a[1] in ":@":
            inputs.append((i, a))
        elif a == "--":
            dashdash = True
        elif a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            full = [k for k in LONG if k.startswith(name)]
            if name in LONG:
                full = [name]
            if len(full) != 1:
                return None
            name = full[0]
            if LONG[name] and not eq:
                if i + 1 >= len(args):
                    return None
                i += 1
                val = args[i]
            elif not LONG[name] and eq:
                return None
            if name in ("help", "version"):
                return None
            opts.append((name, val if LONG[name] else None, i))
        else:
            k = 1
            while k < len(a):
                c = a[k]
                if c in "tv":
                    opts.append((c, None, i))
                elif c in "jo":
                    val = a[k + 1:]
                    if not val:
                        if i + 1 >= len(args):
                            return None
                        i += 1
                        val = args[i]
                    if c == "o":
                        out = i
                    opts.append((c, val, i))
                    break
                else:
                    return None
                k += 1
        i += 1
    return opts, inputs, out


def input_path(text, layers):
    """The file an input operand names, as tarflat's parse_input finds it
    (INPUT, INPUT:TAG, INPUT@DIGEST): (path, rest) or ('-', rest)."""
    if text == "-" or layers or os.path.exists(text):
        return text, ""
    for k, c in enumerate(text):
        if c in ":@" and k > 0:
            head = text[:k]
            if head == "-" or os.path.exists(head):
                return head, text[k:]
    return text, ""


# ---- record: the shim the test scripts run as $TARFLAT ------------------------

def blob_put(store, data=None, path=None):
    """Stores DATA (or the file PATH) under its sha256 in STORE; returns it.
    A file already stored (the same device, inode, size and mtime) is not
    read again: STORE/.ino/ remembers its sha256."""
    known = None
    if path is not None:
        st = os.stat(path)
        known = os.path.join(store, ".ino", "%d-%d-%d-%d" % (
            st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
        try:
            with open(known) as f:
                return f.read()
        except OSError:
            pass
    h = hashlib.sha256()
    tmp = os.path.join(store, ".tmp.%d" % os.getpid())
    with open(tmp, "wb") as o:
        if data is not None:
            h.update(data)
            o.write(data)
        else:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
                    o.write(chunk)
    d = h.hexdigest()
    os.replace(tmp, os.path.join(store, d))
    if known:
        os.makedirs(os.path.dirname(known), exist_ok=True)
        with open("%s.%d" % (known, os.getpid()), "w") as f:
            f.write(d)
        os.replace("%s.%d" % (known, os.getpid()), known)
    return d


def tree_put(store, top):
    """A directory input: [[relpath, 'd'|'f'|'l', blob or target]]."""
    out = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(root, n)
            rel = os.path.relpath(p, top)
            if os.path.islink(p):
                out.append([rel, "l", os.readlink(p)])
            elif os.path.isdir(p):
                out.append([rel, "d", ""])
            elif os.path.isfile(p):
                out.append([rel, "f", blob_put(store, path=p)])
    return out


def path_tools(path_env):
    """Which of TOOLS tarflat finds on PATH (filter.c's find_program)."""
    dirs = (path_env or "/usr/bin:/bin").split(":")
    return [t for t in TOOLS
            if any(os.access(os.path.join(d or ".", t), os.X_OK) for d in dirs)]


def fd_kind(fd):
    try:
        st = os.fstat(fd)
    except OSError:
        return "closed"
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISCHR(st.st_mode):
        link = os.readlink("/proc/self/fd/%d" % fd)
        if link in ("/dev/full", "/dev/null"):
            return link
    return "pipe"


def feed(fd, data):
    """Makes descriptor FD the read end of a pipe a child fills with DATA."""
    r, w = os.pipe()
    if os.fork() == 0:
        os.close(r)
        try:
            os.write(w, data) if len(data) < 65536 else os.fdopen(w, "wb").write(data)
        except OSError:
            pass
        os._exit(0)
    os.close(w)
    if r != fd:
        os.dup2(r, fd)
        os.close(r)
    os.set_inheritable(fd, True)


def record(args):
    """Writes what this tarflat run reads to $SAME_REC, then execs the real
    one on the same arguments with the same kind of stdin."""
    real, rec = os.environ["SAME_REAL"], os.environ["SAME_REC"]
    store = os.path.join(rec, "blobs")
    r = {"test": os.environ["SAME_TEST"], "cwd": os.getcwd(), "args": args, "stdin": None, "inputs": {},
         "stdout": fd_kind(1), "tools": path_tools(os.environ.get("PATH")),
         "tmpdir": "ok", "out": None, "fds": []}
    td = os.environ.get("TMPDIR")
    if td and not os.path.isdir(td):
        r["tmpdir"] = "missing"
    refeed = []
    p = parse(args)
    if p:
        opts, inputs, out = p
        layers = any(o[0] == "layers" for o in opts)
        for name, val, i in opts:
            if name == "o":
                # a device is kept (/dev/full); a fifo, like a file,
                # becomes a file of the replay's own
                kind = "file"
                if os.path.exists(val):
                    m = os.stat(val).st_mode
                    kind = "dir" if stat.S_ISDIR(m) else "dev" if stat.S_ISCHR(m) else "file"
                elif not os.path.isdir(os.path.dirname(val) or "."):
                    kind = "nodir"
                r["out"] = [i, kind, val]
        total, seen = 0, {}
        for i, text in inputs:
            path, _ = input_path(text, layers)
            ent = None
            if path == "-":
                if r["stdin"] is None:
                    if fd_kind(0) == "file":
                        pos = os.lseek(0, 0, os.SEEK_CUR)
                        data = sys.stdin.buffer.read()
                        os.lseek(0, pos, os.SEEK_SET)
                        r["stdin"] = {"kind": "file"}
                    else:
                        data = sys.stdin.buffer.read()
                        r["stdin"] = {"kind": "pipe"}
                        refeed.append((0, data))
                    total += len(data)
                    r["stdin"]["blob"] = blob_put(store, data) if total <= MAX_INPUT else None
                continue
            if re.match(r"^/(dev/fd|proc/self/fd)/\d+$", path) and \
                    stat.S_ISFIFO(os.stat(path).st_mode):
                with open(path, "rb") as f:
                    data = f.read()
                total += len(data)
                refeed.append((int(path.rsplit("/", 1)[1]), data))
                r["fds"].append({"arg": i, "blob": blob_put(store, data)})
                continue
            if path in seen:                # one file given many times
                ent = seen[path]
            elif os.path.isfile(path):
                total += os.path.getsize(path)
                if total <= MAX_INPUT:
                    ent = {"path": path, "kind": "f", "blob": blob_put(store, path=path)}
            elif os.path.isdir(path):
                ent = {"path": path, "kind": "d", "tree": tree_put(store, path)}
            seen[path] = ent
            if ent:
                r["inputs"][str(i)] = ent
        r["bytes"] = total
    else:
        r["unparsed"] = True
    name = "%d.%d.json" % (os.getpid(), int.from_bytes(os.urandom(4), "big"))
    with open(os.path.join(rec, "new", ".tmp." + name), "w") as f:
        json.dump(r, f)
    os.replace(os.path.join(rec, "new", ".tmp." + name), os.path.join(rec, "new", name))
    for fd, data in refeed:
        feed(fd, data)
    # Python ignores SIGPIPE and SIGXFSZ: give tarflat what the shim got
    ign = int(os.environ.get("SAME_SIGIGN") or "0", 16)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        if not ign & (1 << (sig - 1)):
            signal.signal(sig, signal.SIG_DFL)
    os.execv(real, [real] + args)


# ---- collect: recorded runs -> cases --------------------------------------------

def mapped(path):
    """Where input PATH goes inside a case directory."""
    if path.startswith("/") or ".." in path.split("/"):
        return "A/" + os.path.normpath(path).lstrip("/")
    return path


def place(case, rel, blob, store):
    dst = os.path.join(case, rel)
    os.makedirs(os.path.dirname(dst) or case, exist_ok=True)
    if not os.path.lexists(dst):
        os.link(os.path.join(store, blob), dst)


def write_case(case, c):
    os.makedirs(case, exist_ok=True)
    with open(os.path.join(case, "case.json.tmp"), "w") as f:
        json.dump(c, f, indent=1)
    os.replace(os.path.join(case, "case.json.tmp"), os.path.join(case, "case.json"))


def stack_of(args, opts, inputs):
    """The stack part of a command line: --layers and --platform, inputs."""
    pre = []
    for name, val, _ in opts:
        if name == "layers" and "--layers" not in pre:
            pre.append("--layers")
        elif name == "platform":
            pre += ["--platform", val]
    ins = [args[i] for i, _ in inputs]
    if any(t.startswith("-") and t != "-" for t in ins):
        ins = ["--"] + ins
    return {"pre": pre, "inputs": ins}


def collect(d):
    """Every record in DIR/rec/new becomes a case in DIR/cases/rec/TEST/N,
    unless an identical run (same arguments, bytes, stdin, stdout, PATH)
    came before; a stack gets the matrix once."""
    rec, store = os.path.join(d, "rec"), os.path.join(d, "rec", "blobs")
    recs = []
    for n in os.listdir(os.path.join(rec, "new")):
        if n.endswith(".json") and not n.startswith("."):
            p = os.path.join(rec, "new", n)
            with open(p) as f:
                recs.append((os.stat(p).st_mtime_ns, n, json.load(f)))
    recs.sort()
    seen_run, seen_stack, count, left = set(), set(), {}, []
    for _, _, r in recs:
        if r.get("bytes", 0) > MAX_INPUT:
            left.append("%s: tarflat %s (%d MB of input)" % (
                r["test"], " ".join(r["args"])[:80], r["bytes"] >> 20))
            continue
        args = list(r["args"])
        files = []                      # (relpath, blob)
        for i, ent in sorted(r["inputs"].items(), key=lambda x: int(x[0])):
            i = int(i)
            m = mapped(ent["path"])
            args[i] = m + args[i][len(ent["path"]):]
            if ent["kind"] == "f":
                files.append((m, ent["blob"]))
            else:
                files.append((m + "/", ""))
                for rel, t, v in ent["tree"]:
                    files.append((m + "/" + rel, t + ":" + v if t != "f" else v))
        out = None
        if r["out"]:
            # -o FILE, or -oFILE: the name replaced, the option kept
            i, kind, val = r["out"]
            out = [i, kind]
            new = {"file": "@OUT@", "dir": "@ODIR@", "nodir": "missing-dir/out.tar"}
            if kind in new:
                args[i] = args[i][:len(args[i]) - len(val)] + new[kind]
        stdin = r["stdin"]
        if stdin and stdin.get("blob") is None:
            stdin = None
        key = json.dumps([args, sorted(files), stdin, r["fds"], r["stdout"],
                          r["tools"], r["tmpdir"], out])
        if key in seen_run:
            continue
        seen_run.add(key)
        stack = None
        p = None if r.get("unparsed") else parse(args)
        if p:
            stack = stack_of(args, p[0], p[1])
            skey = json.dumps([stack, sorted(files), stdin, r["fds"], r["tools"], r["tmpdir"]])
            if skey in seen_stack:
                stack = None
            seen_stack.add(skey)
        count[r["test"]] = count.get(r["test"], 0) + 1
        case = os.path.join(d, "cases", "rec", r["test"], "%04d" % count[r["test"]])
        if os.path.exists(case):
            shutil.rmtree(case)
        os.makedirs(case)
        for rel, v in files:
            if rel.endswith("/"):
                os.makedirs(os.path.join(case, rel), exist_ok=True)
            elif v.startswith("l:"):
                os.makedirs(os.path.dirname(os.path.join(case, rel)), exist_ok=True)
                os.symlink(v[2:], os.path.join(case, rel))
            elif v.startswith("d:"):
                os.makedirs(os.path.join(case, rel), exist_ok=True)
            else:
                place(case, rel, v, store)
        c = {"args": args, "stdin": None, "fds": [], "stdout": r["stdout"],
             "tools": r["tools"], "tmpdir": r["tmpdir"], "out": out, "stack": stack,
             "recorded": True}
        if stdin:
            place(case, ".stdin", stdin["blob"], store)
            c["stdin"] = {"file": ".stdin", "kind": stdin["kind"]}
        for k, fd in enumerate(r["fds"]):
            place(case, ".fd%d" % k, fd["blob"], store)
            c["fds"].append({"arg": fd["arg"], "file": ".fd%d" % k})
        write_case(case, c)
    n = sum(count.values())
    print("collect: %d recorded runs, %d distinct, %d stacks" % (
        len(recs), n, len(seen_stack)))
    for l in left:
        print("collect: left out: " + l)


def stack_case(d, group, name, rest):
    """A generated stack: FILE... (and --layers) as one case, matrix only."""
    layers = rest and rest[0] == "--layers"
    files = rest[1:] if layers else rest
    case = os.path.join(d, "cases", group, name)
    c = {"args": (["--layers"] if layers else []) + files, "stdin": None, "fds": [],
         "stdout": "pipe", "tools": list(TOOLS), "tmpdir": "ok", "out": None,
         "stack": {"pre": ["--layers"] if layers else [], "inputs": files},
         "recorded": False}
    write_case(case, c)


def corpus_cases(d, src):
    """Every file of the corpus SRC (copied to DIR/corpus) as a case, read
    as it comes: an image or a layer, as t0710 reads them (t0700's runs with
    --layers are recorded, rec/t0700-corpus)."""
    dst = os.path.join(d, "corpus")
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    for root, dirs, files in os.walk(dst):
        dirs.sort()
        for n in sorted(files):
            p = os.path.join(root, n)
            os.chmod(p, 0o644)
            rel = os.path.relpath(p, dst)
            if rel in ("MANIFEST.tsv", "README.md"):
                continue
            stack_case(d, "corpus", rel.replace("/", "_"), [p])


# ---- compare --------------------------------------------------------------------

# The option matrix: each stack runs with each of these, into a pipe but for
# -o. P1, P2: paths from OLD's -t listing of the stack (the -t run, which
# comes before them). Without -j tarflat takes the processors (at most 8),
# so on a 2-core machine "default" is -j 2 too; -v -j 2 is -j 2 with the
# names on stderr as well.
MATRIX = [
    ("default", []),
    ("-o FILE", ["-o", "@OUT@"]),
    ("-t", ["-t"]),
    ("--path P1", ["--path", "@P1@"]),
    ("--path P1 --path P2", ["--path", "@P1@", "--path", "@P2@"]),
    ("-j 1", ["-j", "1"]),
    ("-v -j 2", ["-v", "-j", "2"]),
]

# stderr differences that are not tarflat's: the /dev/fd/N a pipe argument
# got in this run (the descriptor number Python handed out)
NORMALISE = [(re.compile(rb"/dev/fd/\d+"), b"/dev/fd/N")]


def pick_paths(listing):
    """P1 (a directory about halfway down, or the first entry) and P2 (a
    regular file near the end) from a -t listing; made-up names for none."""
    dirs, files = [], []
    for line in listing.decode("utf-8", "surrogateescape").splitlines():
        f = line.split(" ", 6)
        if len(f) < 7:
            continue
        if f[0].startswith("d"):
            dirs.append(f[6].rstrip("/"))
        elif f[0].startswith("-"):
            files.append(f[6])
    # names of a few hundred bytes at most (t0910's deep trees have longer)
    dirs = [p for p in dirs if len(p) < 300]
    files = [p for p in files if len(p) < 300]
    p1 = dirs[len(dirs) // 2] if dirs else files[0] if files else "a"
    p2 = files[(len(files) * 4) // 5] if files else "b/c"
    return p1, p2


PATH_LOCK = threading.Lock()


class Runner:
    def __init__(self, d, binary, work):
        self.binary, self.work = binary, work
        self.pathdirs = os.path.join(d, "path")
        os.makedirs(work, exist_ok=True)

    def env(self, c):
        pd = os.path.join(self.pathdirs, "-".join(c["tools"]) or "none")
        with PATH_LOCK:
            if not os.path.isdir(pd):
                os.makedirs(pd + ".tmp", exist_ok=True)
                for t in c["tools"]:
                    real = shutil.which(t)
                    if real and not os.path.lexists(os.path.join(pd + ".tmp", t)):
                        os.symlink(real, os.path.join(pd + ".tmp", t))
                os.rename(pd + ".tmp", pd)
        e = dict(os.environ, PATH=pd, LC_ALL="C", TZ="UTC")
        spool = os.path.join(self.work, "spool")
        if c["tmpdir"] == "missing":
            e["TMPDIR"] = os.path.join(self.work, "no-such-dir")
        else:
            os.makedirs(spool, exist_ok=True)
            e["TMPDIR"] = spool
        return e

    def run(self, case, c, args, stdout):
        """One run: (exit status, stdout bytes, stderr, -o file, leftovers)."""
        out = os.path.join(self.work, "out.tar")
        for n in os.listdir(self.work):
            p = os.path.join(self.work, n)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
        args = [a.replace("@OUT@", out).replace("@ODIR@", self.work) for a in args]
        env = self.env(c)
        keep, threads = [], []
        for fd in c["fds"]:
            r, w = os.pipe()
            keep.append(r)
            args[fd["arg"]] = "/dev/fd/%d" % r
            threads.append((w, os.path.join(case, fd["file"])))
        stdin, data = subprocess.DEVNULL, None
        if c["stdin"]:
            path = os.path.join(case, c["stdin"]["file"])
            if c["stdin"]["kind"] == "file":
                stdin = open(path, "rb")
            else:
                stdin = subprocess.PIPE
                with open(path, "rb") as f:
                    data = f.read()
        # A pipe is closed after CAP bytes (SIGPIPE); a file written (-o
        # FILE, standard output a file) stops there too (ulimit -f, through
        # sh: SIGXFSZ): t0910's deep trees flatten to gigabytes. argv[0] is
        # "tarflat", or the binary's path through sh.
        sh = 'ulimit -f %d; exec "$0" "$@"' % (CAP // 512)
        so, viash = subprocess.PIPE, any(out in a for a in args)
        if stdout == "file":
            so, viash = open(os.path.join(self.work, "stdout"), "wb"), True
        elif stdout in ("/dev/full", "/dev/null"):
            so = open(stdout, "wb")
        elif stdout == "closed":
            so, sh, viash = subprocess.DEVNULL, sh + " >&-", True
        cmd, exe = ["tarflat"] + args, self.binary
        if viash:
            cmd, exe = ["/bin/sh", "-c", sh, self.binary] + args, "/bin/sh"
        try:
            p = subprocess.Popen(cmd, executable=exe, cwd=case, env=env, stdin=stdin, stdout=so, stderr=subprocess.PIPE,
                                 pass_fds=keep)
        finally:
            for r in keep:
                os.close(r)
            if stdin not in (subprocess.DEVNULL, subprocess.PIPE):
                stdin.close()
            if so is not subprocess.PIPE and so is not subprocess.DEVNULL:
                so.close()
        got = {}
        jobs = [threading.Thread(target=pump, args=t) for t in threads]
        jobs.append(threading.Thread(target=drain, args=(p.stderr, got, "e")))
        if p.stdout:
            jobs.append(threading.Thread(target=drain, args=(p.stdout, got, "o")))
        if p.stdin:
            jobs.append(threading.Thread(target=fill, args=(p.stdin, data)))
        for t in jobs:
            t.start()
        try:
            rc = p.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = "timeout"
        for t in jobs:
            t.join()
        o, e = got.get("o", b""), got["e"]
        if stdout == "file":
            with open(os.path.join(self.work, "stdout"), "rb") as f:
                o = f.read(CAP)
        e = e.replace(os.fsencode(self.binary), b"tarflat")
        for rx, to in NORMALISE:
            e = rx.sub(to, e)
        ofile = None
        if os.path.isfile(out):
            with open(out, "rb") as f:
                ofile = f.read(CAP)
        left = sorted(re.sub(r"\.tmp\.\w{6}$", ".tmp.XXXXXX", n)
                      for n in os.listdir(self.work)
                      if n not in ("out.tar", "stdout", "spool"))
        left += ["spool/" + n for n in os.listdir(os.path.join(self.work, "spool"))] \
            if os.path.isdir(os.path.join(self.work, "spool")) else []
        cut = len(o) >= CAP or len(e) >= CAP or rc == -signal.SIGXFSZ
        return rc, o, e, ofile, left, cut


def drain(pipe, got, key):
    """Reads PIPE into GOT[KEY], at most CAP bytes; then closes it."""
    buf = bytearray()
    while len(buf) < CAP:
        b = pipe.read1(1 << 20)
        if not b:
            break
        buf += b
    pipe.close()
    got[key] = bytes(buf[:CAP])


def fill(pipe, data):
    """Writes DATA to PIPE (standard input) and closes it."""
    try:
        pipe.write(data)
    except OSError:             # tarflat stopped reading: its status says so
        pass
    try:
        pipe.close()
    except OSError:
        pass


def pump(w, path):
    try:
        with open(path, "rb") as f, os.fdopen(w, "wb") as o:
            shutil.copyfileobj(f, o)
    except OSError:
        pass


def first_diff(a, b):
    """The offset of the first byte where A and B differ, counted from 1 as
    cmp counts (one past the shorter when it is a prefix of the other)."""
    n = min(len(a), len(b))
    lo = 0
    while lo < n and a[lo:lo + 65536] == b[lo:lo + 65536]:
        lo += 65536
    while lo < n and a[lo] == b[lo]:
        lo += 1
    return lo + 1


def differences(a, b):
    """What differs between two run results, as short phrases. When both
    runs were cut at CAP, where the cut fell in standard error depends on
    timing (-v names written before the SIGPIPE): one prefix of the other
    is enough there."""
    out = []
    if a[0] != b[0]:
        out.append("exit %s vs %s" % (a[0], b[0]))
    if a[1] != b[1]:
        out.append("stdout differs at byte %d (%d vs %d bytes)" % (
            first_diff(a[1], b[1]), len(a[1]), len(b[1])))
    cut_err = a[5] and b[5] and (a[2].startswith(b[2]) or b[2].startswith(a[2]))
    if a[2] != b[2] and not cut_err:
        la, lb = a[2].splitlines(), b[2].splitlines()
        k = next((k for k in range(max(len(la), len(lb)))
                  if k >= len(la) or k >= len(lb) or la[k] != lb[k]), 0)
        out.append("stderr differs at byte %d (line %d: %r vs %r)" % (
            first_diff(a[2], b[2]), k + 1, la[k][:60] if k < len(la) else b"",
            lb[k][:60] if k < len(lb) else b""))
    if a[3] != b[3]:
        if a[3] is None or b[3] is None:
            out.append("-o FILE %s vs %s" % ("absent" if a[3] is None else "written",
                                             "absent" if b[3] is None else "written"))
        else:
            out.append("-o FILE differs at byte %d (%d vs %d bytes)" % (
                first_diff(a[3], b[3]), len(a[3]), len(b[3])))
    if a[4] != b[4]:
        out.append("files left behind: %s vs %s" % (a[4], b[4]))
    return out


def runs_of(c):
    """A case's runs: (label, args, stdout kind, needs-paths)."""
    out = []
    if c["recorded"]:
        out.append(("as recorded", c["args"], c["stdout"]))
    s = c["stack"]
    if s:
        for label, opts in MATRIX:
            args = s["pre"] + opts + s["inputs"]
            if c["recorded"] and args == c["args"] and c["stdout"] == "pipe":
                continue
            out.append((label, args, "pipe"))
    return out


SAVE_MAX = 50                 # differences whose two sides are kept in DIR/diffs
SAVED, SAVED_LOCK = [0], threading.Lock()


def save_diff(diffdir, tag, a, b):
    """Both sides of a difference: diffs/TAG.{old,new}.{out,err,ofile}."""
    os.makedirs(diffdir, exist_ok=True)
    for which, r in (("old", a), ("new", b)):
        for part, data in (("out", r[1]), ("err", r[2]), ("ofile", r[3])):
            if data is not None:
                with open(os.path.join(diffdir, "%s.%s.%s" % (tag, which, part)), "wb") as f:
                    f.write(data)


def compare_case(d, case, ro, rn):
    """Every run of one case with both binaries: (runs, difference lines)."""
    with open(os.path.join(case, "case.json")) as f:
        c = json.load(f)
    name = os.path.relpath(case, os.path.join(d, "cases"))
    lines, n, p = [], 0, None
    for label, args, so in runs_of(c):
        if "@P1@" in args:
            args = [p[0] if x == "@P1@" else p[1] if x == "@P2@" else x for x in args]
        a = ro.run(case, c, list(args), so)
        b = rn.run(case, c, list(args), so)
        if c["stack"] and args == c["stack"]["pre"] + ["-t"] + c["stack"]["inputs"]:
            p = pick_paths(a[1])
        n += 1
        diff = differences(a, b)
        if diff:
            tag = "%s.%d" % (name.replace("/", "_"), n)
            with SAVED_LOCK:
                SAVED[0] += 1
                save = SAVED[0] <= SAVE_MAX
            if save:
                save_diff(os.path.join(d, "diffs"), tag, a, b)
            shown = " ".join("'%s'" % x if (" " in x or not x) else x for x in args)
            shown = shown.replace("@OUT@", "FILE").replace("@ODIR@", "DIR")
            if len(shown) > 200:
                shown = shown[:200] + "..."
            lines.append("DIFF %s [%s] tarflat %s%s: %s%s" % (
                name, label, shown, "" if so == "pipe" else " >" + so,
                "; ".join(diff), " (diffs/%s.*)" % tag if save else ""))
    return n, lines


def compare(d, old, new, jobs, only):
    """Runs every case under DIR/cases (whose name starts with ONLY) with
    OLD and NEW, JOBS cases at a time; prints the differences and a total;
    DIR/times.tsv gets the seconds each case took. Returns 1 if any differ."""
    cases = []
    for root, dirs, files in os.walk(os.path.join(d, "cases")):
        dirs.sort()
        if "case.json" in files:
            dirs[:] = []
            if os.path.relpath(root, os.path.join(d, "cases")).startswith(only):
                cases.append(root)
    cases.sort()
    shutil.rmtree(os.path.join(d, "diffs"), ignore_errors=True)
    lock = threading.Lock()
    slots = list(range(jobs))
    total, times = [0, 0], []

    def one(case):
        with lock:
            slot = slots.pop()
        t0 = time.time()
        try:
            ro = Runner(d, old, os.path.join(work, "%d.old" % slot))
            rn = Runner(d, new, os.path.join(work, "%d.new" % slot))
            n, lines = compare_case(d, case, ro, rn)
        except Exception as ex:     # a broken case counts as a difference
            n, lines = 1, ["DIFF %s: the comparison failed: %r" % (case, ex)]
        with lock:
            slots.append(slot)
            times.append((time.time() - t0, n, os.path.relpath(case, d)))
            total[0] += n
            total[1] += len(lines)
            for l in lines:
                print(l, flush=True)

    work = os.path.join(d, "work", str(os.getpid()))
    with ThreadPoolExecutor(jobs) as ex:
        list(ex.map(one, cases))
    shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(d, "times.tsv"), "w") as f:
        for t, n, case in sorted(times, reverse=True):
            f.write("%.3f\t%d\t%s\n" % (t, n, case))
    print("%d outputs compared, %d differ" % (total[0], total[1]), flush=True)
    return 1 if total[1] else 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "record":
        record(argv[2:])
    elif cmd == "collect":
        collect(argv[2])
    elif cmd == "corpus":
        corpus_cases(argv[2], argv[3])
    elif cmd == "stack":
        stack_case(argv[2], argv[3], argv[4], argv[5:])
    elif cmd == "compare":
        jobs = int(os.environ.get("JOBS") or 2)
        return compare(argv[2], argv[3], argv[4], jobs, os.environ.get("ONLY", ""))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
