#!/usr/bin/env python3
"""Write one benchmark stack of container image layers, deterministically.

usage: mkstack.py [--scale S] [--keep-tar] [--seed N] OUTDIR NAME
       mkstack.py --plain-from STACK3DIR OUTDIR plain

NAME is one of
  stack3       3 layers, ~300 MB of tar, ~60k entries, ~177 MB gzip; the
               first layer ~70% of the bytes, then ~20% and ~10%
  one          1 layer, ~200 MB of tar, ~40k entries
  many         20 layers, ~300 MB of tar, ~60k entries (a base of ~40%,
               then 19 layers of declining size)
  small        1 layer of 340k small entries (sizes from bytes to a few
               KiB), for memory per entry
  small-10k, small-100k, small-1m
               the same with 10k, 100k and 1M entries
  plain        the layers of stack3, uncompressed: with --plain-from
               DIR (a complete stack3), gzip -dc of DIR's layers, each
               checked against the tar sha256 in DIR/manifest.json
Sizes and entry counts are multiplied by S (default 1; 0.1 for a quick
run). --seed N makes another stack of the same shape (for tests; it is
built every time, never taken as cached).

Writes OUTDIR/lNN.tar.gz (gzip -n -6; with --keep-tar also OUTDIR/lNN.tar)
and, last, OUTDIR/manifest.json: per layer its file, entries (tar
members, pax extension headers not counted), tar bytes, gzip bytes and the
sha256 of both; the totals; the generator version and scale.  A present
manifest.json with the same version and scale means the stack is complete,
and mkstack.py then does nothing (so reruns skip generation).

Deterministic: the same NAME and S give the same tar bytes on every machine
and every Python >= 3.9 (a seeded random.Random driven through integer
draws only -- getrandbits, randrange, choices -- no hash-ordered sets, no
libm; binary content from SHAKE-128).  The gzip bytes are those of GNU gzip
-n -6, whose deflate has not changed in decades; both sha256 sums are in
the manifest to check.

Content, built to look like a distribution image:
  - a directory skeleton (usr/bin, usr/lib/x86_64-linux-gnu, usr/share/doc,
    etc, var/lib, ...), usrmerge symlinks bin -> usr/bin and friends, and a
    random tree of directories below it (a random recursive tree, so depth
    grows like log n; names up to 255 bytes fit ustar, a few longer ones
    and a few UTF-8 names too, so a few pax headers);
  - regular files of two kinds: text-like (slices of a seeded pseudo-text
    corpus, about 3x under gzip -6) and incompressible binaries (SHAKE-128
    output); sizes log-distributed (a weighted octave, then uniform inside
    it), binaries larger; the two kinds scaled to hit the layer's byte
    budget, which is what fixes the compressed size;
  - symlinks (relative, to siblings and up the tree, and absolute),
    hardlink groups of 2-4 names (the first name in layer order carries
    the content, as tar -c writes it);
  - later layers: parent directory entries for everything they touch (as
    docker writes them), files that overwrite earlier files, hardlinks to
    earlier files, whiteouts (.wh.NAME) of earlier files, symlinks and
    whole directories, sometimes an opaque marker (.wh..wh..opq) followed
    by new content, and whiteouts of hardlink carriers whose other names
    survive (the git case in t/demo.sh).
The generator keeps a model of the tree only to stay valid for tarflat and
umoci 0.4.7 alike: every hardlink target exists when the link is read, no
entry is written below a whiteout of the same layer, no two whiteouts of a
layer nest, nothing goes through a symlink.  Entries of a layer are in
depth-first path order, parents first, as tar -c writes a tree.
"""
import argparse, hashlib, itertools, json, os, subprocess, sys
from bisect import bisect_right
import random

VERSION = 1
BASE_MTIME = 1700000000          # 2023-11-14; layer k adds k days
MAX_FILE = 48 << 20              # largest file (also the binary pool size)

# Size distributions: weight of each octave k (sizes 2^k .. 2^(k+1)-1).
# Integer weights, so that draws are exact on every machine.
TEXT_OCT = [2, 3, 5, 8, 12, 20, 30, 45, 60, 70, 72, 65, 52, 38, 25, 15, 8,
            4, 2, 1, 1]                            # peak ~512 B-2 KiB
BIN_OCT = [0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 14, 22, 30, 36, 38, 35, 28, 20,
           13, 8, 5, 3, 2, 1, 1]                  # peak ~8-32 KiB, to 32 MiB
SMALL_TEXT_OCT = [4, 7, 11, 17, 25, 34, 40, 40, 34, 24, 14, 7, 3, 1]
SMALL_BIN_OCT = [0, 0, 0, 1, 2, 4, 8, 12, 14, 12, 8, 4, 2, 1]

TEXT_EXT = ["", ".txt", ".py", ".h", ".c", ".conf", ".json", ".js", ".md",
            ".html", ".xml", ".sh", ".pl", ".rb", ".go", ".1", ".css"]
BIN_EXT = ["", ".so", ".so.1", ".so.6", ".a", ".bin", ".gz", ".png",
           ".jar", ".mo", ".pyc", ".o", ".zip", ".ttf"]
SKELETON = ["etc", "etc/default", "etc/ssl", "home", "opt", "root", "srv",
            "tmp", "usr", "usr/bin", "usr/include", "usr/lib",
            "usr/lib/x86_64-linux-gnu", "usr/libexec", "usr/local",
            "usr/local/bin", "usr/sbin", "usr/share", "usr/share/doc",
            "usr/share/locale", "usr/share/man", "usr/share/man/man1",
            "usr/share/zoneinfo", "var", "var/cache", "var/lib", "var/log"]
TOPLINKS = [("bin", "usr/bin"), ("lib", "usr/lib"), ("sbin", "usr/sbin"),
            ("lib64", "usr/lib64")]
UTF8_WORDS = ["café", "naïve", "日本語", "Ærø", "Straße", "данные", "π"]


def octave_size(rng, cum, total):
    k = bisect_right(cum, rng.randrange(total))
    return (1 << k) + rng.getrandbits(k) if k else rng.randrange(2)


class Dist:
    def __init__(self, weights):
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def draw(self, rng):
        return octave_size(rng, self.cum, self.total)


def key(path):
    return path.split("/")


def parent(path):
    i = path.rfind("/")
    return path[:i] if i >= 0 else ""


def ancestors(path):
    """Proper ancestors of path, nearest first ('' excluded)."""
    out = []
    p = parent(path)
    while p:
        out.append(p)
        p = parent(p)
    return out


# ---------------------------------------------------------------- content

class Pools:
    """Seeded content: a pseudo-text corpus and a block of random bytes."""

    def __init__(self, seed, text_size=8 << 20, bin_size=MAX_FILE):
        rng = random.Random(seed * 7919 + 1)
        syll = ["ka", "to", "re", "mi", "su", "lo", "an", "er", "in", "on",
                "st", "ch", "th", "qu", "el", "ar", "ix", "um", "ed", "ing",
                "pro", "con", "de", "al", "or", "ex", "im", "ul", "ap", "et"]
        words = []
        seen = {}
        while len(words) < 6000:
            w = "".join(rng.choice(syll) for _ in range(1 + rng.randrange(4)))
            if w not in seen:
                seen[w] = 1
                words.append(w)
        self.words = words
        # Zipf weights as integers: exact cumulative sums.
        cum = list(itertools.accumulate(6000000 // (r + 1)
                                        for r in range(len(words))))
        punct = [" ", " ", " ", " ", " ", " ", ", ", ". ", "(", ") ", " = ",
                 "_", "::", "; ", "->", " {", "} ", " # "]
        pcum = list(itertools.accumulate([8, 8, 8, 8, 8, 8, 3, 3, 1, 1, 1,
                                          1, 1, 1, 1, 1, 1, 1]))
        parts = []
        size = 0
        while size < text_size:
            line = []
            ind = rng.randrange(5)
            line.append("    " * ind)
            for _ in range(2 + rng.randrange(11)):
                line.append(words[bisect_right(cum, rng.randrange(cum[-1]))])
                line.append(punct[bisect_right(pcum, rng.randrange(pcum[-1]))])
            if rng.randrange(9) == 0:
                line.append(str(rng.getrandbits(20)))
            s = "".join(line).rstrip() + "\n"
            parts.append(s)
            size += len(s)
        self.text = memoryview("".join(parts).encode()[:text_size])
        self.bin = memoryview(hashlib.shake_128(
            b"tarflat-bench-%d" % seed).digest(bin_size))

    def content(self, rng, kind, size):
        pool = self.text if kind == "t" else self.bin
        if size == 0:
            return b""
        off = rng.randrange(len(pool) - size + 1)
        return pool[off:off + size]


# ---------------------------------------------------------------- tar writer

def octal(n, width):
    s = b"%o" % n
    if len(s) > width - 1:
        raise ValueError("field overflow")
    return s.rjust(width - 1, b"0") + b"\0"


def split_name(b):
    """ustar (prefix, name) for path bytes b, or None."""
    if len(b) <= 100:
        return b"", b
    if len(b) > 256:
        return None
    i = b.find(b"/", len(b) - 101)
    while i >= 0 and i <= 155:
        if 0 < len(b) - i - 1 <= 100:
            return b[:i], b[i + 1:]
        i = b.find(b"/", i + 1)
    return None


def pax_record(k, v):
    body = b" %s=%s\n" % (k, v)
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return str(n).encode() + body


def raw_header(name, mode, uid, gid, size, mtime, typ, link=b"",
               uname=b"", gname=b"", prefix=b""):
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(uid, 8)
    h[116:124] = octal(gid, 8)
    h[124:136] = octal(size, 12)
    h[136:148] = octal(mtime, 12)
    h[148:156] = b"        "
    h[156:157] = typ
    h[157:157 + len(link)] = link
    h[257:265] = b"ustar\x0000"
    h[265:265 + len(uname)] = uname
    h[297:297 + len(gname)] = gname
    h[345:345 + len(prefix)] = prefix
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


class TarWriter:
    """Writes members to a file, hashing the bytes on the way."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.sha = hashlib.sha256()
        self.buf = []
        self.buflen = 0
        self.size = 0
        self.members = 0

    def _put(self, b):
        self.buf.append(b)
        self.buflen += len(b)
        if self.buflen >= 1 << 20:
            self.flush()

    def flush(self):
        data = b"".join(self.buf)
        self.f.write(data)
        self.sha.update(data)
        self.size += len(data)
        self.buf = []
        self.buflen = 0

    def add(self, path, typ, mode, mtime, uid=0, gid=0, data=b"", link=""):
        name = path.encode() + (b"/" if typ == b"5" else b"")
        lb = link.encode()
        pax = []
        sp = split_name(name)
        if sp is None:
            pax.append(pax_record(b"path", name))
            sp = (b"", name[-100:].lstrip(b"/") or b"x")
        if len(lb) > 100:
            pax.append(pax_record(b"linkpath", lb))
            lb = lb[:100]
        ug = (b"root", b"root") if uid == 0 else (b"", b"")
        if pax:
            body = b"".join(pax)
            base = name.rstrip(b"/").rsplit(b"/", 1)[-1][:80]
            d = parent(path).encode()
            pname = (d + b"/PaxHeaders/" if d else b"PaxHeaders/") + base
            psp = split_name(pname) or (b"", b"PaxHeaders/" + base)
            self._put(raw_header(psp[1], 0o644, 0, 0, len(body), mtime, b"x",
                                 prefix=psp[0]))
            self._put(body + b"\0" * (-len(body) % 512))
        self._put(raw_header(sp[1], mode, uid, gid, len(data), mtime, typ,
                             lb, ug[0], ug[1], sp[0]))
        if data:
            self._put(data)
            if len(data) % 512:
                self._put(b"\0" * (-len(data) % 512))
        self.members += 1

    def close(self):
        self._put(b"\0" * 1024)
        self.flush()
        self.f.close()


# ---------------------------------------------------------------- model

class Model:
    """The tree after the layers so far: ordered dicts, never sets (their
    order would follow PYTHONHASHSEED)."""

    def __init__(self):
        self.dirs = {}          # path -> placement weight
        self.files = {}         # path -> kind ('t' text, 'b' binary)
        self.links = {}         # symlink path -> 1
        self.groups = []        # hardlink groups written (lists of names)

    def exists(self, p):
        return p in self.dirs or p in self.files or p in self.links

    def remove_tree(self, p, keep_self=False):
        if p not in self.dirs:
            self.files.pop(p, None)
            self.links.pop(p, None)
            return
        pre = p + "/"
        for d in (self.dirs, self.files, self.links):
            for q in [q for q in d if q.startswith(pre)]:
                del d[q]
        if not keep_self:
            for d in (self.dirs, self.files, self.links):
                d.pop(p, None)


class Gen:
    def __init__(self, rng, pools, model):
        self.rng = rng
        self.pools = pools
        self.m = model
        self.serial = 0

    def word(self):
        return self.pools.words[self.rng.randrange(len(self.pools.words))]

    def fresh(self, d, kind, taken):
        """A new name in directory d."""
        rng = self.rng
        while True:
            r = rng.randrange(1000)
            if r < 3:
                w = UTF8_WORDS[rng.randrange(len(UTF8_WORDS))] + "-" + self.word()
            elif r < 5:     # a long component: a pax path header
                w = "-".join(self.word() for _ in range(40))[:150]
            else:
                w = self.word()
                if rng.randrange(3) == 0:
                    w += ("-" if rng.randrange(2) else "_") + self.word()
                if rng.randrange(4) == 0:
                    w += str(rng.randrange(100))
            if kind == "t":
                w += TEXT_EXT[rng.randrange(len(TEXT_EXT))]
            elif kind == "b":
                w += BIN_EXT[rng.randrange(len(BIN_EXT))]
            p = d + "/" + w if d else w
            if len(p.encode()) > 1000:
                continue
            if p not in taken and not self.m.exists(p):
                taken[p] = 1
                return p

    def pick_dir(self, dirs, cum):
        return dirs[bisect_right(cum, self.rng.randrange(cum[-1]))]


def scale_sizes(sizes, budget, cap):
    """Scale a list of sizes to sum to about budget (integer arithmetic)."""
    tot = sum(sizes)
    if tot == 0 or budget <= 0:
        return [0] * len(sizes)
    return [min(s * budget // tot, cap) for s in sizes]


def build_layer(g, idx, n_entries, tar_bytes, opt):
    """Return the entries of layer idx (1 = base) as a sorted list of
    (path, typ, mode, mtime, uid, gid, kind, size, link) and update the
    model.  tar_bytes None: sizes as drawn (the small stacks)."""
    rng, m = g.rng, g.m
    mt0 = BASE_MTIME + (idx - 1) * 86400
    entries = {}            # path -> entry tuple (ordered)
    taken = {}
    small = tar_bytes is None
    tdist = Dist(SMALL_TEXT_OCT if small else TEXT_OCT)
    bdist = Dist(SMALL_BIN_OCT if small else BIN_OCT)
    bin_frac = opt["bin_frac"]              # per mille of files

    def mtime():
        return mt0 + rng.randrange(86400)

    def owner(p):
        return (1000, 1000) if p.startswith("home/") else (0, 0)

    files = []              # (path, kind, hardlink extra names)
    link_entries = []       # (path, target) type 1
    sym_entries = []        # (path, target)
    wh_entries = []         # whiteout entry paths
    new_dirs = []

    # -- removals (later layers only)
    gone = {}               # paths removed by this layer's whiteouts
    opaque = []
    if idx > 1:
        lower_files = list(m.files) + list(m.links)
        lower_dirs = [d for d in m.dirs if d not in SKELETON_SET]

        def free(p):
            if p in gone or any(a in gone for a in ancestors(p)):
                return False
            pre = p + "/"
            return not any(q.startswith(pre) for q in gone)

        n_wh = max(1, n_entries * 15 // 1000)
        n_whd = max(1, n_entries // 2000)
        # the git case: white out a hardlink carrier, its links survive
        grp = [gr for gr in m.groups if gr[0] in m.files]
        for _ in range(min(len(grp), max(1, n_wh // 10))):
            t = grp[rng.randrange(len(grp))][0]
            if free(t):
                gone[t] = 1
        for _ in range(n_wh):
            if not lower_files:
                break
            t = lower_files[rng.randrange(len(lower_files))]
            if free(t):
                gone[t] = 1
        for _ in range(n_whd):
            if not lower_dirs:
                break
            t = lower_dirs[rng.randrange(len(lower_dirs))]
            if free(t):
                gone[t] = 1
        if lower_dirs and rng.randrange(1000) < opt["opaque_pm"]:
            t = lower_dirs[rng.randrange(len(lower_dirs))]
            if free(t):
                opaque.append(t)
        for t in gone:
            taken[t] = 1
            wh_entries.append(parent(t) + "/.wh." + t.rsplit("/", 1)[-1]
                              if "/" in t else ".wh." + t)
            m.remove_tree(t)
        for t in opaque:
            wh_entries.append(t + "/.wh..wh..opq")
            m.remove_tree(t, keep_self=True)
            gone[t + "/"] = 1   # its lower children are no link targets

    # -- placement directories
    if idx == 1:
        for d in SKELETON:
            m.dirs[d] = 1 << rng.randrange(4, 9)
            new_dirs.append(d)
        for name, target in TOPLINKS:
            sym_entries.append((name, target))
            taken[name] = 1
        n_dirs = max(1, n_entries * opt["dir_pm"] // 1000) - len(SKELETON)
        have = list(SKELETON)
        for _ in range(max(0, n_dirs)):
            par = have[rng.randrange(len(have))]
            d = g.fresh(par, "d", taken)
            m.dirs[d] = 1 << rng.randrange(0, 8)
            have.append(d)
            new_dirs.append(d)
        place = have
    else:
        exist = list(m.dirs)
        if not exist:
            m.dirs["usr"] = 64
            exist = ["usr"]
        ecum = list(itertools.accumulate(m.dirs[d] for d in exist))
        place = []
        pk = {}
        for _ in range(max(2, n_entries * 4 // 100)):
            d = g.pick_dir(exist, ecum)
            if d not in pk:
                pk[d] = 1
                place.append(d)
        for t in opaque:
            if t not in pk:
                pk[t] = 1
                place.append(t)
        for _ in range(max(1, n_entries * opt["newdir_pm"] // 1000)):
            par = place[rng.randrange(len(place))]
            d = g.fresh(par, "d", taken)
            m.dirs[d] = 1 << rng.randrange(0, 8)
            place.append(d)
            new_dirs.append(d)
    pw = [m.dirs.get(d, 1) for d in place]
    pcum = list(itertools.accumulate(pw))

    # -- overwrites and hardlinks to lower files
    if idx > 1:
        lower = [f for f in m.files]        # after removals
        for _ in range(n_entries * opt["overwrite_pm"] // 1000):
            if not lower:
                break
            t = lower[rng.randrange(len(lower))]
            if t not in taken:
                taken[t] = 1
                files.append((t, m.files[t], []))
        for _ in range(n_entries * 2 // 100):
            if not lower:
                break
            t = lower[rng.randrange(len(lower))]
            if t in taken:
                continue        # not one this layer overwrites: keep it simple
            p = g.fresh(g.pick_dir(place, pcum), "b", taken)
            link_entries.append((p, t))

    # -- symlinks
    n_sym = n_entries * opt["sym_pm"] // 1000
    for _ in range(n_sym):
        d = g.pick_dir(place, pcum)
        p = g.fresh(d, "l", taken)
        r = rng.randrange(10)
        if r < 5:
            tgt = g.word() + BIN_EXT[1 + rng.randrange(3)]
        elif r < 8:
            tgt = "../" * (1 + rng.randrange(3)) + g.word() + "/" + g.word()
        else:
            tgt = "/usr/lib/" + g.word() + ".so." + str(rng.randrange(9))
        sym_entries.append((p, tgt))

    # -- count: dir entries are the closure of what the layer touches
    def closure():
        c = {}
        for p in itertools.chain(new_dirs, place, (f[0] for f in files),
                                 (l[0] for l in link_entries),
                                 (s[0] for s in sym_entries), wh_entries):
            for a in ancestors(p):
                if a in c:
                    break
                c[a] = 1
        for d in itertools.chain(new_dirs, place):
            c[d] = 1
        return c

    n_hl_extra = n_entries * opt["hl_pm"] // 1000
    fixed = (len(closure()) + len(files) + len(link_entries)
             + len(sym_entries) + len(wh_entries) + n_hl_extra)
    n_new = max(1, n_entries - fixed)
    groups = []
    for i in range(n_new):
        kind = "b" if rng.randrange(1000) < bin_frac else "t"
        d = g.pick_dir(place, pcum)
        files.append((g.fresh(d, kind, taken), kind, []))
    # hardlink groups of 2-4 names among the new files
    newstart = len(files) - n_new
    left = n_hl_extra
    while left > 0 and n_new > 0:
        i = newstart + rng.randrange(n_new)
        if files[i][2]:
            continue
        k = min(left, 1 + rng.randrange(3))
        for _ in range(k):
            files[i][2].append(g.fresh(g.pick_dir(place, pcum), files[i][1],
                                       taken))
        left -= k

    # -- sizes
    sizes = [(bdist if f[1] == "b" else tdist).draw(rng) for f in files]
    for i in range(len(files)):
        if files[i][1] == "t" and rng.randrange(100) < 3:
            sizes[i] = 0
    if not small:
        n_members = len(closure()) + len(files) + len(link_entries) + \
            len(sym_entries) + len(wh_entries) + n_hl_extra
        budget = tar_bytes - 512 * n_members - 1024
        for _ in range(2):
            tb = budget * bin_frac_bytes(opt) // 1000
            ti = [i for i in range(len(files)) if files[i][1] == "t"]
            bi = [i for i in range(len(files)) if files[i][1] == "b"]
            st = scale_sizes([sizes[i] for i in ti], budget - tb,
                             len(g.pools.text))
            sb = scale_sizes([sizes[i] for i in bi], tb, len(g.pools.bin))
            new = list(sizes)
            for i, s in zip(ti, st):
                new[i] = s
            for i, s in zip(bi, sb):
                new[i] = s
            pad = sum(-s % 512 for s in new)
            budget2 = tar_bytes - 512 * n_members - 1024 - pad
            if abs(budget2 - budget) * 100 < budget:
                break
            budget = budget2
        sizes = new

    # -- entries
    for d in closure():
        entries[d] = (d, b"5", 0o755, mtime()) + owner(d) + ("", 0, "")
    for (p, tgt) in sym_entries:
        entries[p] = (p, b"2", 0o777, mtime()) + owner(p) + ("", 0, tgt)
    for p in wh_entries:
        entries[p] = (p, b"0", 0o644, mt0) + owner(p) + ("", 0, "")
    for (p, tgt) in link_entries:
        entries[p] = (p, b"1", 0o755, mtime()) + owner(p) + ("", 0, tgt)
    for (p, kind, extra), size in zip(files, sizes):
        if kind == "b":
            mode = 0o644 if rng.randrange(3) == 0 else 0o755
        else:
            mode = 0o600 if rng.randrange(50) == 0 else 0o644
        mt = mtime()
        names = sorted([p] + extra, key=key)
        entries[names[0]] = (names[0], b"0", mode, mt) + owner(names[0]) + \
            (kind, size, "")
        for q in names[1:]:
            entries[q] = (q, b"1", mode, mt) + owner(q) + ("", 0, names[0])
        if extra:
            m.groups.append(names)
    # -- model update
    for (p, kind, extra) in files:
        m.files[p] = kind
        for q in extra:
            m.files[q] = kind
    for (p, tgt) in link_entries:
        m.files[p] = m.files.get(tgt, "b")
    for (p, tgt) in sym_entries:
        m.links[p] = 1
    for d in closure():
        m.dirs.setdefault(d, 1)
    return sorted(entries.values(), key=lambda e: key(e[0]))


def bin_frac_bytes(opt):
    return opt["bin_bytes_pm"]


SKELETON_SET = dict.fromkeys(SKELETON)

BIG = dict(dir_pm=100, sym_pm=50, hl_pm=25, newdir_pm=40, overwrite_pm=80,
           bin_frac=300, bin_bytes_pm=485, opaque_pm=500)
SMALLOPT = dict(dir_pm=120, sym_pm=40, hl_pm=20, newdir_pm=40,
                overwrite_pm=80, bin_frac=100, bin_bytes_pm=0, opaque_pm=0)

MB = 1000 * 1000


def plan(name):
    """[(entries, tar bytes or None)] per layer, at scale 1, and options."""
    if name == "stack3":
        return [(42000, 210 * MB), (12000, 60 * MB), (6000, 30 * MB)], BIG
    if name == "one":
        return [(40000, 200 * MB)], BIG
    if name == "many":
        rest = [20 - i for i in range(1, 20)]   # 19 .. 1
        tot = sum(rest)
        return [(24000, 120 * MB)] + [(36000 * w // tot, 180 * MB * w // tot)
                                      for w in rest], BIG
    small = {"small-10k": 10000, "small-100k": 100000, "small": 340000,
             "small-1m": 1000000}
    if name in small:
        return [(small[name], None)], SMALLOPT
    raise SystemExit("mkstack.py: unknown stack " + name)


def cached(outdir, scale):
    try:
        with open(os.path.join(outdir, "manifest.json")) as f:
            man = json.load(f)
    except (OSError, ValueError):
        return False
    return man.get("version") == VERSION and man.get("scale") == scale


def plain_from(src, outdir):
    with open(os.path.join(src, "manifest.json")) as f:
        man = json.load(f)
    os.makedirs(outdir, exist_ok=True)
    for L in man["layers"]:
        gzpath = os.path.join(src, L["file"])
        name = L["file"][:-3]
        tmp = os.path.join(outdir, name + ".tmp")
        with open(tmp, "wb") as f:
            subprocess.run(["gzip", "-dc", gzpath], stdout=f, check=True)
        h = hashlib.sha256()
        with open(tmp, "rb") as f:
            for b in iter(lambda: f.read(1 << 20), b""):
                h.update(b)
        if h.hexdigest() != L["tar_sha256"]:
            raise SystemExit("mkstack.py: %s: not the tar that was written"
                             % gzpath)
        os.rename(tmp, os.path.join(outdir, name))
        L["file"] = name
        del L["gz_bytes"], L["gz_sha256"]
    man["name"] = "plain"
    del man["gz_bytes"]
    with open(os.path.join(outdir, "manifest.json.tmp"), "w") as f:
        json.dump(man, f, indent=1)
        f.write("\n")
    os.rename(os.path.join(outdir, "manifest.json.tmp"),
              os.path.join(outdir, "manifest.json"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="1")
    ap.add_argument("--keep-tar", action="store_true")
    ap.add_argument("--plain-from", metavar="DIR")
    ap.add_argument("--seed", type=int, help="another stack of the same shape "
                    "(t0429; the benchmark leaves it out)")
    ap.add_argument("outdir")
    ap.add_argument("name")
    a = ap.parse_args()
    if a.plain_from:
        with open(os.path.join(a.plain_from, "manifest.json")) as f:
            a.scale = json.load(f)["scale"]
    if a.seed is None and cached(a.outdir, a.scale):
        return
    if a.plain_from:
        print("mkstack: plain: gzip -dc of %s" % a.plain_from, file=sys.stderr)
        return plain_from(a.plain_from, a.outdir)
    # the scale as an exact fraction of 1000 (no float in the sizes)
    scale_pm = round(float(a.scale) * 1000)
    if scale_pm <= 0:
        raise SystemExit("mkstack.py: bad scale " + a.scale)
    layers, opt = plan(a.name)
    os.makedirs(a.outdir, exist_ok=True)
    key = a.name if a.seed is None else "%s/%d" % (a.name, a.seed)
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    pools = Pools(seed % 1000003)
    g = Gen(rng, pools, Model())
    out = []
    gz = []
    ncpu = os.cpu_count() or 1
    for i, (n, tb) in enumerate(layers, 1):
        n = max(20, n * scale_pm // 1000)
        tb = None if tb is None else max(64 << 10, tb * scale_pm // 1000)
        ents = build_layer(g, i, n, tb, opt)
        base = os.path.join(a.outdir, "l%02d" % i)
        w = TarWriter(base + ".tar")
        for (p, typ, mode, mt, uid, gid, kind, size, link) in ents:
            data = pools.content(rng, kind, size) if size else b""
            w.add(p, typ, mode, mt, uid, gid, data, link)
        w.close()
        out.append(dict(file="l%02d.tar.gz" % i, entries=w.members,
                        tar_bytes=w.size, tar_sha256=w.sha.hexdigest()))
        # compress in the background while the next layer is built
        while len([p for p in gz if p[0].poll() is None]) >= ncpu:
            gz[0][0].wait()
            gz.sort(key=lambda p: p[0].poll() is None)
        with open(base + ".tar.gz.tmp", "wb") as f:
            gz.append((subprocess.Popen(["gzip", "-n", "-6", "-c",
                                         base + ".tar"], stdout=f), base))
        print("mkstack: %s layer %d: %d entries, %.1f MB of tar"
              % (a.name, i, w.members, w.size / MB), file=sys.stderr)
    for p, base in gz:
        if p.wait() != 0:
            raise SystemExit("mkstack.py: gzip failed")
        os.rename(base + ".tar.gz.tmp", base + ".tar.gz")
        if not a.keep_tar:
            os.unlink(base + ".tar")
    for L in out:
        path = os.path.join(a.outdir, L["file"])
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for b in iter(lambda: f.read(1 << 20), b""):
                h.update(b)
        L["gz_bytes"] = os.path.getsize(path)
        L["gz_sha256"] = h.hexdigest()
    man = dict(version=VERSION, name=a.name, scale=a.scale, layers=out,
               entries=sum(L["entries"] for L in out),
               tar_bytes=sum(L["tar_bytes"] for L in out),
               gz_bytes=sum(L["gz_bytes"] for L in out))
    with open(os.path.join(a.outdir, "manifest.json.tmp"), "w") as f:
        json.dump(man, f, indent=1)
        f.write("\n")
    os.rename(os.path.join(a.outdir, "manifest.json.tmp"),
              os.path.join(a.outdir, "manifest.json"))
    print("mkstack: %s: %d layers, %d entries, %.1f MB tar, %.1f MB gzip"
          % (a.name, len(out), man["entries"], man["tar_bytes"] / MB,
             man["gz_bytes"] / MB), file=sys.stderr)


if __name__ == "__main__":
    main()
