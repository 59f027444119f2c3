#!/usr/bin/env python3
"""List a tree the way t/initwalk.c lists the kernel's, for comparing them.

usage: treelist.py [--skip PATH]... DIR
       treelist.py --console LOG

The first form walks DIR (a tree extracted on the host); the second reads
what t/initwalk.c printed on the console of a boot (the lines between its
'@@initwalk BEGIN' and '@@initwalk END COUNT SUM' markers), checks the count
and the sum, and fails on a missing END, a mismatch or an '@@initwalk ERROR'
line. Both print the same listing, one line a path:

  PATH TYPE MODE UID:GID MTIME SIZE HASH TARGET RDEV NLINK GROUP

in depth-first order (the root not listed; the names of each directory
sorted bytewise; a directory before what it holds). PATH is relative, every
byte outside '!'..'~' and the backslash written \\xHH (TARGET too). TYPE is
f d l c b p s; MODE four octal digits (setuid, setgid, sticky included);
MTIME whole seconds; SIZE the size of a file or symlink; HASH the first 16
hex digits of a file's sha256; TARGET '->' and a symlink's target; RDEV
MAJOR,MINOR; NLINK the link count of anything but a directory; GROUP '='
and the first listed path with the same inode when the listing holds two or
more of its names, '-' otherwise. A field that does not apply is '-'.
--skip leaves out a path (relative to DIR) and everything under it.
"""
import argparse, hashlib, os, stat, sys

BEGIN = b"@@initwalk BEGIN"
END = b"@@initwalk END "
ERROR = b"@@initwalk ERROR "


def escape(b):
    return "".join(chr(c) if 0x20 < c <= 0x7e and c != 0x5c else "\\x%02x" % c
                   for c in b)


def kind(m):
    for test, c in ((stat.S_ISREG, "f"), (stat.S_ISDIR, "d"), (stat.S_ISLNK, "l"),
                    (stat.S_ISCHR, "c"), (stat.S_ISBLK, "b"), (stat.S_ISFIFO, "p"),
                    (stat.S_ISSOCK, "s")):
        if test(m):
            return c
    return "?"


def file_hash(name, dirfd):
    h = hashlib.sha256()
    with open(os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dirfd), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def raw_line(rel, name, dirfd):
    """The fields t/initwalk.c prints for one path, its inode last."""
    st = os.lstat(name, dir_fd=dirfd)
    t = kind(st.st_mode)
    size, digest, target, rdev, nlink, ino = "-", "-", "-", "-", "-", "-"
    if t == "f":
        size, digest = str(st.st_size), file_hash(name, dirfd)
    elif t == "l":
        size, target = str(st.st_size), "->" + escape(os.readlink(name, dir_fd=dirfd))
    if t in "cb":
        rdev = "%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    if t != "d":
        nlink, ino = str(st.st_nlink), "%d:%d" % (st.st_dev, st.st_ino)
    return [escape(rel), t, "%04o" % (st.st_mode & 0o7777),
            "%d:%d" % (st.st_uid, st.st_gid), str(st.st_mtime_ns // 10**9),
            size, digest, target, rdev, nlink, ino], t == "d"


def walk(dirfd, rel, skip, out):
    """Depth-first from directory dirfd (path rel), names opened relative to
    their directory as t/initwalk.c does, so no path length limits the walk."""
    for name in sorted(os.fsencode(n) for n in os.listdir(dirfd)):
        r = rel + b"/" + name if rel else name
        if r in skip:
            continue
        line, is_dir = raw_line(r, name, dirfd)
        out.append(line)
        if is_dir:
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dirfd)
            try:
                walk(sub, r, skip, out)
            finally:
                os.close(sub)
    return out


def from_console(log):
    """The raw lines of the last walk in a console log; exits on damage."""
    with open(log, "rb") as f:
        lines = f.read().split(b"\n")
    begins = [i for i, ln in enumerate(lines) if ln.rstrip(b"\r") == BEGIN]
    if not begins:
        sys.exit("treelist.py: %s: no '@@initwalk BEGIN'" % log)
    body, sum_, end = [], hashlib.sha256(), None
    for ln in lines[begins[-1] + 1:]:
        if ln.startswith(END):
            end = ln.rstrip(b"\r")[len(END):].split()
            break
        if ln.startswith(ERROR):
            sys.exit("treelist.py: %s: %s" % (log, ln.decode("ascii", "replace")))
        sum_.update(ln + b"\n")
        body.append(ln)
    if end is None:
        sys.exit("treelist.py: %s: no '@@initwalk END' (the walk was cut short)" % log)
    if int(end[0]) != len(body) or end[1].decode() != sum_.hexdigest()[:16]:
        sys.exit("treelist.py: %s: %d lines, sum %s; END says %s lines, sum %s"
                 % (log, len(body), sum_.hexdigest()[:16], end[0].decode(),
                    end[1].decode()))
    out = []
    for ln in body:
        f = ln.decode("ascii").split(" ")
        if f[0] != "P" or len(f) != 12:
            sys.exit("treelist.py: %s: not a listing line: %r" % (log, ln))
        out.append(f[1:])
    return out


def groups(raw):
    """Replace each raw line's inode by its group: '=FIRST' or '-'."""
    first, count = {}, {}
    for f in raw:
        if f[-1] != "-":
            first.setdefault(f[-1], f[0])
            count[f[-1]] = count.get(f[-1], 0) + 1
    for f in raw:
        ino = f[-1]
        f[-1] = "=" + first[ino] if ino != "-" and count[ino] > 1 else "-"
    return raw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip", action="append", default=[])
    ap.add_argument("--console", action="store_true")
    ap.add_argument("src")
    a = ap.parse_args()
    if a.console:
        raw = from_console(a.src)
    else:
        skip = {os.fsencode(p).strip(b"/") for p in a.skip}
        top = os.open(a.src, os.O_RDONLY | os.O_DIRECTORY)
        raw = walk(top, b"", skip, [])
    out = sys.stdout
    for f in groups(raw):
        out.write(" ".join(f) + "\n")


if __name__ == "__main__":
    main()
