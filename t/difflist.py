#!/usr/bin/env python3
"""List a tar archive through one reader, in one normalised format.

usage: difflist.py gnu|bsd|py ARCHIVE

One line a member, in archive order:
  NAME TYPE MODE UID:GID UNAME:GNAME MTIME SIZE LINK
NAME without a trailing '/'; TYPE f d l h c b p (h = hardlink entry); MODE
four octal digits; UNAME:GNAME '-' when both are empty; MTIME exact seconds
('1234.5', '-3.25'); SIZE the size of a regular file, MAJOR,MINOR of a
device, '-' otherwise; LINK the target of a symlink or hardlink, else '-'.

  gnu: GNU tar -tv --full-time --utc, once with --numeric-owner for the ids
       and once without for the names
  bsd: libarchive: bsdtar -tv for names, types and link targets, bsdtar's
       mtree writer (bsdtar -cf - --format=mtree @ARCHIVE) for exact times,
       modes, ids, names and sizes
  py:  Python tarfile
Names must not hold spaces or non-printable bytes (the listings escape them).
"""
import calendar, re, subprocess, sys, tarfile, time
from decimal import Decimal

TYPES = {"-": "f", "d": "d", "l": "l", "h": "h", "c": "c", "b": "b", "p": "p"}


def modebits(s):
    """'-rwsr-x--T' -> 0o4754"""
    m = 0
    for i, (c, bit) in enumerate(zip(s[1:10], (0o400, 0o200, 0o100, 0o40, 0o20,
                                               0o10, 0o4, 0o2, 0o1))):
        if c in "rwxst":
            m |= bit
        if i == 2 and c in "sS":
            m |= 0o4000
        if i == 5 and c in "sS":
            m |= 0o2000
        if i == 8 and c in "tT":
            m |= 0o1000
    return m


def dec(s):
    d = Decimal(s)
    return format(d.normalize(), "f") if d != d.to_integral() else str(int(d))


def line(name, typ, mode, uid, gid, uname, gname, mtime, size, link):
    name = name.rstrip("/") if name != "/" else name
    if name.startswith("./"):
        name = name[2:]
    names = "%s:%s" % (uname, gname) if uname or gname else "-"
    return "%s %s %04o %d:%d %s %s %s %s" % (name, typ, mode, uid, gid, names, mtime,
                                           size, link or "-")


def run(*cmd):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout.decode()


def split_name(rest, typ):
    if typ == "l":
        name, _, link = rest.partition(" -> ")
    elif typ == "h":
        name, _, link = rest.partition(" link to ")
    else:
        name, link = rest, ""
    return name, link


def gnu(path):
    base = ["tar", "--full-time", "--utc", "-tvf", path]
    num = run(*base[:1], "--numeric-owner", *base[1:]).splitlines()
    nam = run(*base).splitlines()
    for a, b in zip(num, nam):
        mode, ids, size, day, tod, rest = a.split(None, 5)
        owner = b.split(None, 2)[1]
        typ = TYPES[mode[0]]
        name, link = split_name(rest, typ)
        uid, gid = (int(x) for x in ids.split("/"))
        un, gn = owner.split("/")
        un = "" if un == str(uid) else un
        gn = "" if gn == str(gid) else gn
        hms, _, frac = tod.partition(".")
        secs = calendar.timegm(time.strptime(day + " " + hms, "%Y-%m-%d %H:%M:%S"))
        mtime = dec(Decimal(secs) + (Decimal("0." + frac) if frac else 0))
        if typ == "f":
            sz = size
        elif typ in "cb":
            sz = size
        else:
            sz = "-"
        yield line(name, typ, modebits(mode), uid, gid, un, gn, mtime, sz, link)


MTREE_ESC = re.compile(r"\\([0-7]{3})")


def bsd(path):
    tv = run("bsdtar", "-tvf", path).splitlines()
    mt = [l for l in run("bsdtar", "-cf", "-", "--format=mtree",
                         "--options=mtree:all", "@" + path).splitlines()
          if l and not l.startswith("#") and not l.startswith(("/set", "/unset"))]
    # the mtree writer reorders members (files before subdirectories): match
    # its lines to bsdtar -tv's by name
    attrs = {}
    for b in mt:
        words = b.split()
        mname = MTREE_ESC.sub(lambda m: chr(int(m.group(1), 8)), words[0])
        mname = mname[2:] if mname.startswith("./") else mname
        attrs[mname] = dict(w.split("=", 1) for w in words[1:] if "=" in w)
    if len(tv) != len(mt) or len(attrs) != len(mt):
        sys.exit("difflist.py: bsdtar -tv lists %d members, mtree %d (%d names)"
                 % (len(tv), len(mt), len(attrs)))
    for a in tv:
        f = a.split(None, 8)
        typ = TYPES[f[0][0]]
        name, link = split_name(f[8], typ)
        key = name.rstrip("/")
        key = key[2:] if key.startswith("./") else key
        if key not in attrs:
            sys.exit("difflist.py: bsdtar -tv lists %r, mtree does not" % name)
        kv = attrs[key]
        sec, _, nsec = kv["time"].partition(".")
        # libarchive writes time=SEC.NSEC with NSEC an unpadded count
        mtime = dec(Decimal(sec) + Decimal(int(nsec or 0)) / Decimal(10 ** 9))
        if typ == "f":
            sz = kv.get("size", "0")
        elif typ in "cb":
            dev = kv["device"].split(",")
            sz = "%s,%s" % (dev[1], dev[2])
        else:
            sz = "-"
        yield line(name, typ, int(kv["mode"], 8), int(kv["uid"]), int(kv["gid"]),
                   kv.get("uname", ""), kv.get("gname", ""), mtime, sz, link)


def py(path):
    kinds = {tarfile.REGTYPE: "f", tarfile.AREGTYPE: "f", tarfile.CONTTYPE: "f",
             tarfile.DIRTYPE: "d", tarfile.SYMTYPE: "l", tarfile.LNKTYPE: "h",
             tarfile.CHRTYPE: "c", tarfile.BLKTYPE: "b", tarfile.FIFOTYPE: "p"}
    with tarfile.open(path) as tf:
        for m in tf:
            typ = kinds[m.type]
            sz = str(m.size) if typ == "f" else (
                "%d,%d" % (m.devmajor, m.devminor) if typ in "cb" else "-")
            yield line(m.name, typ, m.mode, m.uid, m.gid, m.uname, m.gname,
                       dec(repr(m.mtime)), sz, m.linkname if typ in "lh" else "")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("gnu", "bsd", "py"):
        sys.exit(__doc__)
    for l in {"gnu": gnu, "bsd": bsd, "py": py}[sys.argv[1]](sys.argv[2]):
        print(l)


main()
