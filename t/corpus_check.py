#!/usr/bin/env python3
"""Check tarflat against the shared tar corpus (driven by t/t0700-corpus.sh).

usage: corpus_check.py CORPUS EXPECT_TSV TARFLAT WORKDIR

For every file listed in CORPUS/MANIFEST.tsv this decides, from the file's
content and not its name, what tarflat must do with it as a one-layer image:

  ok      exit 0, no error on stderr (warnings allowed; 'ok-warn' requires
          one), and the output's members equal the expectation;
  reject  exit 1, zero bytes on stdout, 'tarflat: FILE: offset N: ...';
  refuse  the same, for a compressed file tarflat does not read (lz4, lzip,
          raw lzma, compress(1), 7z ...), and the message names the format
          and says how to decompress it.

tarflat always runs with --layers: an image archive (docker save, OCI) is
checked here as the tar it is; t/t0710-corpus-images.sh reads it as an image.

zstd, xz and bzip2 files are read by tarflat through `PROG -dc` from PATH.
The checker decompresses them itself (Python's lzma and bz2 modules, the
zstd command for zstd) and decides on the decompressed bytes as on any plain
file: where the corpus holds a FILE.decompressed.tar row, those bytes must
be that file's and the decision is that row's (a row of the table for FILE
must agree with it: accept or reject, reader, members); otherwise the table,
else the defaults below, applied to the decompressed content. The readers
list the decompressed copy; tarflat gets the compressed file, and the
decompressor's own messages on stderr ('bzip2: (stdin): trailing garbage
after EOF ignored') count as warnings. Each is also run with a PATH that
lacks the program: exit 1, nothing on stdout, and 'tarflat: FILE: offset 0:
PROG-compressed layer, and no PROG on PATH: install it (apt-get install
PKG)' (not with TARFLAT_SLOW, under valgrind, which turns that into an exit
status 127 of the child).

The expected member list is never taken from tarflat: an independent reader
(Python tarfile by default; GNU tar's or bsdtar's listing where the MANIFEST
shows Python to be the odd one out) lists the raw entries, and model() below
applies tarflat's rules to them (tarflat.1 rule 1 names, whiteouts, duplicates,
implicit parents, hardlink carriers, the depth-first output order of the output rules (tarflat.1 OUTPUT)).
What tarflat wrote is read back with Python tarfile.

Defaults come from the MANIFEST (expected_outcome VALID... -> ok with the
Python reader; REJECT/INVALID -> reject) and from the content (a file
compressed with anything but gzip, zstd, xz or bzip2 -> refuse). t/corpus-expect.tsv overrides them per file: it holds a
hand-written decision for every DISAGREE row and for the few other files that
need one; the test fails when a DISAGREE row has no decision there.

For file number I (1-based, MANIFEST order) it writes WORKDIR/I.want and
WORKDIR/I.got, and prints one line 'I<TAB>description' (or
'I<TAB>description<TAB>SKIP reason'); the shell script compares the two files.
"""
import concurrent.futures
import csv
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading

BIG = 1 << 30          # do not expand or hash files larger than this
TIMEOUT = 120          # seconds for one tarflat run

# -------------------------------------------------------------------------
# Content detection


def tar_checksum_ok(b):
    if len(b) < 512:
        return False
    try:
        want = int(b[148:156].replace(b"\0", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    u = sum(b[:148]) + 32 * 8 + sum(b[156:512])
    s = sum((x - 256 if x > 127 else x) for x in b[:148]) + 32 * 8 + \
        sum((x - 256 if x > 127 else x) for x in b[156:512])
    return want in (u, s)


def detect(path):
    """'tar', 'gzip', or the name of a compression tarflat refuses."""
    with open(path, "rb") as f:
        b = f.read(512)
    if tar_checksum_ok(b):
        return "tar"
    magics = [
        (b"\x1f\x8b", "gzip"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"BZh", "bzip2"),
        (b"\x04\x22\x4d\x18", "lz4"),
        (b"\x02\x21\x4c\x18", "lz4"),
        (b"LZIP", "lzip"),
        (b"\x1f\x9d", "compress"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"\x89LZO\x00\r\n\x1a\n", "lzop"),
        (b"LRZI", "lrzip"),
        (b"GRZipII", "grzip"),
    ]
    for m, name in magics:
        if b.startswith(m):
            return name
    # zstd skippable frame (pzstd writes one first): magic 0x184D2A5? LE
    if len(b) >= 4 and b[1:4] == b"\x2a\x4d\x18" and 0x50 <= b[0] <= 0x5f:
        return "zstd"
    # raw lzma ("lzma_alone"): properties 0x5d, a dictionary size, then
    # the uncompressed size (all ones when unknown)
    if len(b) >= 13 and b[0] == 0x5d and b[1:3] == b"\0\0":
        return "lzma"
    return "tar"


# Compressions tarflat reads through an external program (`PROG -dc` from
# PATH, as GNU tar does), and the Debian package that has the program.
FILTERS = {"zstd": "zstd", "xz": "xz-utils", "bzip2": "bzip2"}


def decompress(path, fmt, out):
    """Decompresses PATH (FMT one of FILTERS) into OUT with a tool that is not
    tarflat: Python's lzma or bz2 module, the zstd command for zstd. Like the
    programs, both read concatenated streams and ignore garbage after the
    last one. Raises RuntimeError when it cannot."""
    if fmt == "zstd":
        if shutil.which("zstd") is None:
            raise RuntimeError("no zstd command to decompress it")
        with open(out, "wb") as o:
            p = subprocess.run(["zstd", "-q", "-dc", path], stdout=o,
                               stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("zstd -dc failed: %s" % p.stderr.decode(errors="replace"))
        return
    try:
        mod = __import__({"xz": "lzma", "bzip2": "bz2"}[fmt])
    except ImportError as ex:
        raise RuntimeError("no Python module to decompress it: %s" % ex)
    with mod.open(path, "rb") as f, open(out, "wb") as o:
        shutil.copyfileobj(f, o, 1 << 20)


_shadow = {}
_shadow_lock = threading.Lock()


def path_without(prog, work):
    """A PATH with every command of this one but PROG: a directory of
    symlinks (so a wrapper such as t/valgrind-tarflat still finds valgrind)."""
    with _shadow_lock:
        if prog in _shadow:
            return _shadow[prog]
        d = os.path.join(work, "path-without-" + prog)
        os.makedirs(d, exist_ok=True)
        for pd in os.environ.get("PATH", "").split(os.pathsep):
            try:
                names = os.listdir(pd or ".")
            except OSError:
                continue
            for n in names:
                t = os.path.join(d, n)
                if n == prog or os.path.lexists(t):
                    continue
                f = os.path.abspath(os.path.join(pd or ".", n))
                if os.path.isfile(f) and os.access(f, os.X_OK):
                    os.symlink(f, t)
        _shadow[prog] = d
        return d


# What a refusal must say: the format's name, and a way to decompress it.
REFUSE_NAME = {
    "zstd": r"zstd", "xz": r"\bxz\b", "bzip2": r"bzip2", "lz4": r"lz4",
    "lzip": r"lzip", "lzma": r"lzma", "compress": r"compress", "7z": r"\b7z\b",
    "lzop": r"lzop", "lrzip": r"lrz", "grzip": r"grzip",
}
REFUSE_HOW = r"(decompress|extract)\b.*\b(zstd|xz|unxz|bzip2|bunzip2|lz4|lzip|gzip|" \
             r"uncompress|7z|lzop|lrzcat|lrunzip|grzip)\b"

# -------------------------------------------------------------------------
# Raw entries from an independent reader.
#
# An entry is a dict: name (bytes, as stored), type (one of '0' regular, '1'
# hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo, or 'drop'
# for headers that are not members), size (expanded, regular files only, or
# None), link (bytes), sha1 (hex or None).

PY_TYPES = {b"0": "0", b"\0": "0", b"7": "0", b"S": "0", b"1": "1", b"2": "2",
            b"3": "3", b"4": "4", b"5": "5", b"6": "6", b"D": "5"}
# GNU volume labels, Solaris ACLs, old GNU long names and the extension
# headers are not members (Python passes V, A and N through as members).
NOT_MEMBERS = {b"V", b"A", b"N", b"g", b"x", b"X", b"L", b"K"}


def fsb(s):
    """A name as Python decoded it, back to the bytes in the archive."""
    return s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s


def read_python(path, fmt):
    out = []
    mode = "r:gz" if fmt == "gzip" else "r:"
    with tarfile.open(path, mode, encoding="utf-8", errors="surrogateescape") as tf:
        for m in tf:
            t = m.type
            if t in NOT_MEMBERS:
                out.append({"name": fsb(m.name), "type": "drop"})
                continue
            # unknown typeflags are regular files with content (tarflat.1 rule 4)
            kind = PY_TYPES.get(t, "0")
            e = {"name": fsb(m.name), "type": kind, "size": None,
                 "link": fsb(m.linkname), "sha1": None}
            if kind == "0":
                e["size"] = m.size
                if m.size <= BIG:
                    f = tf.extractfile(m)
                    h = hashlib.sha1()
                    while True:
                        chunk = f.read(1 << 20)
                        if not chunk:
                            break
                        h.update(chunk)
                    e["sha1"] = h.hexdigest()
            out.append(e)
    return out


def unescape(s):
    """GNU tar / bsdtar listing escapes (\\ooo, \\\\, \\n ...) to bytes."""
    b = s.encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    simple = {ord("\\"): 92, ord("n"): 10, ord("t"): 9, ord("r"): 13,
              ord("a"): 7, ord("b"): 8, ord("f"): 12, ord("v"): 11,
              ord("?"): 127, ord(" "): 32}
    while i < len(b):
        c = b[i]
        if c == 92 and i + 1 < len(b):
            n = b[i + 1]
            if len(b) >= i + 4 and all(48 <= x <= 55 for x in b[i + 1:i + 4]):
                out.append(int(b[i + 1:i + 4], 8) & 0xff)
                i += 4
                continue
            if n in simple:
                out.append(simple[n])
                i += 2
                continue
        out.append(c)
        i += 1
    return bytes(out)


LIST_TYPES = {"-": "0", "h": "1", "l": "2", "c": "3", "b": "4", "d": "5",
              "p": "6", "C": "0", "S": "0", "V": "drop", "M": "0", "N": "drop"}


def listing_entry(kind, size, rest):
    e = {"type": LIST_TYPES.get(kind, "0"), "size": None, "link": b"", "sha1": None}
    if " link to " in rest:
        rest, link = rest.split(" link to ", 1)
        e["type"] = "1"
        e["link"] = unescape(link)
    elif kind == "l" and " -> " in rest:
        rest, link = rest.split(" -> ", 1)
        e["link"] = unescape(link)
    e["name"] = unescape(rest)
    if e["type"] == "0":
        e["size"] = int(size)
    return e


def read_gnutar(path, fmt, hashes=True):
    p = subprocess.run(["tar", "--numeric-owner",
                        "--quoting-style=escape", "-tvf", path],
                       capture_output=True, text=True, errors="surrogateescape")
    rx = re.compile(r"^(\S)\S{9}\+?\s+\S+\s+(\S+)\s+-?\d+-\d\d-\d\d \d\d:\d\d\s(.*)$")
    out = []
    for line in p.stdout.splitlines():
        m = rx.match(line)
        if not m:
            raise RuntimeError("gnutar listing: cannot parse %r" % line)
        out.append(listing_entry(m.group(1), m.group(2), m.group(3)))
    # content hashes, when nothing is too large to expand
    if hashes and all((e.get("size") or 0) <= BIG for e in out):
        h = subprocess.run(["tar", "-xf", path, "--to-command",
                            'printf "%s\\t" "$TAR_FILENAME"; sha1sum'],
                           capture_output=True, errors="surrogateescape", text=True)
        sums = {}
        for line in h.stdout.splitlines():
            name, _, rest = line.rpartition("\t")
            sums.setdefault(name.encode("utf-8", "surrogateescape"), []).append(rest.split()[0])
        for e in out:
            if e["type"] == "0" and sums.get(e["name"]):
                e["sha1"] = sums[e["name"]].pop(0)
    return out


def read_bsdtar(path, fmt):
    p = subprocess.run(["bsdtar", "--numeric-owner", "-tvf", path],
                       capture_output=True, text=True, errors="surrogateescape")
    rx = re.compile(r"^(\S)\S{9}\+?\s+\d+\s+\S+\s+\S+\s+(\S+)\s+\w{3}\s+\d+\s+[\d:]+\s(.*)$")
    out = []
    for line in p.stdout.splitlines():
        m = rx.match(line)
        if not m:
            raise RuntimeError("bsdtar listing: cannot parse %r" % line)
        out.append(listing_entry(m.group(1), m.group(2), m.group(3)))
    return out


READERS = {"python": read_python, "gnutar": read_gnutar, "bsdtar": read_bsdtar}

# -------------------------------------------------------------------------
# tarflat's rules, for one layer


class Reject(Exception):
    pass


def normalise(p):
    """tarflat.1 rule 1: drop leading / and ./, collapse //, drop . and a trailing
    /, resolve .. lexically, clamped at the root."""
    out = []
    for c in p.split(b"/"):
        if c in (b"", b"."):
            continue
        if c == b"..":
            if out:
                out.pop()
            continue
        out.append(c)
    return b"/".join(out)


class Inode:
    def __init__(self, e, pos):
        self.type = e["type"]
        self.size = e.get("size")
        self.sha1 = e.get("sha1")
        self.link = e.get("link", b"")
        self.supplier = pos


class Node:
    def __init__(self, parent, kind, key, inode=None):
        self.parent = parent
        self.kind = kind          # '5' dir, else the inode's type
        self.key = key            # position of the entry that created it
        self.inode = inode
        self.children = {} if kind == "5" else None
        self.implicit = False     # a missing parent tarflat creates


def lookup(root, comps, key, create):
    """Walk COMPS from ROOT following symlinks (tarflat.1 rule 2). Missing
    directories are created (0755, implicit) when CREATE, else None."""
    cur = root
    todo = list(comps)
    hops = 0
    while todo:
        c = todo.pop(0)
        if c in (b"", b"."):
            continue
        if c == b"..":
            cur = cur.parent or root
            continue
        ch = cur.children.get(c)
        if ch is None:
            if not create:
                return None
            ch = Node(cur, "5", key)
            ch.implicit = True
            cur.children[c] = ch
        elif ch.kind == "2":
            hops += 1
            if hops > 40:
                raise Reject("too many symlink hops")
            t = ch.inode.link
            if t.startswith(b"/"):
                cur = root
            todo = t.split(b"/") + todo
            continue
        elif ch.kind != "5":
            raise Reject("not a directory")
        cur = ch
    return cur


def model(entries):
    """Apply tarflat's rules to one layer's raw entries. Returns
    (members, implicit): members in output order as (type, name, size,
    link, sha1) tuples, names of directories ending in '/'; IMPLICIT is the
    set of names of the parent directories the layer did not hold."""
    root = Node(None, "5", -1)
    pending = []   # hardlinks whose target is not there yet
    for pos, e in enumerate(entries):
        if e["type"] == "drop":
            continue
        if e["name"] == b"":
            continue                       # ignored, with a warning
        name = normalise(e["name"])
        if name == b"":
            continue                       # the root itself
        comps = name.split(b"/")
        base = comps[-1]
        if base.startswith(b".wh.") and not base.startswith(b".wh..wh."):
            if base[4:] in (b"", b".", b".."):
                raise Reject("bad whiteout")
            continue                       # nothing below it in one layer
        if base == b".wh..wh..opq":
            continue
        parent = lookup(root, comps[:-1], pos, True)
        old = parent.children.get(base)
        if e["type"] == "5":
            if old is not None and old.kind == "5":
                old.implicit = False       # merge: keeps position, children
                continue
            node = Node(parent, "5", pos)
        elif e["type"] == "1":
            tcomps = normalise(e["link"]).split(b"/")
            tdir = lookup(root, tcomps[:-1], pos, False)
            target = tdir.children.get(tcomps[-1]) if tdir else None
            if target is not None and target.kind == "5":
                raise Reject("hardlink to a directory")
            if target is not None and target.inode is None:
                target = None              # itself a link still waiting
            if target is old and old is not None:
                continue                   # already that file
            node = Node(parent, "1", pos, target.inode if target else None)
            if target is None:
                pending.append((node, tcomps))
            else:
                node.kind = target.kind
        else:
            node = Node(parent, e["type"], pos, Inode(e, pos))
        parent.children[base] = node
        # hardlinks waiting for a target that has now appeared
        for p in list(pending):
            pn, tc = p
            tdir = lookup(root, tc[:-1], pos, False)
            t = tdir.children.get(tc[-1]) if tdir else None
            if t is not None and t.inode is not None:
                if t.kind == "5":
                    raise Reject("hardlink to a directory")
                pn.inode, pn.kind = t.inode, t.kind
                pending.remove(p)
    for pn, tc in pending:
        if attached(root, pn):
            raise Reject("hardlink target not found")

    def walk(d, prefix, hidden, keyf, out):
        for nm, n in sorted(d.children.items(), key=lambda kv: keyf(kv[1])):
            path = prefix + nm
            h = hidden or nm.startswith(b".wh..wh.")
            out.append((path, n, h))
            if n.kind == "5":
                walk(n, path + b"/", h, keyf, out)
        return out

    # carriers: the first visible name of each inode in output order; a
    # carrier takes the position of the entry that supplied its bytes when
    # that is earlier (the output rules (tarflat.1 OUTPUT))
    first = walk(root, b"", False, lambda n: n.key, [])
    carrier = {}
    for path, n, h in first:
        if n.inode is not None and not h:
            carrier.setdefault(id(n.inode), n)

    def key2(n):
        if n.inode is not None and carrier.get(id(n.inode)) is n:
            return min(n.key, n.inode.supplier)
        return n.key

    members = []
    implicit = set()
    cpath = {}
    for path, n, h in walk(root, b"", False, key2, []):
        if h:
            continue
        if n.kind == "5":
            members.append(("5", path + b"/", None, b"", None))
            if n.implicit:
                implicit.add(path + b"/")
            continue
        ino = n.inode
        if carrier.get(id(ino)) is not n:
            members.append(("1", path, None, cpath[id(ino)], None))
            continue
        cpath[id(ino)] = path
        t = ino.type
        if t == "0":
            members.append(("0", path, ino.size, b"", ino.sha1))
        elif t == "2":
            members.append(("2", path, None, ino.link, None))
        else:
            members.append((t, path, None, b"", None))
    return members, implicit


def attached(root, node):
    while node.parent is not None:
        if node not in node.parent.children.values():
            return False
        node = node.parent
    return node is root

# -------------------------------------------------------------------------
# Reading what tarflat wrote


class TooBig(Exception):
    pass


class Tap:
    """A read-only stream that counts bytes and keeps the last 1024."""

    def __init__(self, f):
        self.f = f
        self.n = 0
        self.tail = b""

    def read(self, size=-1):
        b = self.f.read(size)
        self.n += len(b)
        self.tail = (self.tail + b)[-1024:]
        return b

    def drain(self):
        while self.read(1 << 20):
            pass


def read_output(tap, limit):
    """Members of tarflat's output, as model() gives them, and a note on
    how the stream ends. Raises TooBig for a file larger than LIMIT."""
    out = []
    with tarfile.open(fileobj=tap, mode="r|", encoding="utf-8",
                      errors="surrogateescape") as tf:
        for m in tf:
            name = fsb(m.name)
            t = m.type.decode("latin-1")
            if m.isdir():
                out.append(("5", name + b"/", None, b"", None))
            elif m.islnk():
                out.append(("1", name, None, fsb(m.linkname), None))
            elif m.issym():
                out.append(("2", name, None, fsb(m.linkname), None))
            elif m.isreg():
                if m.size > limit:
                    raise TooBig("%s: %d bytes" % (m.name, m.size))
                h = hashlib.sha1()
                f = tf.extractfile(m)
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    h.update(chunk)
                out.append(("0", name, m.size, b"", h.hexdigest()))
            else:
                out.append((t, name, None, b"", None))
    tap.drain()
    if tap.n % 512 or tap.tail != bytes(1024):
        end = "stdout: %d bytes, does not end with two zero blocks" % tap.n
    else:
        end = "stdout: a tar ending with two zero blocks"
    return out, end


def show(b):
    return b.decode("utf-8", "backslashreplace")


def fmt_members(members, sizes=True, sums=True):
    lines = []
    for t, name, size, link, sha1 in members:
        s = "%s %s" % (t, show(name))
        if t in ("1", "2"):
            s += " -> " + show(link)
        if t == "0" and sizes and size is not None:
            s += " size=%d" % size
        if t == "0" and sums and sha1 is not None:
            s += " sha1=" + sha1
        lines.append(s)
    return lines


def align(want, got):
    """Drop from GOT the sizes and sums that WANT does not know, so the
    comparison covers exactly what the independent reader reported."""
    wd = {}
    for m in want:
        wd.setdefault(m[1], []).append(m)
    out = []
    for g in got:
        ws = wd.get(g[1])
        if ws:
            w = ws.pop(0)
            g = (g[0], g[1], g[2] if w[2] is not None else None, g[3],
                 g[4] if w[4] is not None else None)
        out.append(g)
    return out

# -------------------------------------------------------------------------
# Running tarflat


ERR_RX = r"^tarflat: %s: offset (\d+): (.*)$"


def run_tarflat(tarflat, path, work, verbose=False, devnull=False, env=None):
    """Runs tarflat --layers on PATH (an image archive is read as the tar it
    is); returns (status, members, end, stderr lines, stdout bytes);
    members/end are None when the output is not a tar."""
    errf = tempfile.TemporaryFile(dir=work)
    args = [tarflat, "--layers"] + (["-v"] if verbose else []) + [path]
    if devnull:
        with open(os.devnull, "wb") as dn:
            p = subprocess.Popen(args, stdout=dn, stderr=errf, env=env)
            try:
                rc = p.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                rc = "timeout"
        errf.seek(0)
        return rc, None, None, errf.read().decode("utf-8", "backslashreplace").splitlines(), None
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errf, env=env)
    tap = Tap(p.stdout)
    members, end, exc = None, None, None
    try:
        members, end = read_output(tap, BIG)
    except TooBig as ex:
        # never read gigabytes the expectation did not announce
        p.kill()
        exc = "a member larger than 1 GiB, not read: %s" % ex
    except (tarfile.TarError, EOFError, OSError) as ex:
        exc = ex
    tap.drain()
    try:
        rc = p.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = "timeout"
    if exc is not None:
        end = "stdout: not a readable tar (%s)" % exc
    if members is None and tap.n == 0:
        members = []
    errf.seek(0)
    err = errf.read().decode("utf-8", "backslashreplace").splitlines()
    return rc, members, end, err, tap.n

# -------------------------------------------------------------------------
# Expectations


def load_expect(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 5:
                raise SystemExit("%s:%d: want 5 tab-separated columns, got %d"
                                 % (path, ln, len(cols)))
            p, outcome, reader, members, reason = cols
            if outcome not in ("ok", "ok-warn", "reject", "refuse"):
                raise SystemExit("%s:%d: bad outcome %r" % (path, ln, outcome))
            rows[p] = {"outcome": outcome, "reader": reader,
                       "members": members, "reason": reason}
    return rows


def default_decision(row, fmt):
    """FMT is the content tarflat reads: for a zstd, xz or bzip2 file, that
    of the decompressed bytes."""
    if fmt not in ("tar", "gzip"):
        return {"outcome": "refuse", "reader": "-", "members": "format:" + fmt,
                "reason": "compressed (%s): tarflat reads plain and gzip only" % fmt}
    x = row["expected_outcome"]
    if x.startswith("VALID"):
        return {"outcome": "ok", "reader": "python", "members": "-",
                "reason": "its project calls it valid", "crosscheck": True}
    if x.startswith("REJECT") or x.startswith("INVALID"):
        return {"outcome": "reject", "reader": "-", "members": "-",
                "reason": "its project calls it invalid"}
    return None


def parse_names(spec):
    return [n.encode("utf-8") for n in spec.split("|")] if spec else []


def check_file(i, row, dec, fmt, corpus, tarflat, work, plain=None, prog=None):
    """FMT is the content tarflat reads; for a file tarflat decompresses
    with PROG, PLAIN is the checker's own decompressed copy, which the
    readers list."""
    path = os.path.join(corpus, row["path"])
    lpath = plain or path
    want, got = [], []
    outcome = dec["outcome"]
    err_rx = re.compile(ERR_RX % re.escape(path))

    def is_warning(line):
        if prog and (line == "" or line.startswith(prog + ": ")):
            return True     # the decompressor's own; tarflat's status decides
        m = err_rx.match(line)
        return m is not None and m.group(2).startswith("warning: ")

    if outcome in ("reject", "refuse"):
        rc, members, end, err, nout = run_tarflat(tarflat, path, work)
        want.append("exit 1")
        got.append("exit %s" % rc)
        want.append("stdout: 0 bytes")
        got.append("stdout: %s bytes" % nout)
        errors = [l for l in err if not is_warning(l)]
        m = err_rx.match(errors[0]) if errors else None
        spec = dec["members"]
        if outcome == "refuse":
            f = spec.split(":", 1)[1] if spec.startswith("format:") else fmt
            want.append("content: %s" % f)
            got.append("content: %s" % fmt)
            want.append("stderr: tarflat: FILE: offset 0: <names %s, says how to decompress>" % f)
            if m and m.group(1) == "0" and re.search(REFUSE_NAME[f], m.group(2), re.I) \
                    and re.search(REFUSE_HOW, m.group(2)):
                got.append(want[-1])
            else:
                got.append("stderr: " + (" | ".join(err) or "(nothing)"))
        else:
            off = spec.split(":", 1)[1] if spec.startswith("offset:") else "N"
            want.append("stderr: tarflat: FILE: offset %s: <message>" % off)
            if m and (off == "N" or m.group(1) == off):
                got.append(want[-1])
            else:
                got.append("stderr: " + (" | ".join(err) or "(nothing)"))
        return want, got, None

    # accepted: build the expectation from the independent reader
    reader = dec["reader"]
    spec = dec["members"]
    names = None
    count = None
    if spec.startswith("names:"):
        names = parse_names(spec[len("names:"):])
    elif spec.startswith("count:"):
        count = int(spec[len("count:"):])
    elif spec != "-":
        raise SystemExit("%s: bad members column %r" % (row["path"], spec))
    if reader == "-":
        if names:
            raise SystemExit("%s: explicit names need a reader for types" % row["path"])
        expect, implicit = [], set()
    else:
        try:
            # READER:PATH lists another corpus file with the same members
            rname, _, other = reader.partition(":")
            rpath = os.path.join(corpus, other) if other else lpath
            raw = READERS[rname](rpath, detect(rpath))
        except Exception as ex:   # the reader's own failure is the test's
            want.append("the %s reader lists the file" % reader)
            got.append("the %s reader failed: %s" % (reader, ex))
            return want, got, None
        try:
            expect, implicit = model(raw)
        except Reject as ex:
            want.append("the model accepts the file")
            got.append("the model rejects it: %s" % ex)
            return want, got, None
    if dec.get("crosscheck"):
        # Python decides alone only where GNU tar lists the same members
        # (names, types, sizes, link targets); elsewhere a human decides
        try:
            other, _ = model(read_gnutar(lpath, fmt, hashes=False))
        except Exception as ex:
            other = "failed: %s" % ex
        a = fmt_members(expect, sums=False)
        b = fmt_members(other, sums=False) if isinstance(other, list) else [other]
        if a != b:
            want.append("python and GNU tar agree (else decide in t/corpus-expect.tsv)")
            got.append("they differ:")
            got += ["python: " + l for l in a] + ["gnutar: " + l for l in b]
            return want, got, None
    if names is not None:
        # the table lists the members, implicit parents aside
        have = sorted(m[1] for m in expect if m[1] not in implicit)
        if have != sorted(names):
            want.append("table names: " + " | ".join(show(n) for n in sorted(names)))
            got.append("%s reader + rules: " % reader + " | ".join(show(n) for n in have))
            return want, got, None
    if count is not None and len(expect) != count:
        want.append("members: %d" % count)
        got.append("%s reader + rules: %d members" % (reader, len(expect)))
        return want, got, None

    big = any(m[0] == "0" and (m[2] or 0) > BIG for m in expect)
    if big and os.environ.get("TARFLAT_SLOW"):
        # under valgrind, writing gigabytes of holes takes hours
        return ["-"], ["-"], "# SKIP over 1 GiB expanded, tarflat under valgrind"
    if big:
        # too large to expand here: accepted, and -v names what it writes
        rc, _, _, err, _ = run_tarflat(tarflat, path, work, verbose=True, devnull=True)
        want.append("exit 0")
        got.append("exit %s" % rc)
        written = [l for l in err if not l.startswith("tarflat: ")]
        bad = [l for l in err if l.startswith("tarflat: ") and not is_warning(l)]
        want.append("stderr: no errors")
        got.append("stderr: no errors" if not bad else "stderr: " + " | ".join(bad))
        if outcome == "ok-warn":
            want.append("stderr: a warning")
            got.append("stderr: a warning" if any(is_warning(l) for l in err)
                       else "stderr: no warning")
        want.append("written (-v, output not expanded):")
        got.append(want[-1])
        want += [show(m[1]).rstrip("/") for m in expect]
        got += [l.rstrip("/") for l in written]
        return want, got, "over 1 GiB expanded: names checked with -v, output to /dev/null"

    rc, members, end, err, nout = run_tarflat(tarflat, path, work)
    want.append("exit 0")
    got.append("exit %s" % rc)
    bad = [l for l in err if not is_warning(l)]
    want.append("stderr: no errors")
    got.append("stderr: no errors" if not bad else "stderr: " + " | ".join(bad))
    if outcome == "ok-warn":
        want.append("stderr: a warning")
        got.append("stderr: a warning" if any(is_warning(l) for l in err)
                   else "stderr: no warning")
    want.append("stdout: a tar ending with two zero blocks")
    got.append(end or "stdout: %s bytes" % nout)
    want.append("members:")
    got.append("members:")
    want += fmt_members(expect)
    got += fmt_members(align(expect, members or []))
    return want, got, None


def describe(row, dec, fmt, prog=None):
    edge = row["edge_case"].replace("[derived copy] ", "")
    edge = re.sub(r"\s+", " ", edge)
    if len(edge) > 70:
        edge = edge[:67].rstrip() + "..."
    o = dec["outcome"]
    if o == "refuse":
        what = "refused (%s)" % (dec["members"].split(":", 1)[1]
                                 if dec["members"].startswith("format:") else fmt)
    elif o == "reject":
        what = "rejected"
    else:
        what = "accepted" + (" with a warning" if o == "ok-warn" else "")
    if prog:
        what = "%s -dc, %s" % (prog, what)
    return "corpus %s: %s: %s" % (row["path"], edge, what)


def main():
    corpus, expect_path, tarflat, work = sys.argv[1:5]
    with open(os.path.join(corpus, "MANIFEST.tsv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    table = load_expect(expect_path)
    byp = {row["path"]: row for row in rows}
    seen = set(byp)
    only = os.environ.get("CORPUS_ONLY")   # a regex, for debugging
    todo = [(i, row) for i, row in enumerate(rows, 1)
            if not only or re.search(only, row["path"])]
    # tarflat and the readers are subprocesses: a few threads overlap them
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        for line in pool.map(lambda a: guarded(a[0], a[1], table, byp, corpus, tarflat,
                                               work), todo):
            print(line, flush=True)
    for p in sorted(set(table) - seen):
        print("# warning: t/corpus-expect.tsv names %s, which the MANIFEST does not list" % p,
              flush=True)


def guarded(i, row, table, byp, corpus, tarflat, work):
    """one(), with a crash of the checker reported as that file's failure."""
    try:
        return one(i, row, table, byp, corpus, tarflat, work)
    except Exception:
        import traceback
        with open(os.path.join(work, "%d.want" % i), "w") as f:
            f.write("the checker runs\n")
        with open(os.path.join(work, "%d.got" % i), "w") as f:
            f.write("the checker crashed:\n" + traceback.format_exc())
        return "%d\tcorpus %s: checker crashed" % (i, row["path"])


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def accepts(dec):
    return dec["outcome"] in ("ok", "ok-warn")


def one_filtered(i, row, fmt, table, byp, corpus, tarflat, work):
    """A zstd, xz or bzip2 file: tarflat decompresses it with `FMT -dc`.
    Returns (want, got, dec, note)."""
    p = row["path"]
    path = os.path.join(corpus, p)
    prog = fmt
    want, got = [], []

    # without the program on PATH: refused, saying what to install. Not
    # under valgrind: there posix_spawnp cannot report ENOENT (the child
    # exits 127), so tarflat says "zstd -dc failed (exit status 127)".
    if not os.environ.get("TARFLAT_SLOW"):
        env = dict(os.environ, PATH=path_without(prog, work))
        rc, _, _, err, nout = run_tarflat(tarflat, path, work, env=env)
        want += ["without %s on PATH:" % prog, "exit 1", "stdout: 0 bytes",
                 "stderr: tarflat: %s: offset 0: %s-compressed layer, and no %s on PATH: "
                 "install it (apt-get install %s)" % (path, prog, prog, FILTERS[prog])]
        got += [want[0], "exit %s" % rc, "stdout: %s bytes" % nout,
                "stderr: " + (" | ".join(err) or "(nothing)")]
    refused = {"outcome": "refuse", "reader": "-", "members": "format:" + fmt,
               "unchecked": True}
    if shutil.which(prog) is None:
        if not want:
            return ["-"], ["-"], refused, "# SKIP no %s on PATH, and under valgrind" % prog
        return want, got, refused, "no %s on PATH here: the content is not checked" % prog

    plain = os.path.join(work, "%d.plain" % i)
    try:
        decompress(path, fmt, plain)
    except RuntimeError as ex:
        return want, got, refused, "content not checked: %s" % ex
    dfmt = detect(plain)
    want.append("with %s on PATH, the decompressed content (%s):" % (prog, dfmt))
    got.append(want[-1])

    dec = table.get(p)
    sib = p + ".decompressed.tar"
    if sib in byp:
        # the corpus's own plain copy decides: same bytes, same decision
        spath = os.path.join(corpus, sib)
        want.append("decompressed: the bytes of %s" % sib)
        if not os.path.exists(spath):
            got.append("that file is missing")
            return want, got, dec or refused, None
        if sha256_file(spath) != sha256_file(plain):
            got.append("they differ")
            return want, got, dec or refused, None
        got.append(want[-1])
        sdec = table.get(sib) or default_decision(byp[sib], detect(spath))
        if sdec is None:
            want.append("a decision in t/corpus-expect.tsv for %s" % sib)
            got.append("none")
            return want, got, {"outcome": "?", "members": "-"}, None
        if dec is None and row["flag"] != "DISAGREE":
            dec = sdec
        if dec is not None:
            want.append("decision: that of the .decompressed.tar row: %s, reader %s, "
                        "members %s" % ("accept" if accepts(sdec) else sdec["outcome"],
                                        sdec["reader"], sdec["members"]))
            got.append("decision: %s, reader %s, members %s"
                       % ("accept" if accepts(dec) else dec["outcome"],
                          dec["reader"], dec["members"]))
            if got[-1] != want[-1].replace(" that of the .decompressed.tar row:", ""):
                return want, got, dec, None
            got[-1] = want[-1]
    if dec is None and row["flag"] == "DISAGREE":
        want.append("a decision in t/corpus-expect.tsv (DISAGREE row)")
        got.append("none")
        return want, got, {"outcome": "?", "members": "-"}, None
    dec = dec or default_decision(row, dfmt)
    if dec is None:
        want.append("a decision in t/corpus-expect.tsv (expected_outcome %r)"
                    % row["expected_outcome"][:40])
        got.append("none")
        return want, got, {"outcome": "?", "members": "-"}, None
    w, g, note = check_file(i, row, dec, dfmt, corpus, tarflat, work, plain=plain, prog=prog)
    return want + w, got + g, dec, note


def one(i, row, table, byp, corpus, tarflat, work):
    """Checks MANIFEST row I; returns the result line."""
    p = row["path"]
    path = os.path.join(corpus, p)
    wf = os.path.join(work, "%d.want" % i)
    gf = os.path.join(work, "%d.got" % i)
    if not os.path.exists(path):
        return "%d\tcorpus %s\tSKIP file missing from the corpus" % (i, p)
    fmt = detect(path)
    dec = table.get(p)
    note = None
    prog = fmt if fmt in FILTERS else None
    if prog:
        want, got, dec, note = one_filtered(i, row, fmt, table, byp, corpus, tarflat, work)
        if dec.get("unchecked"):
            prog = None      # only the refusal was checked: say refused
    elif dec is None and row["flag"] == "DISAGREE":
        want = ["a decision in t/corpus-expect.tsv (DISAGREE row)"]
        got = ["none"]
        dec = {"outcome": "?", "members": "-"}
    elif dec is None and default_decision(row, fmt) is None:
        want = ["a decision in t/corpus-expect.tsv (expected_outcome %r)"
                % row["expected_outcome"][:40]]
        got = ["none"]
        dec = {"outcome": "?", "members": "-"}
    else:
        dec = dec or default_decision(row, fmt)
        want, got, note = check_file(i, row, dec, fmt, corpus, tarflat, work)
    with open(wf, "w", encoding="utf-8") as f:
        f.write("\n".join(want) + "\n")
    with open(gf, "w", encoding="utf-8") as f:
        f.write("\n".join(got) + "\n")
    if dec["outcome"] == "?":
        desc = "corpus %s: no decision" % p
    else:
        desc = describe(row, dec, fmt, prog)
    if note and note.startswith("# SKIP"):
        desc += " " + note
    elif note:
        desc += " (%s)" % note
    return "%d\t%s" % (i, desc)


if __name__ == "__main__":
    main()
