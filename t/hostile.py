#!/usr/bin/env python3
"""Raw tar headers for the hostile-input tests (t0900-t0999, hostile-measure.sh).

Python's tarfile will not write most hostile shapes (a size field that lies,
65 chained extension headers, a pax record of a chosen length, names with
'..'), so this module builds the 512-byte blocks itself. Import it from a
test's inline Python (the tests run `PYTHONPATH=$TDIR python3 -S -`), or
run it:

  hostile.py million OUT [NFILES [NDIRS]]
      one layer of NFILES (1 000 000) empty files spread over NDIRS (1000)
      directories d0000/.. : "a layer of one million tiny entries"
  hostile.py paxjunk OUT NENT KIB
      NENT files, each after an 'x' header of about KIB KiB of junk records
  hostile.py globjunk OUT NG KIB NENT
      NG 'g' headers of about KIB KiB of junk records each (distinct keys
      per header), then NENT empty files
  hostile.py links OUT N
      one file t and N hardlinks l/000000.. to it
  hostile.py check TAR
      print what makes extracting TAR unsafe (absolute names, '..', names
      or hardlink targets through a symlink of TAR, hardlinks to nothing
      earlier, duplicate names); exit 1 if anything

Library:
  hdr(name, typ='0', size=0, ...) -> 512 bytes; size_field= puts raw bytes
      in the size field (a lie about the content that follows)
  rec(key, value) -> one pax record "LEN key=value\\n" (LEN computed)
  rec_exact(key, n) -> a record of exactly N bytes, key=xxx...
  junk(nbytes, tag) -> pax records of junk keys totalling exactly nbytes
  ext(typ, body, name) -> an extension header (x, g, L, K, ...) and its body
  member(name, typ='0', data=b'', **kw) -> header, data, padding
  pad(data) -> data padded to 512
  EOF -> two zero blocks
  num256(v, width) -> a base-256 number field
  Fast(f, typ) -> writes many headers fast (name and checksum patched
      into a template): .add(name), .flush()
  raw_members(tar) -> (name, typeflag, linkname) per member, raw
All names and values may be str (UTF-8) or bytes.
"""
import sys

BLOCK = 512
EOF = bytes(2 * BLOCK)
MTIME = 1000000000


def _b(s):
    return s.encode() if isinstance(s, str) else bytes(s)


def pad(data):
    data = _b(data)
    return data + bytes(-len(data) % BLOCK)


def octal(v, width):
    """WIDTH-1 octal digits and a NUL."""
    s = b"%0*o" % (width - 1, v)
    if len(s) > width - 1:
        raise ValueError("%d does not fit %d octal digits" % (v, width - 1))
    return s + b"\0"


def num256(v, width):
    """GNU base-256: high bit of the first byte set, big-endian value."""
    b = bytearray(v.to_bytes(width, "big"))
    if b[0] & 0x80:
        raise ValueError("%d does not fit base-256 in %d bytes" % (v, width))
    b[0] |= 0x80
    return bytes(b)


def num(v, width):
    return octal(v, width) if v < 8 ** (width - 1) else num256(v, width)


def checksum(b):
    b[148:156] = b" " * 8
    b[148:156] = b"%06o\0 " % sum(b)
    return b


def hdr(name, typ="0", size=0, linkname=b"", mode=None, uid=0, gid=0,
        mtime=MTIME, prefix=b"", gnu=False, size_field=None, devmajor=0,
        devminor=0, uname=b"", gname=b""):
    """One header block. NAME must fit 100 bytes (put longer ones in an L or x
    header); GNU=True writes the GNU magic 'ustar  \\0'."""
    name, linkname, prefix = _b(name), _b(linkname), _b(prefix)
    typ = _b(typ)
    if len(name) > 100 or len(linkname) > 100 or len(prefix) > 155:
        raise ValueError("field too long")
    if mode is None:
        mode = {b"5": 0o755, b"2": 0o777}.get(typ, 0o644)
    b = bytearray(BLOCK)
    b[0:len(name)] = name
    b[100:108] = octal(mode, 8)
    b[108:116] = num(uid, 8)
    b[116:124] = num(gid, 8)
    b[124:136] = size_field if size_field is not None else num(size, 12)
    b[136:148] = num(mtime, 12) if mtime >= 0 else num256(mtime % (1 << 95), 12)
    b[156:157] = typ
    b[157:157 + len(linkname)] = linkname
    b[257:265] = b"ustar  \0" if gnu else b"ustar\x0000"
    b[265:265 + len(_b(uname))] = _b(uname)
    b[297:297 + len(_b(gname))] = _b(gname)
    b[329:337] = octal(devmajor, 8)
    b[337:345] = octal(devminor, 8)
    if not gnu:
        b[345:345 + len(prefix)] = prefix
    return bytes(checksum(b))


def rec(key, value):
    """One pax record; the length counts itself."""
    body = b" " + _b(key) + b"=" + _b(value) + b"\n"
    n = len(body) + 1
    while len(str(n).encode()) + len(body) != n:
        n += 1
    return str(n).encode() + body


def rec_exact(key, n):
    """A pax record of exactly N bytes: key=xxx... with the value filling."""
    key = _b(key)
    v = n - len(str(n)) - len(key) - 3
    if v < 0:
        raise ValueError("record of %d bytes too short for key %r" % (n, key))
    return b"%d %s=%s\n" % (n, key, b"x" * v)


def junk(nbytes, tag="j"):
    """pax records of junk keys (tag.N=xxx...) totalling exactly NBYTES
    (NBYTES >= 64). Each record is at most ~60 KiB."""
    out = []
    total, i = 0, 0
    tag = _b(tag)
    while nbytes - total > 0:
        left = nbytes - total
        key = tag + b".%d" % i
        # a record of exactly n bytes: len(str(n)) + 1 + key + 1 + v + 1
        n = min(left, 60000)
        if left - n < 40:          # leave no tail too short for a record
            n = left if left <= 60000 else n - 40
        r = rec_exact(key, n)
        out.append(r)
        total += n
        i += 1
    return b"".join(out)


def ext(typ, body, name=b"././@LongLink", **kw):
    """An extension header carrying BODY (bytes), padded."""
    body = _b(body)
    typ = _b(typ)
    if name == b"././@LongLink" and typ in (b"x", b"g"):
        name = b"PaxHeaders/x"
    return hdr(name, typ, size=len(body), gnu=typ in (b"L", b"K"), **kw) + pad(body)


def member(name, typ="0", data=b"", **kw):
    data = _b(data)
    return hdr(name, typ, size=len(data), **kw) + pad(data)


class Fast:
    """Writes many headers quickly: a template header with the name and
    the checksum patched in (type, mode, size 0, mtime fixed)."""

    def __init__(self, f, typ="0"):
        self.f = f
        self.buf = []
        self.n = 0
        t = bytearray(hdr("", typ))
        t[148:156] = b" " * 8
        self.tmpl = bytes(t)
        self.base = sum(t)

    def add(self, name):
        name = _b(name)
        b = bytearray(self.tmpl)
        b[0:len(name)] = name
        b[148:155] = b"%06o\0" % (self.base + sum(name))
        self.buf.append(bytes(b))
        self.n += 1
        if len(self.buf) >= 8192:
            self.flush()

    def raw(self, data):
        self.buf.append(_b(data))

    def flush(self):
        self.f.write(b"".join(self.buf))
        self.buf = []


def cmd_million(out, nfiles=1000000, ndirs=1000):
    nfiles, ndirs = int(nfiles), int(ndirs)
    per = -(-nfiles // ndirs)
    with open(out, "wb") as f:
        d = Fast(f, "5")
        r = Fast(f, "0")
        n = 0
        for i in range(ndirs):
            d.add(b"d%04d/" % i)
            d.flush()
            for j in range(min(per, nfiles - n)):
                r.add(b"d%04d/f%06d" % (i, j))
            n += min(per, nfiles - n)
            r.flush()
        f.write(EOF)


def cmd_paxjunk(out, nent, kib):
    nent, kib = int(nent), int(kib)
    with open(out, "wb") as f:
        r = Fast(f)
        for i in range(nent):
            f.write(ext("x", junk(kib * 1024 - 64, "junk%d" % i)))
            r.add(b"f%06d" % i)
            r.flush()
        f.write(EOF)


def cmd_globjunk(out, ng, kib, nent):
    ng, kib, nent = int(ng), int(kib), int(nent)
    with open(out, "wb") as f:
        for i in range(ng):
            f.write(ext("g", junk(kib * 1024 - 64, "g%d" % i)))
        r = Fast(f)
        for i in range(nent):
            r.add(b"f%07d" % i)
        r.flush()
        f.write(EOF)


def cmd_links(out, n):
    n = int(n)
    with open(out, "wb") as f:
        f.write(member("t", data=b"target\n"))
        f.write(member("l/", "5"))
        lk = Fast(f, "1")
        lk.tmpl = bytearray(lk.tmpl)
        lk.tmpl[157:158] = b"t"
        lk.tmpl = bytes(lk.tmpl)
        lk.base += ord("t")
        for i in range(n):
            lk.add(b"l/%06d" % i)
        lk.flush()
        f.write(EOF)


def cmd_check(tarname):
    """Lists what makes an extraction unsafe in TARNAME: an absolute name or
    link target (hardlinks), a '..' component, a name or hardlink target
    that passes through a symlink of the archive, a hardlink whose target is
    not an earlier member, a name given twice. Reads the headers raw (pax
    path/linkpath, GNU L/K) so no reader's own cleaning hides anything."""
    bad = []
    seen, links = {}, set()
    for name, typ, link in raw_members(tarname):
        shown = name.decode("utf-8", "replace")
        for what, n in (("name", name), ("hardlink target", link if typ == b"1" else None)):
            if n is None:
                continue
            if n.startswith(b"/"):
                bad.append("%s: absolute %s" % (shown, what))
            comps = [c for c in n.split(b"/") if c not in (b"", b".")]
            if b".." in comps:
                bad.append("%s: '..' in %s" % (shown, what))
            for i in range(1, len(comps)):
                if b"/".join(comps[:i]) in links:
                    bad.append("%s: %s passes through symlink %s" %
                               (shown, what, b"/".join(comps[:i]).decode("utf-8", "replace")))
                    break
        key = b"/".join(c for c in name.split(b"/") if c not in (b"", b"."))
        if key in seen:
            bad.append("%s: given twice" % shown)
        if typ == b"1":
            t = b"/".join(c for c in link.split(b"/") if c not in (b"", b"."))
            if t not in seen:
                bad.append("%s: hardlink target %s not an earlier member" %
                           (shown, link.decode("utf-8", "replace")))
        seen[key] = typ
        if typ == b"2":
            links.add(key)
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


def raw_members(tarname):
    """(name, typeflag, linkname) of each member, extension headers folded
    in (x path/linkpath, g ignored for names, GNU L/K)."""
    with open(tarname, "rb") as f:
        longname = longlink = None
        pax = {}
        while True:
            h = f.read(BLOCK)
            if len(h) < BLOCK or h == bytes(BLOCK):
                return
            typ = h[156:157]
            sf = h[124:136]
            size = (int.from_bytes(sf[1:], "big") if sf[0] & 0x80
                    else int(sf.strip(b" \0") or b"0", 8))
            body = f.read(size + (-size % BLOCK))[:size] if typ in b"xgLK" else None
            if typ == b"x":
                i = 0
                while i < len(body):
                    sp = body.index(b" ", i)
                    n = int(body[i:sp])
                    k, _, v = body[sp + 1:i + n - 1].partition(b"=")
                    pax[k] = v
                    i += n
                continue
            if typ == b"g":
                continue
            if typ in (b"L", b"K"):
                v = body.split(b"\0", 1)[0]
                if typ == b"L":
                    longname = v
                else:
                    longlink = v
                continue
            name = h[0:100].split(b"\0", 1)[0]
            if h[257:263] == b"ustar\0" and h[345]:
                name = h[345:500].split(b"\0", 1)[0] + b"/" + name
            link = h[157:257].split(b"\0", 1)[0]
            name = pax.get(b"path", longname if longname is not None else name)
            link = pax.get(b"linkpath", longlink if longlink is not None else link)
            yield name, typ, link
            if typ in (b"0", b"\0", b"7"):
                f.seek(size + (-size % BLOCK), 1)
            longname = longlink = None
            pax = {}


if __name__ == "__main__":
    cmds = {"check": cmd_check, "million": cmd_million, "paxjunk": cmd_paxjunk,
            "globjunk": cmd_globjunk, "links": cmd_links}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
