#!/usr/bin/env python3
"""Write a seeded random layer stack meant to break a layer flattener.

usage: wildstack.py --seed N OUTDIR
       wildstack.py --replay STACK.json OUTDIR
       wildstack.py --late-link STACK.json NAME
       wildstack.py --blame OUTDIR UMOCI_ERR TARFLAT_ERR

Writes 2-6 layers OUTDIR/lN.tar or OUTDIR/lN.tar.gz (plain or gzip, some
gzip ones in two members), each in a Python tarfile format (pax, gnu or
ustar) and about one in eight then rewritten member for member by bsdtar
(--format pax or gnutar; by Python alone when bsdtar is missing), a
readable OUTDIR/stack.txt of every member, OUTDIR/stack.json (the same, for
--replay: cut a stack down by editing it, then write it again), and prints
the layer paths, oldest first, one a line.  The same seed always gives the
same bytes.  --late-link exits 0 if the hardlink NAME (on which umoci
failed) has its target written later in the same layer: the case umoci
0.4.7 refuses and tarflat binds (tarflat.1 rule 4 and "Where tarflat
departs from umoci").  --blame, for a stack both refused, exits 1 if
tarflat refused an entry that umoci went past (umoci failed on a later
one): a refusal in common can hide a divergence.

This generator was written apart from tarflat's resolver and from
t/genstack.py, on purpose: it keeps no model of the tree and does not stay
where things are easy.  A stack is made of scenarios chosen at random, a
few members each, mixed with ordinary files, directories, symlinks,
hardlinks, fifos and devices:

  setgid    a setgid (or sticky) directory, written here or below, with
            children under chains of 1-3 missing directories (implicit
            parents), sometimes reached through a symlink, with an explicit
            directory written into the chain before or after, after the
            directory was rewritten without the bit or with another gid;
  gone      a whiteout or opaque marker that removes a lower symlink,
            directory or file, FOLLOWED in the same layer by entries below or
            through the removed path (a new directory, implicit parents, a
            new symlink, a hardlink), sometimes reached through a symlink;
  late      entries below a lower path first, its whiteout or an opaque
            marker after them in the same layer;
  ghost     whiteouts of nothing, under a file, under a dangling symlink,
            twice, around a rewrite; two opaque markers in one directory;
  retype    one path written as several types in turn (file, directory with
            a child, symlink, hardlink, fifo), in one layer or across layers;
  chain     symlinks to symlinks (1-12 hops, absolute and relative, to a
            directory, to nothing, rarely to a file), then entries,
            whiteouts and hardlinks through the first; rarely 30-39 in a row;
  climb     symlink targets with '..' above the root, '/', '.', '..',
            'missing/..', 'file/..', trailing slashes, used as parents;
  hard      hardlinks to files, symlinks and fifos of earlier layers or
            earlier in the layer, through symlinked parents, links to links,
            targets overwritten later in the layer, deleted or retyped in
            the next;
  hardgone  a hardlink, then its target's directory removed or replaced;
  swap      (rare stacks) a hardlink that replaces a path on the way to its
            own target, or itself;
  merge     a directory written again with other mode, owner and mtime;
  root      a './' entry (the root's mode, setgid too), an opaque marker at
            the root.

Every name is written as x, ./x, /x or now and then a messier spelling (x//y,
x/./y, x/zz/../y, ../x, x/., x/zz/..) of the same path; a few names only look special
('...', '.wh', 'x.wh.y', '..a', non-ASCII).  Modes include setuid, setgid
and sticky bits; owners include large ids (not in ustar); pax layers get
fractional mtimes and user xattrs now and then.  All mtimes are below 1.6e9,
far from the current time, so that an applier's current-time stamps stand
out.

What it avoids, because umoci 0.4.7 (the reference) refuses or differs on it
by design (tarflat.1, "Where tarflat departs from umoci"): a hardlink whose
target is written later in its layer (unless the name was also written
before the link, here or below), symlink chains near 40 hops, bare '.wh.'
and '.wh..', '.wh.' in a directory component or a symlink target, AUFS
'.wh..wh.*' names, pax global headers, '7'/'V'/'S' members.  Everything else
may come, also what both should refuse (a parent that is a file, a dangling
hardlink, a symlink loop; about one stack in ten takes such chances on
purpose): the expected tree, or the refusal, always comes from umoci.

The generator keeps only a loose record of the names it wrote (the type each
spelled-out name was last written as), to pick plausible parents and
targets; it never resolves symlinks or whiteouts.
"""
import argparse, gzip, io, json, os, posixpath, random, shutil, subprocess, sys
import tarfile

TOPS = ["a", "b", "c", "etc", "home", "usr", "var", "opt"]
SUBS = ["x", "y", "z", "f", "g", "d", "site", "lib", "bin", "sub", "old", "new",
        "k", "m", "share", "tmp"]
FILE_MODES = [0o644] * 5 + [0o755] * 2 + [0o600, 0o444, 0o4755, 0o2755, 0o6755,
                                          0o1644, 0o640, 0o000, 0o777, 0o2644]
DIR_MODES = [0o755] * 4 + [0o2775, 0o2755, 0o2770, 0o3777, 0o1777, 0o1755, 0o700,
                           0o555, 0o711, 0o775, 0o777, 0o2711, 0o6755, 0o750]
SGID_MODES = [0o2775, 0o2755, 0o2770, 0o2777, 0o3775, 0o2711, 0o6775, 0o2700]
STICKY_MODES = [0o1777, 0o1755, 0o1700, 0o3777]
# names that look special and are not: '...' is no '..', '.wh' and 'x.wh.y'
# are no whiteouts
TRICKY = ["...", ".wh", ".whx", "x.wh.y", "..a", "a b", "-", "@x", "wh..wh..opq",
          "\u00e9t\u00e9", ".", ".hidden"]
IDS = [0, 0, 0, 0, 1, 2, 33, 100, 1000, 1001, 4242, 65534]
TYPES = {"f": tarfile.REGTYPE, "d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE,
         "h": tarfile.LNKTYPE, "p": tarfile.FIFOTYPE, "c": tarfile.CHRTYPE,
         "b": tarfile.BLKTYPE}
FORMATS = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT,
           "ustar": tarfile.USTAR_FORMAT}


def norm(p):
    """The path a member name stands for: lexical, '..' clamped at the root."""
    out = []
    for c in p.split("/"):
        if c in ("", "."):
            continue
        if c == "..":
            if out:
                out.pop()
            continue
        out.append(c)
    return "/".join(out)


def under(name, top):
    return name == top or name.startswith(top + "/")


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.layers = []
        self.cur = []
        self.fmt = "pax"
        self.k = 0
        self.kind = {}     # spelled-out name -> type it was last written as
        self.born = {}     # name -> layer it was last written in
        self.modeof = {}   # directory name -> mode last written
        self.special = []  # directories written setgid or sticky
        self.aliases = []  # (symlink, directory) made on purpose
        self.dirlinks = {} # symlinks made to be gone through
        self.pending = []  # scenario tails for the next layer
        self.serial = 0
        # now and then a stack that takes chances: parents that may be
        # files, links to directories or nothing (both must refuse)
        self.risky = 0.08 if self.r.random() < 0.1 else 0.0
        # and rarely one with a hardlink to itself or to a name below it,
        # which umoci refuses (it removes the old path first)
        self.selflink = self.r.random() < 0.04

    # --- small choices ---------------------------------------------------
    def chance(self, p):
        return self.r.random() < p

    def pick(self, seq):
        return self.r.choice(seq) if seq else None

    def ids(self):
        pool = IDS + ([3000000] if self.fmt != "ustar" else [])
        return self.pick(pool), self.pick(pool)

    def mtime(self):
        t = self.r.randrange(100000000, 1600000000)
        if self.fmt == "pax" and self.chance(0.12):
            return t + self.pick([0.5, 0.25, 0.125, 0.75])
        return t

    def data(self):
        r = self.r
        n = self.pick([0, 1, 7, 100, 511, 512, 513, 1500, r.randrange(2000, 9000)])
        if self.chance(0.2):
            return b"same\n"
        return bytes(r.randrange(256) for _ in range(n))

    def fresh(self, base=None):
        self.serial += 1
        b = base or self.pick(SUBS)
        if base is None and self.chance(0.03):
            b = self.pick(TRICKY)
        if self.chance(0.03):
            b += "-" + "n" * self.r.randrange(60, 120)
        return "%s%d" % (b, self.serial)

    def spell(self, n):
        """n written as n, ./n, /n or a messier name for the same path."""
        x = self.r.random()
        if x < 0.55:
            return n
        if x < 0.75:
            return "./" + n
        if x < 0.92:
            return "/" + n
        parts = n.split("/")
        trick = self.pick(["//", "/./", "/zz/../", "dotdot", "lead", "tail"])
        if trick == "dotdot":
            return "../" * self.r.randrange(1, 3) + n
        if trick == "tail":
            return n + self.pick(["/.", "/zz/..", "//"])
        if trick == "lead" or len(parts) == 1:
            return self.pick(["//", "././", "/./"]) + n
        i = self.r.randrange(len(parts) - 1)
        return "/".join(parts[:i + 1]) + trick + "/".join(parts[i + 1:])

    def names(self, kinds=None, lower=False):
        return [n for n, k in self.kind.items()
                if (kinds is None or k in kinds) and (not lower or self.born[n] < self.k)]

    def usable(self, n):
        """n and its parents were not last written as non-directories."""
        while n:
            if self.kind.get(n, "d") not in "dl":
                return False
            n = posixpath.dirname(n)
        return True

    def dirlike(self, n):
        k = self.kind.get(n)
        return self.usable(n) and (k in (None, "d") or (k == "l" and n in self.dirlinks))

    def sub(self):
        """A child name from the small pool (so that names collide)."""
        if self.chance(0.02):
            return self.pick(TRICKY[:-2])
        return self.pick(SUBS)

    def a_dir(self, lower=False):
        """A directory to put something in: known, aliased, new or a top.
        Mostly one not last written as a non-directory: a parent that is a
        file makes both appliers refuse the stack, which teaches little."""
        x = self.r.random()
        if self.chance(self.risky):
            return self.pick(list(self.kind) or TOPS)
        dirs = [n for n in self.names("d", lower) if self.usable(n)]
        if x < 0.55 and dirs:
            return self.pick(dirs)
        aliases = [a for a, t in self.aliases
                   if self.kind.get(a) == "l" and self.usable(a) and self.kind.get(t) == "d"]
        if x < 0.67 and aliases:
            return self.pick(aliases)
        top = self.pick([t for t in TOPS if self.usable(t)] or [self.fresh("top")])
        if x < 0.85 and self.chance(0.5):
            return top + "/" + self.fresh()
        return top

    def a_path(self):
        """Some path to write over: mostly one written before."""
        known = list(self.kind)
        if known and self.chance(0.6):
            return self.pick(known)
        return self.a_dir() + "/" + self.sub()

    # --- members -----------------------------------------------------------
    def add(self, typ, n, note="", **kw):
        """Append one member for path n (spelled at random unless name= given)."""
        uid, gid = self.ids()
        m = {"type": typ, "name": kw.pop("name", None) or self.spell(n),
             "mode": 0o644, "uid": uid, "gid": gid, "mtime": self.mtime(),
             "note": note}
        if typ == "f":
            m["mode"] = self.pick(FILE_MODES)
            m["data"] = self.data()
        elif typ == "d":
            m["mode"] = self.pick(DIR_MODES)
        elif typ == "l":
            m["mode"] = 0o777 if self.chance(0.9) else 0o755
        elif typ in "cb":
            m["major"], m["minor"] = self.r.randrange(1, 9), self.r.randrange(0, 300)
            m["mode"] = self.pick([0o600, 0o666, 0o640])
        elif typ == "p":
            m["mode"] = self.pick([0o644, 0o600, 0o666])
        m.update(kw)
        if typ == "h":
            # whether the record says the target is there (see no_late_links)
            m["known"] = self.kind.get(norm(m["linkname"]), "d") != "d"
        if (self.fmt == "pax" and typ in "fd" and self.chance(0.06)):
            m["xattrs"] = {"user.wild": "v%d" % self.r.randrange(100),
                           "user.k%d" % self.r.randrange(3): "x" * self.r.randrange(1, 40)}
        self.cur.append(m)
        self.note_written(typ, norm(m["name"]), m)
        return m

    def note_written(self, typ, n, m):
        if not n:
            return
        if typ in "wo":
            d, base = posixpath.split(n)
            gone = d if typ == "o" else (posixpath.join(d, base[4:]))
            for x in list(self.kind):
                if under(x, gone) and (typ == "w" or x != gone):
                    del self.kind[x]
            return
        for x in list(self.kind):
            if x != n and under(x, n) and typ != "d":
                del self.kind[x]
        p = posixpath.dirname(n)
        while p:
            if self.kind.get(p) not in ("d", "l"):
                self.kind[p] = "d"
                self.born[p] = self.k
            p = posixpath.dirname(p)
        self.kind[n] = typ
        self.born[n] = self.k
        if typ == "d":
            self.modeof[n] = m["mode"]
            if m["mode"] & 0o3000:
                self.special.append(n)

    def whiteout(self, d, base, note="", spelled_dir=None):
        wn = posixpath.join(d, ".wh." + base) if d else ".wh." + base
        name = None
        if spelled_dir is not None:
            name = posixpath.join(spelled_dir, ".wh." + base)
        kw = self.whiteout_type()
        return self.add("w", wn, note, name=name, **kw)

    def opaque(self, d, note="", spelled_dir=None):
        on = posixpath.join(d, ".wh..wh..opq") if d else ".wh..wh..opq"
        name = posixpath.join(spelled_dir, ".wh..wh..opq") if spelled_dir else None
        return self.add("o", on, note, name=name, **self.whiteout_type())

    def whiteout_type(self):
        """Whiteouts are known by name: mostly empty files, now and then not."""
        x = self.r.random()
        if x < 0.9:
            return {"wtype": "f", "data": b"", "mode": 0o644}
        if x < 0.94:
            return {"wtype": "d", "mode": 0o755}
        if x < 0.97:
            return {"wtype": "l", "linkname": "nowhere", "mode": 0o777}
        return {"wtype": "c", "major": 0, "minor": 0, "mode": 0o600}

    def sym_target(self, at, parent=False):
        """A symlink target for a link at path at; for one that later
        entries go through (parent), mostly a directory or nothing."""
        r = self.r
        d = posixpath.dirname(at)
        dirs = [n for n in self.names("d") if self.usable(n)]
        known = dirs if parent else list(self.kind)
        x = r.random()
        if parent:
            self.dirlinks[norm(at)] = True
        if x < 0.3 and dirs:
            return "/" + self.pick(dirs)
        if x < 0.45 and known:
            return posixpath.relpath("/" + self.pick(known), "/" + d if d else "/")
        if x < 0.55 and known:
            return "../" * (d.count("/") + 1 + r.randrange(1, 4)) + self.pick(known)
        if x < 0.65:
            return self.pick(["/nowhere%d/%s", "gone%d/%s", "../miss%d/%s"]) % (
                r.randrange(5), self.sub())
        if x < 0.75:
            links = [l for l in self.names("l") if not parent or l in self.dirlinks]
            if links:
                t = self.pick(links)
                return "/" + t if self.chance(0.5) else posixpath.relpath("/" + t, "/" + d)
        if x < 0.82:
            return self.pick(["/", ".", "..", "../..", "/.", "./"])
        if x < 0.9 and not parent:
            files = self.names("fh")
            if files:
                return "/" + self.pick(files)
        t = self.pick(dirs) if dirs else self.pick(TOPS)
        return self.pick(["//%s/", "/%s/.", "%s//", "/../%s", "/./%s/"]) % t

    def leaf(self, n, note, kinds="ffffdlhp"):
        """Some member at n: file, dir, symlink, hardlink or fifo."""
        t = self.pick(kinds)
        if t == "h":
            tgt = self.link_target(n)
            if tgt is None:
                t = "f"
            else:
                return self.add("h", n, note, linkname=tgt)
        if t == "l":
            return self.add("l", n, note, linkname=self.sym_target(n))
        return self.add(t, n, note)

    def link_target(self, at=None):
        """A hardlink target for a link at path at, spelled at random: mostly
        a file written earlier, never at itself or below it (umoci removes
        what the link replaces first, then finds no target; see selflink)."""
        x = self.r.random()
        if x < self.risky:   # a directory, or nothing: both must refuse
            dirs = self.names("d")
            t = self.pick(dirs) if dirs and self.chance(0.5) else "no/such/%d" % self.serial
            return self.spell(t)
        cands = self.names("fh") if x < 0.85 else self.names("flhpcb")
        if at is not None:
            cands = [c for c in cands if not under(c, norm(at))]
        if not cands:
            return None
        t = self.pick(cands)
        if self.aliases and self.chance(0.1):
            al, tgt = self.pick(self.aliases)
            if under(t, tgt) and t != tgt:
                t = al + t[len(tgt):]
        return self.spell(t) + ("/" if self.chance(0.03) else "")

    # --- scenarios ---------------------------------------------------------
    def sc_plain(self):
        n = self.a_dir() + "/" + (self.sub() if self.chance(0.5) else self.fresh())
        t = self.pick("fffffddlllhpcb")
        if t in "cb" or t == "p":
            self.add(t, n, "plain")
        else:
            self.leaf(n, "plain", t)

    def sc_dirs(self):
        for _ in range(self.r.randrange(1, 4)):
            self.add("d", self.a_dir() + "/" + self.sub(), "plain dir")

    def sc_setgid(self):
        r = self.r
        sticky = self.chance(0.2)
        modes = STICKY_MODES if sticky else SGID_MODES
        x = r.random()
        cand = [d for d in self.special if self.kind.get(d) == "d"]
        if x < 0.45 or not cand:
            base = self.a_dir()
            d = base + "/" + self.fresh("sg")
            self.add("d", d, "setgid dir", mode=self.pick(modes),
                     gid=self.pick([0, 50, 1000, 4242, 777]))
        elif x < 0.75:
            d = self.pick(cand)
        elif x < 0.88:
            d = self.pick(cand)
            self.add("d", d, "setgid dir rewritten without the bit",
                     mode=self.pick([0o755, 0o775, 0o1777, 0o700]))
        else:
            d = self.pick(cand)
            self.add("d", d, "setgid dir rewritten with another gid",
                     mode=self.pick(SGID_MODES), gid=self.pick([0, 5, 1001, 65534]))
        via = d
        if self.chance(0.25):
            al = self.a_dir().split("/")[0] + "/" + self.fresh("to-sg")
            self.add("l", al, "symlink to the setgid dir",
                     linkname=self.pick(["/" + d, posixpath.relpath(
                         "/" + d, "/" + posixpath.dirname(al))]))
            self.aliases.append((al, d))
            via = al
        later = self.chance(0.35)

        def tail(g=self, d=d, via=via):
            for _ in range(g.r.randrange(1, 4)):
                chain = [g.fresh("i") for _ in range(g.r.randrange(1, 4))]
                n = "/".join([via] + chain + [g.fresh()])
                g.leaf(n, "below %d implicit parent(s) in %s" % (len(chain), d), "ffffdddlhp")
                if g.chance(0.3):
                    k = g.r.randrange(1, len(chain) + 1)
                    g.add("d", "/".join([d] + chain[:k]), "explicit dir in the chain",
                          mode=g.pick(DIR_MODES))
                if g.chance(0.25):
                    k = g.r.randrange(1, len(chain) + 1)
                    more = "/".join([d] + chain[:k] + [g.fresh("j"), g.fresh()])
                    g.leaf(more, "a branch off the chain", "ffd")
        if later:
            self.pending.append(tail)
        else:
            tail()

    def sc_gone(self):
        """Remove a lower path, then write below or through it in this layer."""
        x = self.r.random()
        kinds = "l" if x < 0.55 else ("d" if x < 0.8 else "fhp")
        cands = self.names(kinds, lower=True)
        if not cands:
            # set one up now, finish it in the next layer
            d = self.a_dir()
            v = d + "/" + self.fresh("v")
            if kinds == "l":
                self.add("l", v, "symlink to be removed", linkname=self.sym_target(v))
            elif kinds == "d":
                self.add("d", v, "dir to be removed")
                self.add("f", v + "/" + self.sub(), "child of a dir to be removed")
            else:
                self.add("f", v, "file to be removed")
            self.pending.append(lambda g=self, v=v: g.gone_tail(v))
            return
        self.gone_tail(self.pick(cands))

    def gone_tail(self, v):
        d, base = posixpath.split(v)
        spelled = None
        if self.aliases and self.chance(0.15):
            al, tgt = self.pick(self.aliases)
            if d == tgt:
                spelled = self.spell(al)
            elif under(d, tgt):
                spelled = self.spell(al + d[len(tgt):])
        if spelled is None and d and self.chance(0.5):
            spelled = self.spell(d)
        if self.chance(0.3) and d:
            if self.chance(0.3):
                self.add("f", d + "/" + self.fresh(), "written before the opaque marker")
            self.opaque(d, "opaque marker over " + v, spelled_dir=spelled)
        else:
            self.whiteout(d, base, "removes " + v, spelled_dir=spelled)
        if self.chance(0.3):
            self.sc_plain()
        r = self.r.random()
        if r < 0.3:
            self.add("d", v, "new dir where the removed path was")
            self.add("d", v + "/x", "")
            self.leaf(v + "/x/" + self.sub(), "below the removed path")
        elif r < 0.5:
            self.leaf(v + "/" + self.sub(), "below the removed path, implicit")
        elif r < 0.65:
            self.leaf(v + "/" + self.fresh("i") + "/" + self.fresh("i") + "/" + self.sub(),
                      "implicit chain below the removed path", "ffd")
        elif r < 0.75:
            self.add("l", v, "new symlink where the removed path was",
                     linkname=self.sym_target(v, parent=True))
            self.leaf(v + "/" + self.sub(), "through the new symlink", "ffd")
        elif r < 0.85:
            self.leaf(v, "retyped after its removal")
        else:
            n = v + "/" + self.sub()
            t = self.link_target(n)
            if t:
                self.add("h", n, "hardlink below the removed path", linkname=t)
        if self.chance(0.2) and self.dirlike(v):
            self.leaf(v + "/" + self.sub(), "another one below the removed path")

    def sc_late(self):
        """Entries below a lower path first, its whiteout after them."""
        cands = [n for n in self.names("dl", lower=True) if self.dirlike(n)]
        v = self.pick(cands)
        if v is None:
            return self.sc_plain()
        for _ in range(self.r.randrange(1, 3)):
            self.leaf(v + "/" + (self.fresh() if self.chance(0.5) else self.sub()),
                      "below a path whited out later in the layer", "ffdl")
        if self.chance(0.3):
            self.leaf(v + "/" + self.fresh("i") + "/" + self.sub(), "implicit", "fd")
        d, base = posixpath.split(v)
        x = self.r.random()
        if x < 0.45:
            self.whiteout(d, base, "late whiteout of " + v)
        elif x < 0.8:
            self.opaque(v, "late opaque marker in " + v)
        elif d:
            self.opaque(d, "late opaque marker in the parent of " + v)
        else:
            self.whiteout(d, base, "late whiteout of " + v)

    def sc_retype(self):
        n = self.a_path()
        count = self.r.randrange(2, 6)
        last = None
        for i in range(count):
            t = self.pick([c for c in "fdlhp" if c != last])
            last = t
            if t == "d":
                self.add("d", n, "retype %d/%d" % (i + 1, count))
                if self.chance(0.6):
                    self.leaf(n + "/" + self.sub(), "child of a retyped path", "ffdl")
            else:
                self.leaf(n, "retype %d/%d" % (i + 1, count), t)
            if self.chance(0.25):
                self.sc_plain()
            if self.chance(0.2):
                self.pending.append(lambda g=self, n=n: g.leaf(n, "retyped in the next layer"))
                break

    def sc_longchain(self):
        """30-40 symlinks in a row (relative, side by side), then entries
        through the first: as many hops as the kernel allows, and no more
        (one more would be tarflat's refusal and umoci's tree)."""
        top = self.a_dir().split("/")[0]
        if self.kind.get(top) == "l":
            return
        hops = self.r.randrange(30, 40)
        links = [self.fresh("ls") for _ in range(hops)]
        end = self.fresh("end")
        self.add("d", top + "/" + end, "end of a long chain")
        for i, l in enumerate(links):
            self.add("l", top + "/" + l, "long chain %d/%d" % (i + 1, hops),
                     linkname=links[i + 1] if i + 1 < hops else end)
        self.leaf(top + "/" + links[0] + "/" + self.sub(), "through %d symlinks" % hops, "ffd")

    def sc_chain(self):
        r = self.r
        hops = r.randrange(1, 6) if self.chance(0.9) else r.randrange(6, 13)
        top = self.a_dir().split("/")[0]
        links = [top + "/" + self.fresh("s") for _ in range(hops)]
        x = r.random()
        if x < 0.7:
            end = self.a_dir()
        elif x < 0.98:
            end = "nowhere/" + self.fresh("m")
        else:
            files = self.names("f")
            end = self.pick(files) if files else self.a_dir()
        order = list(range(hops))
        if self.chance(0.3):
            r.shuffle(order)
        for i in order:
            nxt = links[i + 1] if i + 1 < hops else end
            tgt = "/" + nxt if self.chance(0.5) else posixpath.relpath("/" + nxt, "/" + top)
            self.add("l", links[i], "chain %d/%d" % (i + 1, hops), linkname=tgt)
        self.aliases.append((links[0], end))

        def tail(g=self, s=links[0], end=end):
            y = g.r.random()
            if y < 0.5:
                g.leaf(s + "/" + g.sub(), "through a symlink chain")
            elif y < 0.65:
                g.leaf(s + "/" + g.fresh("i") + "/" + g.sub(), "implicit through a chain", "fd")
            elif y < 0.8:
                kids = [n for n in g.names() if posixpath.dirname(n) == end]
                if kids:
                    g.whiteout(end, posixpath.basename(kids[0]), "whiteout through a chain",
                               spelled_dir=g.spell(s))
                else:
                    g.opaque(end, "opaque through a chain", spelled_dir=g.spell(s))
            elif y < 0.9:
                kids = [n for n in g.names("fh") if posixpath.dirname(n) == end]
                if kids:
                    g.add("h", g.a_dir() + "/" + g.fresh("hl"), "hardlink through a chain",
                          linkname=g.spell(s + "/" + posixpath.basename(kids[0])))
                else:
                    g.leaf(s + "/" + g.sub(), "through a symlink chain")
            else:
                g.add("h", g.a_dir() + "/" + g.fresh("hl"), "hardlink to a symlink",
                      linkname=g.spell(s))
        if self.chance(0.4):
            self.pending.append(tail)
        else:
            tail()

    def sc_climb(self):
        r = self.r
        d = self.a_dir()
        s = d + "/" + self.fresh("up")
        depth = s.count("/")
        tgt = self.pick(self.names("d") or TOPS)
        t = self.pick([
            "../" * (depth + r.randrange(1, 5)) + tgt,
            "/../../" + tgt,
            "/", ".", "..", "../" * (depth + 3),
            "./../" + tgt + "/../" + tgt,
            tgt + "/",
            "/" + self.fresh("gone") + "/../" + tgt,
            "/" + self.pick(self.names("fp") or TOPS) + "/../" + tgt,
            "/" + tgt + "/" + self.fresh("gone") + "/../../" + tgt,
        ])
        self.add("l", s, "climbing symlink", linkname=t)
        n = s + "/" + (self.fresh("i") + "/" if self.chance(0.3) else "") + self.sub()
        self.leaf(n, "through a climbing symlink", "ffdl")

    def sc_hard(self):
        t = self.link_target()
        if t is None:
            n = self.a_dir() + "/" + self.fresh("t")
            self.add("f", n, "hardlink target")
            t = self.spell(n)
        tn = norm(t)
        h = self.a_dir() + "/" + self.fresh("h")
        self.add("h", h, "hardlink", linkname=t)
        if self.selflink and self.chance(0.3):
            self.add("h", tn if self.chance(0.5) else posixpath.dirname(tn) or tn,
                     "hardlink to itself or to a name below it", linkname=t)
        if self.chance(0.3):
            self.add("h", self.a_dir() + "/" + self.fresh("h"), "hardlink to a hardlink",
                     linkname=self.spell(h))
        x = self.r.random()
        if x < 0.2:
            self.leaf(tn, "target overwritten after the link", "ffdl")
        elif x < 0.35:
            self.pending.append(lambda g=self, tn=tn: g.whiteout(
                posixpath.dirname(tn), posixpath.basename(tn), "link target deleted"))
        elif x < 0.45:
            self.pending.append(lambda g=self, tn=tn: g.leaf(tn, "link target retyped", "dl"))
        elif x < 0.5:
            self.whiteout(posixpath.dirname(tn), posixpath.basename(tn),
                          "link target whited out in the link's layer")

    def sc_ghost(self):
        """Whiteouts of nothing, under a file, under a dangling symlink,
        twice, and after this layer wrote the name again."""
        x = self.r.random()
        if x < 0.25:
            d = self.a_dir()
            self.whiteout(d, self.fresh("ghost"), "whiteout of nothing")
        elif x < 0.45:
            f = self.pick(self.names("fhp"))
            if f:
                self.whiteout(f, self.sub(), "whiteout under a non-directory")
        elif x < 0.6:
            s = self.a_dir() + "/" + self.fresh("dangle")
            self.add("l", s, "dangling symlink", linkname="/nowhere/" + self.fresh("m"))
            self.pending.append(lambda g=self, s=s: (
                g.whiteout(s, g.sub(), "whiteout under a dangling symlink"),
                g.opaque(s, "opaque marker under a dangling symlink")))
        elif x < 0.8:
            v = self.pick(self.names(lower=True))
            if v:
                d, b = posixpath.split(v)
                self.whiteout(d, b, "whiteout, first of two")
                if self.chance(0.5):
                    self.leaf(v, "written again between two whiteouts")
                self.whiteout(d, b, "whiteout, second of two")
        else:
            v = self.pick(self.names("d", lower=True))
            if v:
                self.leaf(v + "/" + self.fresh(), "written before two opaque markers")
                self.opaque(v, "opaque marker, first of two")
                self.leaf(v + "/" + self.fresh(), "written between two opaque markers")
                self.opaque(v, "opaque marker, second of two")

    def sc_hardgone(self):
        """A hardlink to a file, then the file's directory removed (by its
        whiteout or an opaque marker above it) or replaced, in this layer
        or the next: the link keeps the bytes."""
        f = self.pick([n for n in self.names("fh") if "/" in n])
        if f is None:
            d = self.a_dir() + "/" + self.fresh("hd")
            self.add("d", d, "dir of a link target")
            f = d + "/" + self.fresh("t")
            self.add("f", f, "link target")
        h = self.a_dir() + "/" + self.fresh("h")
        if under(h, posixpath.dirname(f)):
            return
        self.add("h", h, "hardlink into a dir removed next", linkname=self.spell(f))
        d = posixpath.dirname(f)
        x = self.r.random()

        def gone(g=self, d=d, x=x):
            if x < 0.4:
                g.whiteout(posixpath.dirname(d), posixpath.basename(d),
                           "removes the link target's dir")
            elif x < 0.7:
                g.opaque(d, "empties the link target's dir")
            else:
                g.leaf(d, "replaces the link target's dir", "fl")
        if self.chance(0.5):
            self.pending.append(gone)
        else:
            gone()

    def sc_swap(self):
        """A hardlink that replaces a path its own target goes through: a
        symlink or directory on the way to the target (umoci removes the old
        path first, then looks the target up)."""
        if not self.selflink:
            return self.sc_hard()
        d = self.a_dir() + "/" + self.fresh("sw")
        self.add("d", d, "dir on the way to a link target")
        self.add("f", d + "/f", "link target")
        s = self.a_dir() + "/" + self.fresh("via")
        self.add("l", s, "symlink on the way", linkname="/" + d)
        n = self.pick([s, d])
        self.pending.append(lambda g=self, n=n, s=s: g.add(
            "h", n, "hardlink replacing a path on the way to its own target",
            linkname=g.spell(s + "/f")))

    def sc_merge(self):
        d = self.pick(self.names("d"))
        if d:
            self.add("d", d, "dir rewritten")

    def build(self):
        r = self.r
        nlayers = r.randrange(2, 7)
        weights = [("plain", 22), ("dirs", 6), ("setgid", 14), ("gone", 16), ("late", 7),
                   ("retype", 9), ("chain", 7), ("climb", 4), ("hard", 10), ("merge", 4),
                   ("ghost", 4), ("hardgone", 4), ("swap", 1), ("longchain", 0.4)]
        names = [w[0] for w in weights]
        wts = [w[1] for w in weights]
        for k in range(nlayers):
            self.k = k
            self.cur = []
            self.fmt = r.choices(["pax", "gnu", "ustar"], [4, 3, 3])[0]
            if self.chance(0.1):
                self.add("d", "", "root entry", name="./")
            if k > 0 and self.chance(0.02):
                self.opaque("", "opaque marker at the root")
            if k == 0:
                for top in r.sample(TOPS, r.randrange(2, 6)):
                    self.add("d", top, "base dir")
            todo, self.pending = self.pending, []
            steps = [getattr(self, "sc_" + s) for s in r.choices(names, wts, k=r.randrange(3, 12))]
            for f in todo:
                steps.insert(r.randrange(len(steps) + 1), f)
            for f in steps:
                f()
            gz = self.chance(0.4)
            writer = self.pick(["bsdtar-pax", "bsdtar-gnutar"]) if self.chance(0.12) else "python"
            self.layers.append({"format": self.fmt, "gzip": gz, "writer": writer,
                                "cut": r.randrange(1, 100) if gz and self.chance(0.1) else 0,
                                "members": no_late_links(self.cur)})


def no_late_links(members):
    """umoci refuses a hardlink to a name that is only written later in its
    layer: make such a link a file, unless the name was written before the
    link, in this layer or (as far as the record knows) below."""
    for i, m in enumerate(members):
        if m["type"] != "h":
            continue
        t = norm(m["linkname"])
        later = any(norm(x["name"]) == t for x in members[i + 1:] if x["type"] not in "wo")
        before = any(norm(x["name"]) == t for x in members[:i] if x["type"] in "fhlpcb")
        if later and not before and not m.get("known"):
            m["type"], m["note"] = "f", m["note"] + " (was a link to a later member)"
            m["data"], m["mode"] = b"late\n", 0o644
            del m["linkname"]
    return members


def tarinfo(m):
    typ = m["wtype"] if m["type"] in "wo" else m["type"]
    ti = tarfile.TarInfo(m["name"])
    ti.type = TYPES[typ]
    ti.mode, ti.uid, ti.gid, ti.mtime = m["mode"], m["uid"], m["gid"], m["mtime"]
    ti.uname, ti.gname = m.get("uname", ""), m.get("gname", "")
    ti.linkname = m.get("linkname", "")
    ti.devmajor, ti.devminor = m.get("major", 0), m.get("minor", 0)
    data = m.get("data") if typ == "f" else None
    ti.size = len(data) if data is not None else 0
    if m.get("xattrs"):
        ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in m["xattrs"].items()}
    return ti, data


def write_layer(path, layer):
    """Write one layer; a ustar or gnu layer that cannot hold a member is pax."""
    for fmt in (layer["format"], "pax"):
        buf = io.BytesIO()
        try:
            with tarfile.open(fileobj=buf, mode="w", format=FORMATS[fmt]) as tf:
                for m in layer["members"]:
                    ti, data = tarinfo(m)
                    tf.addfile(ti, io.BytesIO(data) if data is not None else None)
        except ValueError:
            continue
        layer["format"] = fmt
        break
    raw = buf.getvalue()
    if layer.get("writer", "python") != "python":
        # bsdtar reads the layer and writes it again in its own dialect,
        # member for member (-P keeps names as they are)
        p = None
        if shutil.which("bsdtar"):
            p = subprocess.run(["bsdtar", "-c", "-P", "-f", "-", "--format",
                                layer["writer"].split("-")[1], "@-"],
                               input=raw, capture_output=True)
        if p is not None and p.returncode == 0:
            raw = p.stdout
        else:
            layer["writer"] = "python"
    if layer["gzip"]:
        out = io.BytesIO()
        cut = len(raw) * layer["cut"] // 100 if layer["cut"] else len(raw)
        for part in (raw[:cut], raw[cut:]):
            if part:
                with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as g:
                    g.write(part)
        raw = out.getvalue()
    with open(path, "wb") as f:
        f.write(raw)


def describe(m):
    typ = m["type"]
    if typ in "wo":
        typ = {"w": "whiteout", "o": "opaque"}[typ]
        if m["wtype"] != "f":
            typ += "(%s)" % m["wtype"]
    else:
        typ = {"f": "file", "d": "dir", "l": "symlink", "h": "hardlink", "p": "fifo",
               "c": "chardev", "b": "blockdev"}[typ]
    s = "%-9s %s" % (typ, m["name"])
    if m.get("linkname") and m["type"] in "lh":
        s += " -> " + m["linkname"]
    s += "  mode=%04o owner=%d:%d mtime=%s" % (m["mode"], m["uid"], m["gid"], m["mtime"])
    if m["type"] == "f":
        s += " size=%d" % len(m["data"])
    if m.get("xattrs"):
        s += " xattrs=" + ",".join(sorted(m["xattrs"]))
    if m.get("note"):
        s += "  # " + m["note"]
    return s


def save(layers, out):
    os.makedirs(out, exist_ok=True)
    paths, text = [], []
    for i, layer in enumerate(layers, 1):
        p = os.path.join(out, "l%d.tar%s" % (i, ".gz" if layer["gzip"] else ""))
        write_layer(p, layer)
        paths.append(p)
        text.append("layer %d: %s %s%s%s" % (i, os.path.basename(p), layer["format"],
                    "" if layer.get("writer", "python") == "python" else
                    ", rewritten by " + layer["writer"].replace("-", " --format "),
                    ", gzip in two members" if layer["gzip"] and layer["cut"] else ""))
        text += ["  %3d %s" % (j, describe(m)) for j, m in enumerate(layer["members"], 1)]
    with open(os.path.join(out, "stack.txt"), "w") as f:
        f.write("\n".join(text) + "\n")
    js = [dict(l, members=[dict(m, data=m["data"].hex()) if "data" in m else m
                           for m in l["members"]]) for l in layers]
    with open(os.path.join(out, "stack.json"), "w") as f:
        json.dump(js, f, indent=1)
    return paths


def load(path):
    with open(path) as f:
        js = json.load(f)
    for l in js:
        for m in l["members"]:
            if "data" in m:
                m["data"] = bytes.fromhex(m["data"])
    return js


def late_link(path, name):
    """Whether a hardlink member named name (any spelling) has a target that
    is written later in the same layer: the case umoci 0.4.7 refuses."""
    for layer in load(path):
        ms = layer["members"]
        for i, m in enumerate(ms):
            if m["type"] == "h" and norm(m["name"]) == norm(name):
                # also a link to its own name (or below it) that a later
                # member writes: tarflat.1 binds a late link when its
                # target appears, and drops it when its own name is
                # written again, which such a member does
                t = norm(m["linkname"])
                if any(norm(x["name"]) == t for x in ms[i + 1:] if x["type"] not in "wo"):
                    return True
    return False


def blame(outdir, umoci_err, tarflat_err):
    """When both refused the stack in outdir: None if tarflat's refusal is
    not earlier than umoci's, else a line saying which entry tarflat
    refused that umoci went past.  umoci names the entry it failed on
    ('unpack entry: NAME: ...'), tarflat the layer and the offset of its
    header ('FILE: offset N: NAME: ...'); a name umoci gives that the stack
    holds more than once counts at each place."""
    import glob, re
    um = re.search(r"unpack entry: (.*?): ", umoci_err)
    tm = re.search(r"/l(\d+)\.tar(?:\.gz)?: offset (\d+): (.*?): (.*)", tarflat_err)
    if not um or not tm:
        return None
    layers = load(os.path.join(outdir, "stack.json"))
    places = [(k, i) for k, l in enumerate(layers, 1) for i, m in enumerate(l["members"])
              if norm(m["name"]) == norm(um.group(1))]
    k, off = int(tm.group(1)), int(tm.group(2))
    path = glob.glob(os.path.join(outdir, "l%d.tar*" % k))
    if not places or not path:
        return None
    with open(path[0], "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    at = None
    for i, ti in enumerate(tarfile.open(fileobj=io.BytesIO(raw))):
        if ti.offset <= off < ti.offset_data:
            at = i
    if at is None or not all(p > (k, at) for p in places):
        return None
    return ("tarflat refused member %d of layer %d (%s: %s), which umoci took; umoci "
            "failed later, on %s" % (at + 1, k, tm.group(3), tm.group(4), um.group(1)))


def main():
    ap = argparse.ArgumentParser()
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--seed", type=int)
    g.add_argument("--replay")
    g.add_argument("--late-link", nargs=2, metavar=("STACK.json", "NAME"),
                   help="exit 0 if a hardlink NAME of the stack has its target"
                   " written later in its layer, 1 if not")
    g.add_argument("--blame", nargs=3, metavar=("OUTDIR", "UMOCI_ERR", "TARFLAT_ERR"),
                   help="exit 1 (and say why) if tarflat refused the stack in"
                   " OUTDIR at an entry before the one umoci failed on")
    ap.add_argument("outdir", nargs="?")
    a = ap.parse_args()
    if a.late_link:
        sys.exit(0 if late_link(*a.late_link) else 1)
    if a.blame:
        with open(a.blame[1]) as u, open(a.blame[2]) as t:
            why = blame(a.blame[0], u.read(), t.read())
        if why:
            print(why)
        sys.exit(1 if why else 0)
    if not a.outdir:
        ap.error("OUTDIR is required")
    if a.replay:
        layers = load(a.replay)
    else:
        gen = Gen(a.seed)
        gen.build()
        layers = gen.layers
    for p in save(layers, a.outdir):
        print(p)


main()
