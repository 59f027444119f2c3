#!/usr/bin/env python3
"""List owners and times of tarflat's output, for t0870 (rewriting).

usage: rwlist.py TAR
       rwlist.py --expect [--owner N] [--group N] [--numeric-owner]
                 [--mtime T [--clamp]] TAR
       rwlist.py --brief FILE

The first form prints one line a member of TAR (Python tarfile):
  NAME TYPE MODE uid=UID gid=GID u=UNAME g=GNAME mtime=MTIME LINK SIZE:SHA DEV PAX
MTIME is the member's pax mtime record as written (a fraction kept) or the
header's; PAX the member's other pax records, sorted, but for those the
other columns show (path, linkpath, mtime, uid, gid, uname, gname, size).

--expect prints what the first form must print for tarflat's output with
the rewriting options, from TAR, the output without them.  The rules
(rewrite.h, GNU tar's): --owner/--group set the id and empty the name,
--numeric-owner empties both names; --mtime T sets every mtime to T, and
an atime or ctime record to T; with --clamp only a time later than T (a
fraction counts: T.5 is later than T) is set to T, the others stay as
they are written.

--brief prints "NAME UID/GID MTIME" a member (MTIME in whole seconds, the
floor), from a tar, a newc cpio (magic 070701, parsed here) or the text
of tarflat -t, so that the three can be compared.
"""
import calendar, hashlib, sys, tarfile, time
from decimal import Decimal

SHOWN = {"path", "linkpath", "mtime", "uid", "gid", "uname", "gname", "size"}
TIMES = ("mtime", "atime", "ctime")


def members(fn):
    with tarfile.open(fn) as tf:
        for m in tf:
            data = tf.extractfile(m).read() if m.isreg() else b""
            yield m, data


def mtime_of(m):
    return m.pax_headers.get("mtime", str(int(m.mtime)))


def line(m, data, uid, gid, uname, gname, mtime, pax):
    dev = "%d,%d" % (m.devmajor, m.devminor) if m.ischr() or m.isblk() else "-"
    recs = " ".join("%s=%s" % kv for kv in sorted(pax.items()) if kv[0] not in SHOWN)
    return "%s %s %04o uid=%d gid=%d u=%s g=%s mtime=%s %s %d:%s %s %s" % (
        m.name, m.type.decode(), m.mode, uid, gid, uname, gname, mtime,
        m.linkname or "-", len(data), hashlib.sha256(data).hexdigest()[:12], dev,
        recs or "-")


def plain(fn):
    for m, data in members(fn):
        print(line(m, data, m.uid, m.gid, m.uname, m.gname, mtime_of(m), m.pax_headers))


def expect(args):
    owner = group = mtime = None
    numeric = clamp = False
    while len(args) > 1:
        a = args.pop(0)
        if a == "--owner":
            owner = int(args.pop(0))
        elif a == "--group":
            group = int(args.pop(0))
        elif a == "--numeric-owner":
            numeric = True
        elif a == "--mtime":
            mtime = int(args.pop(0))
        elif a == "--clamp":
            clamp = True
        else:
            sys.exit("rwlist.py: unknown option " + a)

    def new_time(v):
        if mtime is None or (clamp and Decimal(v) <= mtime):
            return v
        return str(mtime)

    for m, data in members(args[0]):
        uid = m.uid if owner is None else owner
        gid = m.gid if group is None else group
        uname = "" if owner is not None or numeric else m.uname
        gname = "" if group is not None or numeric else m.gname
        pax = dict(m.pax_headers)
        for k in ("atime", "ctime"):
            if k in pax:
                pax[k] = new_time(pax[k])
        print(line(m, data, uid, gid, uname, gname, new_time(mtime_of(m)), pax))


def newc(raw):
    """The members of a newc archive: (name, uid, gid, mtime)."""
    at = 0
    while True:
        if raw[at:at + 6] != b"070701":
            sys.exit("rwlist.py: no newc header at offset %d" % at)
        f = [int(raw[at + 6 + 8 * i:at + 14 + 8 * i], 16) for i in range(13)]
        size, namesize = f[6], f[11]
        name = raw[at + 110:at + 110 + namesize - 1].decode("utf-8", "surrogateescape")
        at += 110 + namesize
        at += -at % 4
        if name == "TRAILER!!!":
            return
        yield name, f[2], f[3], f[5]
        at += size
        at += -at % 4


def listing(text):
    """The lines of tarflat -t: (name, uid, gid, mtime)."""
    for l in text.splitlines():
        w = l.split(" ")
        w = [x for x in w if x]
        uid, gid = (int(x) for x in w[1].split("/"))
        t = calendar.timegm(time.strptime(w[3] + " " + w[4], "%Y-%m-%d %H:%M:%S"))
        name = " ".join(w[6:]).split(" -> ")[0].split(" link to ")[0].rstrip("/")
        yield name, uid, gid, t


def brief(fn):
    raw = open(fn, "rb").read()
    if raw[:6] == b"070701":
        rows = newc(raw)
    elif tarfile.is_tarfile(fn):
        rows = ((m.name, m.uid, m.gid, int(Decimal(mtime_of(m)).to_integral_value("ROUND_FLOOR")))
                for m, _ in members(fn))
    else:
        rows = listing(raw.decode("utf-8", "surrogateescape"))
    for name, uid, gid, t in rows:
        print("%s %d/%d %d" % (name, uid, gid, t))


def main():
    a = sys.argv[1:]
    if a[:1] == ["--expect"]:
        expect(a[1:])
    elif a[:1] == ["--brief"] and len(a) == 2:
        brief(a[1])
    elif len(a) == 1:
        plain(a[0])
    else:
        sys.exit(__doc__)


main()
