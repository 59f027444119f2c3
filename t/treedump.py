#!/usr/bin/env python3
"""Print a directory tree as one line a path, sorted, for comparing trees.

usage: treedump.py [--fields LIST] DIR

Each line is  PATH TYPE MODE UID:GID MTIME DETAIL LINK XATTRS  (tab-separated):
TYPE is f d l c b p s; MODE four octal digits; DETAIL the size and sha256 of
a file, the target of a symlink, MAJOR,MINOR of a device, '-' otherwise;
LINK is '=' and the first path (in sorted order) that shares the inode, or
'-' for an inode with one name in the tree; XATTRS are key=hex pairs.
--fields picks columns from path,type,mode,owner,mtime,detail,link,xattr.
"""
import argparse, hashlib, os, stat, sys

ALL = "path,type,mode,owner,mtime,detail,link,xattr"


def kind(m):
    for test, c in ((stat.S_ISREG, "f"), (stat.S_ISDIR, "d"), (stat.S_ISLNK, "l"),
                    (stat.S_ISCHR, "c"), (stat.S_ISBLK, "b"), (stat.S_ISFIFO, "p"),
                    (stat.S_ISSOCK, "s")):
        if test(m):
            return c
    return "?"


def walk(top):
    out = []
    for d, dirs, files in os.walk(top):
        for n in dirs + files:
            full = os.path.join(d, n)
            out.append((os.path.relpath(full, top), full))
    return sorted(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fields", default=ALL)
    ap.add_argument("dir")
    a = ap.parse_args()
    fields = a.fields.split(",")
    paths = walk(a.dir)
    first = {}
    for rel, full in paths:
        st = os.lstat(full)
        first.setdefault((st.st_dev, st.st_ino), rel)
    for rel, full in paths:
        st = os.lstat(full)
        t = kind(st.st_mode)
        if t == "f":
            with open(full, "rb") as f:
                detail = "%d:%s" % (st.st_size, hashlib.sha256(f.read()).hexdigest()[:16])
        elif t == "l":
            detail = "->" + os.readlink(full)
        elif t in "cb":
            detail = "%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        else:
            detail = "-"
        link = "-"
        if t != "d" and st.st_nlink > 1:
            link = "=" + first[(st.st_dev, st.st_ino)]
        try:
            names = sorted(os.listxattr(full, follow_symlinks=False))
            xattr = ",".join("%s=%s" % (k, os.getxattr(full, k, follow_symlinks=False).hex())
                             for k in names if k != "security.selinux") or "-"
        except OSError:
            xattr = "-"
        col = {"path": rel, "type": t, "mode": "%04o" % stat.S_IMODE(st.st_mode),
               "owner": "%d:%d" % (st.st_uid, st.st_gid), "mtime": str(int(st.st_mtime)),
               "detail": detail, "link": link, "xattr": xattr}
        sys.stdout.write("\t".join(col[f] for f in fields) + "\n")


main()
