#!/usr/bin/env python3
"""Build a test layer with Python's tarfile, an independent tar writer.

usage: mklayer.py [--format pax|gnu|ustar|v7] [--gzip] OUT < SPEC

SPEC has one member a line, words split like a shell's; '#' starts a comment:
  file NAME [data=TEXT | size=N]   regular file (size=N: N deterministic bytes)
  dir NAME
  symlink NAME TARGET
  hardlink NAME TARGET
  char NAME MAJOR MINOR | block NAME MAJOR MINOR | fifo NAME
  whiteout NAME                    the member DIR/.wh.BASE, an empty file
  opaque DIR                       the member DIR/.wh..wh..opq
  raw NAME TYPEFLAG [data=TEXT]    any typeflag, e.g. 'raw x 7 data=hi'
Options on any line: mode=0644 uid=0 gid=0 mtime=1000000000 uname= gname=
xattr.KEY=VALUE (pax SCHILY.xattr.KEY) pax.KEY=VALUE (any pax record).
Names are written exactly as given: '/x', './x' and 'x//y' stay as they are.
"""
import argparse, gzip, hashlib, io, shlex, sys, tarfile

DEFAULT_MTIME = 1000000000
FORMATS = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT,
           "ustar": tarfile.USTAR_FORMAT, "v7": tarfile.USTAR_FORMAT}


def payload(opts):
    if "data" in opts:
        return opts.pop("data").encode()
    if "size" in opts:
        n = int(opts.pop("size"))
        out, i = bytearray(), 0
        while len(out) < n:
            out += hashlib.sha256(str(i).encode()).digest()
            i += 1
        return bytes(out[:n])
    return b""


def member(words):
    kind, rest = words[0], words[1:]
    pos = [w for w in rest if "=" not in w]
    opts = dict(w.split("=", 1) for w in rest if "=" in w)
    ti = tarfile.TarInfo()
    data = None
    if kind == "file":
        ti.name, ti.type, data = pos[0], tarfile.REGTYPE, payload(opts)
    elif kind == "dir":
        ti.name, ti.type = pos[0], tarfile.DIRTYPE
    elif kind == "symlink":
        ti.name, ti.type, ti.linkname = pos[0], tarfile.SYMTYPE, pos[1]
    elif kind == "hardlink":
        ti.name, ti.type, ti.linkname = pos[0], tarfile.LNKTYPE, pos[1]
    elif kind in ("char", "block"):
        ti.name = pos[0]
        ti.type = tarfile.CHRTYPE if kind == "char" else tarfile.BLKTYPE
        ti.devmajor, ti.devminor = int(pos[1]), int(pos[2])
    elif kind == "fifo":
        ti.name, ti.type = pos[0], tarfile.FIFOTYPE
    elif kind == "whiteout":
        d, _, b = pos[0].rpartition("/")
        ti.name, ti.type, data = (d + "/" if d else "") + ".wh." + b, tarfile.REGTYPE, b""
    elif kind == "opaque":
        ti.name, ti.type, data = pos[0].rstrip("/") + "/.wh..wh..opq", tarfile.REGTYPE, b""
    elif kind == "raw":
        ti.name, ti.type, data = pos[0], pos[1].encode(), payload(opts)
    else:
        sys.exit("mklayer.py: unknown member kind %r" % kind)
    default_mode = {tarfile.DIRTYPE: 0o755, tarfile.SYMTYPE: 0o777}.get(ti.type, 0o644)
    ti.mode = int(opts.pop("mode", oct(default_mode)), 8)
    ti.uid = int(opts.pop("uid", 0))
    ti.gid = int(opts.pop("gid", 0))
    ti.mtime = int(opts.pop("mtime", DEFAULT_MTIME))
    ti.uname = opts.pop("uname", "")
    ti.gname = opts.pop("gname", "")
    pax = {}
    for k, v in opts.items():
        if k.startswith("xattr."):
            pax["SCHILY.xattr." + k[6:]] = v
        elif k.startswith("pax."):
            pax[k[4:]] = v
        else:
            sys.exit("mklayer.py: unknown option %r" % k)
    ti.pax_headers = pax
    if data is not None:
        ti.size = len(data)
        return ti, io.BytesIO(data)
    return ti, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--format", default="pax", choices=sorted(FORMATS))
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("out")
    a = ap.parse_args()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=FORMATS[a.format]) as tf:
        for line in sys.stdin:
            words = shlex.split(line, comments=True)
            if words:
                ti, f = member(words)
                tf.addfile(ti, f)
    raw = buf.getvalue()
    with open(a.out, "wb") as out:
        out.write(gzip.compress(raw, mtime=0) if a.gzip else raw)


main()
