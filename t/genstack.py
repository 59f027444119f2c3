#!/usr/bin/env python3
"""Write a seeded random stack of container image layers.

usage: genstack.py --seed N OUTDIR

Writes 2-6 layers OUTDIR/NN.tar or OUTDIR/NN.tar.gz (plain or gzip, each in a
random Python tarfile format: pax, gnu or ustar), a readable listing of every
member in OUTDIR/stack.txt, and prints the layer paths, oldest first, one a
line.  The same seed always gives the same bytes.

The layers are built over a small name universe (directories a, b, c nested
up to three deep, files f1..f5) with files of random bytes, modes, owners and
mtimes, directories, symlinks (relative, absolute, dangling, to files and to
directories), hardlinks (to files of this or an earlier layer, to targets that
later entries delete or overwrite, chains), whiteouts and opaque markers,
file<->dir<->symlink replacements, fifos and devices, and names written as
'x', './x' and '/x', sometimes through a symlinked parent (whiteouts too).

Every stack is one that both umoci 0.4.7 and tarflat must accept and on which
umoci is the reference (tarflat.1 LAYER SEMANTICS).  The generator keeps a model of the
tree *only* to stay inside that set:
  - every parent directory is written as an explicit entry before its
    children (no implicit parents, where umoci differs), or already exists;
  - a parent that goes through a symlink resolves, within 8 hops, to an
    existing directory (never dangling, never a file, never a loop);
  - a hardlink target exists at that point (never later in the same layer),
    is not a directory and is not the link's own path or under it;
  - a whiteout names a path of a lower layer that this layer has not
    touched (or, rarely, a directory it only passed through and that holds
    nothing from below), an opaque marker a directory; no whiteout would make
    umoci delete lower children of a directory this layer wrote (umoci then
    stamps that directory with the current time);
  - no pax global headers, no '7'/'V'/'S', no AUFS .wh..wh. names, mtimes
    within 1678..2262, uids and mtimes only where the format can hold them.
The expected tree is never taken from this model: it comes from umoci.
"""
import argparse, gzip, io, os, random, sys, tarfile

DIRS = ["a", "b", "c"]
FILES = ["f1", "f2", "f3", "f4", "f5"]
MAXHOPS = 8
FORMATS = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT,
           "ustar": tarfile.USTAR_FORMAT}


class Bad(Exception):
    """A path that does not resolve to an existing directory."""


def lexical(name):
    """Normalise a member name the way umoci and tarflat.1 rule 1 do."""
    out = []
    for c in name.split("/"):
        if c in ("", "."):
            continue
        if c == "..":
            if out:
                out.pop()
            continue
        out.append(c)
    return out


class Node:
    def __init__(self, kind, target=None):
        self.kind = kind            # d f l c b p
        self.target = target        # symlink target


class Stack:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.tree = {}              # resolved path -> Node (umoci's view)
        self.lines = []

    # -- the model -------------------------------------------------------
    def resolve_dir(self, comps, hops=0):
        """Resolve every component of comps, following symlinks; return the
        resolved components of an existing directory or raise Bad."""
        cur = []
        todo = list(comps)
        while todo:
            c = todo.pop(0)
            if c in ("", "."):
                continue
            if c == "..":
                if cur:
                    cur.pop()
                continue
            p = "/".join(cur + [c])
            n = self.tree.get(p)
            if n is None:
                raise Bad(p)
            if n.kind == "l":
                hops += 1
                if hops > MAXHOPS:
                    raise Bad(p)
                if n.target.startswith("/"):
                    cur = []
                todo = n.target.split("/") + todo
                continue
            if n.kind != "d":
                raise Bad(p)
            cur.append(c)
        return cur

    def resolve(self, name):
        """Resolved path of a member name (final component not followed),
        or None when its parent does not resolve to a directory."""
        comps = lexical(name)
        if not comps:
            return ""
        try:
            return "/".join(self.resolve_dir(comps[:-1]) + [comps[-1]])
        except Bad:
            return None

    def remove(self, path):
        for p in [p for p in self.tree if p == path or p.startswith(path + "/")]:
            del self.tree[p]

    def children(self, d):
        pre = d + "/" if d else ""
        return [p for p in self.tree
                if p.startswith(pre) and "/" not in p[len(pre):]]

    def mark_upper(self, path):
        while path:
            self.upper.add(path)
            path = path.rpartition("/")[0]

    # -- member output ---------------------------------------------------
    def style(self, comps):
        """Write a path as 'x', './x' or '/x' (and now and then 'x//y')."""
        s = "/".join(comps)
        if len(comps) > 1 and self.r.random() < 0.05:
            s = s.replace("/", "//", 1)
        return self.r.choice(["", "", "./", "/"]) + s

    def meta(self, ti, kind):
        r, fmt = self.r, self.fmt
        if kind == "d":
            ti.mode = r.choice([0o755, 0o755, 0o700, 0o555, 0o1777, 0o2755, 0o750, 0o500])
        elif kind == "l":
            ti.mode = 0o777
        else:
            ti.mode = r.choice([0o644, 0o644, 0o755, 0o600, 0o400, 0o4755,
                                0o2711, 0o777, 0o000, 0o1644, 0o6755])
        ids = [0, 0, 0, 1, 33, 1000, 65534]
        if fmt != "ustar":
            ids += [3000000, 123456789]
        ti.uid, ti.gid = r.choice(ids), r.choice(ids)
        m = r.choice([1000000000, 1000000000 + r.randrange(-10 ** 9, 10 ** 9),
                      r.randrange(0, 2 ** 33)])
        if fmt != "ustar" and r.random() < 0.08:
            m = r.choice([-r.randrange(1, 10 ** 9), r.randrange(2 ** 33, 9 * 10 ** 9)])
        if fmt == "pax" and r.random() < 0.1:
            m = m + r.choice([0.5, 0.25, 0.999999])
        ti.mtime = m
        if fmt == "pax" and kind in "fd" and r.random() < 0.15:
            ti.pax_headers = {"SCHILY.xattr.user.k%d" % r.randrange(3):
                              r.choice(["v", "", "0123456789" * 3]),
                              }
            if r.random() < 0.3:
                ti.pax_headers["SCHILY.xattr.trusted.t"] = "tv%d" % r.randrange(9)

    def add(self, kind, comps, path, target=None, data=None, link=None):
        """Write one member named comps and apply it to the model."""
        ti = tarfile.TarInfo(self.style(comps))
        self.meta(ti, "f" if kind == "h" else kind)
        ti.type = {"f": tarfile.REGTYPE, "d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE,
                   "h": tarfile.LNKTYPE, "c": tarfile.CHRTYPE, "b": tarfile.BLKTYPE,
                   "p": tarfile.FIFOTYPE}[kind]
        desc = ""
        if kind == "f":
            ti.size = len(data)
            desc = "size=%d" % len(data)
        elif kind == "l":
            ti.linkname = target
            desc = "-> " + target
        elif kind == "h":
            ti.linkname = link
            desc = "=> " + link
        elif kind in "cb":
            ti.devmajor, ti.devminor = (1, 3) if kind == "c" else (7, 0)
        if kind == "h" and self.r.random() < 0.5:
            ti.pax_headers = {}
        self.tar.addfile(ti, io.BytesIO(data) if data is not None else None)
        self.lines.append("%s %s %s %s %o %d:%d %s" % (
            kind, ti.name, path, desc, ti.mode, ti.uid, ti.gid, ti.mtime))
        old = self.tree.get(path)
        if kind == "h":
            t = self.tree[self.resolve(link)]
            node = Node(t.kind, t.target)
        else:
            node = Node(kind, target)
        if old is not None and not (old.kind == "d" and kind == "d"):
            self.remove(path)
        if not (old is not None and old.kind == "d" and kind == "d"):
            self.tree[path] = node
        self.mark_upper(path)
        self.created.add(path)

    def whiteout(self, path, opaque=False):
        if opaque:
            d, base = path, ".wh..wh..opq"
        else:
            d, _, b = path.rpartition("/")
            base = ".wh." + b
        dcomps = d.split("/") if d else []
        if d and self.r.random() < 0.25:
            # now and then through a symlink to the directory
            for p in sorted(self.tree):
                if self.tree[p].kind != "l":
                    continue
                try:
                    if self.resolve_dir(p.split("/")) == dcomps:
                        dcomps = p.split("/")
                        break
                except Bad:
                    pass
        comps = dcomps + [base]
        ti = tarfile.TarInfo(self.style(comps))
        if not opaque and self.r.random() < 0.1:
            # old AUFS layers store whiteouts as hardlinks
            ti.type, ti.linkname = tarfile.LNKTYPE, ".wh..wh.aufs"
        ti.mtime = 1000000000
        self.tar.addfile(ti, io.BytesIO(b""))
        self.lines.append("w %s %s" % (ti.name, path))
        if opaque:
            for c in self.children(path):
                if c not in self.upper:
                    self.remove(c)
        elif path not in self.upper:
            self.remove(path)
        else:
            # umoci spares what this layer wrote or passed through
            for c in sorted(self.tree):
                if c.startswith(path + "/") and c not in self.upper and c in self.tree:
                    self.remove(c)

    # -- choosing members ------------------------------------------------
    def rand_comps(self, last):
        depth = self.r.choice([1, 1, 2, 2, 2, 3, 3])
        return [self.r.choice(DIRS) for _ in range(depth - 1)] + [self.r.choice(last)]

    def pick_name(self, last):
        """A member name: often an existing path, else a random one."""
        r = self.r
        links = []
        for p in sorted(self.tree):
            if self.tree[p].kind == "l":
                try:
                    self.resolve_dir(p.split("/"))
                    links.append(p)
                except Bad:
                    pass
        if links and r.random() < 0.2:
            # through a symlink to a directory (merged-usr style)
            comps = r.choice(links).split("/")
            if r.random() < 0.3:
                comps.append(r.choice(DIRS))
            return comps + [r.choice(last)]
        if self.tree and r.random() < 0.5:
            return sorted(self.tree)[r.randrange(len(self.tree))].split("/")
        return self.rand_comps(last)

    def parents(self, comps):
        """Make every parent of comps an existing directory, writing explicit
        dir members (new, merged or replacing a non-directory) as needed.
        Return the resolved path of comps, or None to give up."""
        for i in range(1, len(comps)):
            pre = comps[:i]
            try:
                self.resolve_dir(pre)
                if self.r.random() < 0.15:
                    p = self.resolve("/".join(pre))
                    if self.tree[p].kind == "d":
                        self.add("d", pre, p)
                continue
            except Bad:
                pass
            p = self.resolve("/".join(pre))
            if p is None:
                return None
            self.add("d", pre, p)
        return self.resolve("/".join(comps))

    def symlink_target(self, path):
        r = self.r
        if self.tree and r.random() < 0.7:
            t = sorted(self.tree)[r.randrange(len(self.tree))]
        else:
            t = "/".join(self.rand_comps(DIRS + FILES + ["nowhere"]))
        how = r.random()
        if how < 0.35:
            return "/" + t
        up = path.count("/")
        if how < 0.45:
            up += r.randrange(1, 3)         # climbs above the root: clamped
        if how > 0.9:
            return r.choice(["nowhere", "../nowhere/x", "."  if up else "f9"])
        return "../" * up + t if up or t else "."

    def op(self):
        r = self.r
        kind = r.choices("fdlhwox", [30, 10, 12, 16, 12, 4, 3])[0]
        if kind in "fdlx":
            comps = self.pick_name(FILES if kind != "d" else DIRS + DIRS + FILES)
            path = self.parents(comps)
            if path is None or path == "":
                return
            if kind == "f":
                n = r.choice([0, 1, 7, 511, 512, 513, 1500, r.randrange(4096),
                              r.randrange(70000)])
                self.add("f", comps, path, data=r.randbytes(n))
            elif kind == "d":
                self.add("d", comps, path)
            elif kind == "l":
                self.add("l", comps, path, target=self.symlink_target(path))
            else:
                self.add(r.choice("pcb"), comps, path)
        elif kind == "h":
            for _ in range(10):
                tgt = self.pick_name(FILES)
                tpath = self.resolve("/".join(tgt))
                if tpath and tpath in self.tree and self.tree[tpath].kind != "d":
                    break
            else:
                return
            comps = self.pick_name(FILES)
            path = self.parents(comps)
            # parents() may have replaced part of the target's path
            if (not path or self.resolve("/".join(tgt)) != tpath or tpath not in self.tree
                    or self.tree[tpath].kind == "d"
                    or path == tpath or tpath.startswith(path + "/")):
                return
            # umoci unlinks the old path before it resolves the target: the
            # target must not resolve through the path being replaced
            saved = {p: n for p, n in self.tree.items()
                     if p == path or p.startswith(path + "/")}
            self.remove(path)
            same = self.resolve("/".join(tgt)) == tpath
            self.tree.update(saved)
            if not same:
                return
            self.add("h", comps, path, link=self.style(tgt))
        elif kind == "w":
            cand = [p for p in sorted(self.tree) if p not in self.upper]
            noop = [p for p in sorted(self.tree)
                    if p in self.upper and p not in self.created and self.tree[p].kind == "d"
                    and all(c in self.upper for c in self.tree if c.startswith(p + "/"))]
            if noop and r.random() < 0.1:
                self.whiteout(r.choice(noop))
            elif cand:
                self.whiteout(r.choice(cand))
        elif kind == "o":
            dirs = [p for p in sorted(self.tree) if self.tree[p].kind == "d"]
            r.shuffle(dirs)
            if r.random() < 0.05:
                dirs.insert(0, "")          # the root
            for d in dirs:
                # umoci restamps an upper directory below the marker that
                # loses lower children: keep away from that
                under = [u for u in self.upper if u.startswith(d + "/" if d else "")
                         and self.tree.get(u) and self.tree[u].kind == "d"]
                if all(c in self.upper for u in under for c in self.children(u)):
                    self.whiteout(d, opaque=True)
                    return

    def layer(self, outdir, i):
        r = self.r
        self.fmt = r.choice(sorted(FORMATS))
        gz = r.random() < 0.5
        out = os.path.join(outdir, "%02d.tar%s" % (i, ".gz" if gz else ""))
        self.upper, self.created = set(), set()
        buf = io.BytesIO()
        self.lines.append("# layer %s format=%s gzip=%s" % (out, self.fmt, gz))
        with tarfile.open(fileobj=buf, mode="w", format=FORMATS[self.fmt]) as self.tar:
            if r.random() < 0.15:
                ti = tarfile.TarInfo("./")
                ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1000000000
                self.tar.addfile(ti)
                self.lines.append("d ./ (root)")
            for _ in range(r.choice([0, 3, 6, 10, 15, 20, 30]) if r.random() > 0.05 else 0):
                self.op()
        raw = buf.getvalue()
        with open(out, "wb") as f:
            f.write(gzip.compress(raw, mtime=0) if gz else raw)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("outdir")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    s = Stack(a.seed)
    names = []
    for i in range(s.r.randrange(2, 7)):
        names.append(s.layer(a.outdir, i + 1))
    with open(os.path.join(a.outdir, "stack.txt"), "w") as f:
        f.write("\n".join(s.lines) + "\n")
    print("\n".join(names))


main()
