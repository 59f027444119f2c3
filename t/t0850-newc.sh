#!/bin/bash
# --format newc (issue 15; newc.h has the rules) read by programs written
# apart from tarflat, and byte by byte.
#  - Readers (as root): tarflat's newc output extracted by GNU cpio (cpio
#    -idm --no-absolute-filenames) and by bsdtar (-xpf), each without a
#    word on stderr, gives the tree GNU tar extracts (--numeric-owner) from
#    tarflat's tar output of the same input: paths, types, bytes, modes
#    with setuid/setgid/sticky, owners, mtimes, hardlink groups, devices,
#    fifos, symlinks (t/treedump.py; t/treelist.py for names past what a
#    full path can reach). What newc or the reader cannot do is accounted
#    for path by path and counted on a '#' line, never masked wholesale:
#    newc holds no xattrs or ACLs; a hardlinked symlink comes out as
#    separate symlinks (the kernel links no symlink, newc.h); GNU cpio 2.13
#    sets no symlink's mtime, and sets a directory's mtime when it makes it,
#    before what goes in it, so a directory that holds anything keeps the
#    time of the extraction (accepted only as a time at or after the
#    extraction began). On named stacks (hardlink groups across layers, the
#    go-containerregistry #977 case, whiteouts, opaque directories, setgid
#    parents, devices, names up to 4095 bytes, empty and sparse files,
#    xattrs, odd names, owners and times), the images of t0450 (t/mkimage.py)
#    and random stacks of t/genstack.py and t/wildstack.py (as t0510/t0520
#    use them). A random stack whose tar output is refused must be refused
#    alike in newc (status, message, no byte). A stack with an mtime newc
#    cannot hold (genstack writes them below 0 and up to 2^33) must be
#    refused naming a path whose mtime is out of range (Python's tarfile
#    reads the tar output), and is then compared with --mtime=@1000000000
#    given to both outputs.
#  - Bytes: newc.py, a parser written here, checks every archive of the test
#    (magic 070701, 13 fields of eight hex digits, namesize counting the NUL,
#    header and name padded to 4 with zeros, content padded to 4, check 0,
#    directories before their contents, the names of one ino a hardlink
#    group with nlink the number of names written, the same metadata and
#    the content on the first name, TRAILER!!! last with nlink 1) and lists
#    a small stack field by field, also cut by --path and --exclude. It is
#    shown to refuse archives that break each rule.
#  - Refusals: a file of 4 GiB or more (plain, and sparse), a uid or gid of
#    2^32 or more, an mtime below 0 or of 2^32 or more: exit 1, nothing
#    written (nor with -o), the path named; 2^32 - 1 passes, and --mtime=@0
#    makes the mtimes pass.
#  - xattrs and ACLs (SCHILY.xattr, LIBARCHIVE.xattr, SCHILY.acl, GNU tar's
#    RHT.security.selinux): one warning counting the entries that lose them
#    and naming the first three, exit 0.
#  - -t gives the same bytes with and without --format newc; --owner,
#    --group, --mtime and --clamp-mtime give newc what they give tar, on
#    every name of a hardlink group.
#
#   TARFLAT_NEWC_STACKS=N   random stacks of each generator (default 16)
#   TARFLAT_NEWC_FIRST=S    first seed (default 1): seeds S .. S+N-1
#   TARFLAT_NEWC_JOBS=J     inputs checked at once (default: nproc)
#
# A failing input keeps its work directory, t/trash/t0850-newc/c/NAME
# (out.tar, out.cpio, the trees x/G (GNU tar), x/C (cpio), x/B (bsdtar),
# their listing x.lst, cpio.res, bsdtar.res and log); reproduce a random
# stack with  python3 t/genstack.py --seed SEED DIR  (or t/wildstack.py).
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
need tar

N=${TARFLAT_NEWC_STACKS:-16}
FIRST=${TARFLAT_NEWC_FIRST:-1}
JOBS=${TARFLAT_NEWC_JOBS:-$(nproc 2>/dev/null || echo 2)}

# ---- newc.py: the parser ----------------------------------------------------

cat >newc.py <<'PY'
"""newc.py ARCHIVE: check a newc archive and list it, one line an entry in
archive order:  NAME TYPE MODE UID:GID MTIME NLINK GROUP DETAIL
TYPE f d l c b p s; MODE four octal digits; NLINK '-' for a directory;
GROUP '=' and the first name of the entries sharing its ino when there are
several, else '-'; DETAIL SIZE:SHA16 of a file's content, '->' and a
symlink's content, MAJOR,MINOR of a device, else '-'. Names are written
with bytes outside '!'..'~' and the backslash as \\xHH. Any damage or
broken rule exits 1 naming the offset."""
import hashlib, sys

FIELDS = ("ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor",
          "devminor", "rdevmajor", "rdevminor", "namesize", "check")
HEX = set(b"0123456789abcdefABCDEF")
TYPES = {0o100000: "f", 0o040000: "d", 0o120000: "l", 0o020000: "c",
         0o060000: "b", 0o010000: "p", 0o140000: "s"}


def bad(off, msg):
    sys.exit("newc.py: %s: offset %d: %s" % (sys.argv[1], off, msg))


def esc(b):
    return "".join(chr(c) if 0x20 < c <= 0x7e and c != 0x5c else "\\x%02x" % c for c in b)


def padded(b, pos):
    """POS moved on to a multiple of 4 over zero bytes."""
    end = pos + (-pos % 4)
    if end > len(b) or b[pos:end] != bytes(end - pos):
        bad(pos, "padding not %d zero bytes" % (end - pos))
    return end


def parse(b):
    pos, ents = 0, []
    while True:
        if pos + 110 > len(b):
            bad(pos, "the archive ends without TRAILER!!!")
        h, f = b[pos:pos + 110], {"off": pos}
        if h[:6] != b"070701":
            bad(pos, "magic %r" % h[:6])
        for i, k in enumerate(FIELDS):
            s = h[6 + 8 * i:14 + 8 * i]
            if not set(s) <= HEX:
                bad(pos, "field %s is %r" % (k, s))
            f[k] = int(s, 16)
        if f["check"] != 0:
            bad(pos, "check %d" % f["check"])
        ns = f["namesize"]
        name = b[pos + 110:pos + 110 + ns]
        if ns < 2 or len(name) != ns or name[-1] != 0 or 0 in name[:-1]:
            bad(pos, "namesize %d does not count the name and its NUL" % ns)
        at = padded(b, pos + 110 + ns)
        data = b[at:at + f["filesize"]]
        if len(data) != f["filesize"]:
            bad(at, "content cut short")
        pos = padded(b, at + f["filesize"])
        if name[:-1] == b"TRAILER!!!":
            if f["nlink"] != 1 or f["filesize"] != 0:
                bad(f["off"], "TRAILER!!! with nlink %d, size %d" % (f["nlink"], f["filesize"]))
            if b[pos:].strip(b"\0"):
                bad(pos, "bytes after TRAILER!!!")
            return ents
        ents.append((name[:-1], f, data))


def check(ents):
    seen, inos = {}, {}
    for name, f, data in ents:
        off, t = f["off"], TYPES.get(f["mode"] & 0o170000)
        f["type"] = t
        if t is None:
            bad(off, "file type %06o" % f["mode"])
        parts = name.split(b"/")
        if name.startswith(b"/") or any(p in (b"", b".", b"..") for p in parts):
            bad(off, "name %r" % name)
        if name in seen:
            bad(off, "%r written twice" % name)
        parent = name.rpartition(b"/")[0]
        if parent and seen.get(parent) != "d":
            bad(off, "%r comes before its directory" % name)
        seen[name] = t
        if f["devmajor"] or f["devminor"]:
            bad(off, "devmajor/devminor %d,%d" % (f["devmajor"], f["devminor"]))
        if t not in "cb" and (f["rdevmajor"] or f["rdevminor"]):
            bad(off, "rdev on a %s" % t)
        if t in "dcbps" and f["filesize"]:
            bad(off, "content on a %s" % t)
        if t == "l" and (not data or 0 in data):
            bad(off, "symlink target %r" % data)
        inos.setdefault(f["ino"], []).append((name, f))
    for names in inos.values():
        name, first = names[0]
        if len(names) == 1:
            if first["type"] != "d" and first["nlink"] != 1:
                bad(first["off"], "%r: nlink %d, the only name with its ino"
                    % (name, first["nlink"]))
            continue
        for n, f in names:
            if f["type"] in "dl":
                bad(f["off"], "%r: a %s, one of %d names of ino %d"
                    % (n, f["type"], len(names), f["ino"]))
            for k in ("mode", "uid", "gid", "mtime", "nlink", "rdevmajor", "rdevminor"):
                if f[k] != first[k]:
                    bad(f["off"], "%r: %s %#o, %r has %#o" % (n, k, f[k], name, first[k]))
            if f is not first and f["filesize"]:
                bad(f["off"], "%r: content on a name after %r" % (n, name))
        if first["nlink"] != len(names):
            bad(first["off"], "%r: nlink %d, %d names" % (name, first["nlink"], len(names)))
        for n, f in names:
            f["group"] = "=" + esc(name)


def main():
    ents = parse(open(sys.argv[1], "rb").read())
    check(ents)
    out = []
    for name, f, data in ents:
        t = f["type"]
        detail = ("%d:%s" % (len(data), hashlib.sha256(data).hexdigest()[:16]) if t == "f"
                  else "->" + esc(data) if t == "l"
                  else "%d,%d" % (f["rdevmajor"], f["rdevminor"]) if t in "cb" else "-")
        out.append("%s %s %04o %d:%d %d %s %s %s" % (
            esc(name), t, f["mode"] & 0o7777, f["uid"], f["gid"], f["mtime"],
            "-" if t == "d" else f["nlink"], f.get("group", "-"), detail))
    sys.stdout.write("".join(x + "\n" for x in out))


main()
PY

newc_ls() {
	$PY "$T/newc.py" "$@"
}

# ---- the bytes of a small stack ----------------------------------------------

# padding of every length: header and name end 110 + namesize (the name
# and its NUL) bytes in, so names of 1, 3, 4 and 6 bytes ("d", "d/a",
# "e/s1", "d/pad1") take 0, 2, 1 and 3 bytes of it; contents of 4, 5, 2, 3
# bytes ("kept", "hello", "su", "abc") take 0, 3, 2 and 1
mklayer b1.tar <<'EOF'
dir d mode=0750 uid=1 gid=2 mtime=10
file d/a data=hello mode=0640 uid=7 gid=8 mtime=11
hardlink d/b d/a
file d/pad1 data=x mtime=12
file d/pad3 data=abc mtime=13
file d/empty mtime=14
symlink d/s ../e/c mtime=15
char d/null 1 3 mode=0666 mtime=16
block d/sda 8 1 mode=0660 gid=6 mtime=17
block d/max 4095 1048575 mode=0600 mtime=18
fifo d/p mode=0600 uid=3 mtime=19
file d/suid data=su mode=6755 uid=4294967295 gid=4294967295 mtime=4294967295
dir e mode=3775 gid=50 mtime=20
hardlink e/c d/a
fifo e/f1 mode=0604 mtime=21
hardlink e/f2 e/f1
symlink e/s1 x mtime=22
hardlink e/s2 e/s1
char e/tty 5 0 mode=0620 gid=5 mtime=23
hardlink e/tty2 e/tty
EOF
# a name of the group added by a later layer, and a name of another group
# whose carrier a later layer deletes
mklayer b2.tar <<'EOF'
hardlink e/z d/a
dir g mtime=30
file g/keep data=kept mtime=31
hardlink g/link g/keep
file g/zz data=z mtime=32
EOF
mklayer b3.tar <<'EOF'
whiteout g/keep
EOF
E=$(h '')
if "$TARFLAT" --format newc b1.tar b2.tar b3.tar >b.cpio 2>b.err; then
	newc_ls b.cpio >b.lst 2>b.lerr || sed 's/^/# /' b.lerr
else
	sed 's/^/# /' b.err
	: >b.lst
fi
is "bytes: every field of every entry, in archive order" "$(cat b.lst)" "$(cat <<EOF
d d 0750 1:2 10 - - -
d/a f 0640 7:8 11 4 =d/a $(h hello)
d/b f 0640 7:8 11 4 =d/a $E
d/pad1 f 0644 0:0 12 1 - $(h x)
d/pad3 f 0644 0:0 13 1 - $(h abc)
d/empty f 0644 0:0 14 1 - $E
d/s l 0777 0:0 15 1 - ->../e/c
d/null c 0666 0:0 16 1 - 1,3
d/sda b 0660 0:6 17 1 - 8,1
d/max b 0600 0:0 18 1 - 4095,1048575
d/p p 0600 3:0 19 1 - -
d/suid f 6755 4294967295:4294967295 4294967295 1 - $(h su)
e d 3775 0:50 20 - - -
e/c f 0640 7:8 11 4 =d/a $E
e/f1 p 0604 0:0 21 2 =e/f1 -
e/f2 p 0604 0:0 21 2 =e/f1 -
e/s1 l 0777 0:0 22 1 - ->x
e/s2 l 0777 0:0 22 1 - ->x
e/tty c 0620 0:5 23 2 =e/tty 5,0
e/tty2 c 0620 0:5 23 2 =e/tty 5,0
e/z f 0640 7:8 11 4 =d/a $E
g d 0755 0:0 30 - - -
g/link f 0644 0:0 31 1 - $(h kept)
g/zz f 0644 0:0 32 1 - $(h z)
EOF
)"
# TRAILER!!!: nlink 1, namesize 11, every other field 0, padded to 124
# bytes, the last of the archive
is "bytes: TRAILER!!! ends the archive: nlink 1, namesize 11, the rest 0" \
	"$(tail -c 124 b.cpio | od -An -c | tr -s ' \n' ' ')" \
	"$({ printf '070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x' \
		0 0 0 0 1 0 0 0 0 0 0 11 0; printf 'TRAILER!!!\0\0\0\0'; } | od -An -c | tr -s ' \n' ' ')"

# the parser fails where it should: each archive below (written by
# lib-qemu.sh's newc_write) breaks one rule
. "$TDIR/lib-qemu.sh"
broken() { # DESC < SPEC: newc.py must refuse the archive
	newc_write bad.cpio && ! newc_ls bad.cpio >/dev/null 2>bad.err
	_report $? "bytes: (the parser) refuses $1" || sed 's/^/# /' bad.err
}
newc_write good.cpio <<'EOF'
dir h
file h/a ino=100 nlink=2 data=x mode=0600
file h/b ino=100 nlink=2 size=0 mode=0600
EOF
is "bytes: (the parser) takes an archive with a hardlink group" "$(newc_ls good.cpio 2>&1)" \
	"$(printf '%s\n' 'h d 0755 0:0 0 - - -' "h/a f 0600 0:0 0 2 =h/a $(h x)" \
		"h/b f 0600 0:0 0 2 =h/a $E")"
broken "content on a later name" <<'EOF'
dir h
file h/a ino=100 nlink=2 size=0
file h/b ino=100 nlink=2 data=x
EOF
broken "an nlink that is not the number of names" <<'EOF'
dir h
file h/a ino=100 nlink=3 data=x
file h/b ino=100 nlink=3 size=0
EOF
broken "nlink 2 on a name alone" <<'EOF'
file a nlink=2 data=x
EOF
broken "names of one inode that disagree on the mode" <<'EOF'
file a ino=100 nlink=2 data=x mode=0600
file b ino=100 nlink=2 size=0 mode=0644
EOF
broken "a symlink sharing an inode" <<'EOF'
symlink a ino=100 nlink=2 data=t
symlink b ino=100 nlink=2 data=t
EOF
broken "a name before its directory" <<'EOF'
file h/a data=x
dir h
EOF
broken "a name twice" <<'EOF'
file a data=x
file a data=y
EOF
# and damage to the framing of b.cpio
damage() { # DESC PYTHON-ON-b
	$PY - "$2" <<'PY'
import sys
b = bytearray(open("b.cpio", "rb").read())
exec(sys.argv[1])
open("bad.cpio", "wb").write(b)
PY
	! newc_ls bad.cpio >/dev/null 2>bad.err
	_report $? "bytes: (the parser) refuses $1" || sed 's/^/# /' bad.err
}
damage "a bad magic" 'b[5] = ord("2")'
damage "a field that is not hex" 'b[20] = ord("g")'
damage "a namesize without the NUL" 'b[101] = ord("1")'
damage "name padding that is not zeros" 'i = b.index(b"d/a\0") + 4; b[i] = 1'
damage "content padding that is not zeros" 'i = b.index(b"hello") + 5; b[i] = 1'
damage "a check field that is not 0" 'b[109] = ord("1")'
damage "bytes after the trailer" 'b += b"x"'
damage "a missing trailer" 'del b[-124:]'

# --path and --exclude leave names out: nlink counts the names written, the
# first written carries the content
group_of() { # LISTING: the lines of the names of d/a's group
	grep -E '^(d/a|d/b|e/c|e/z) ' "$1"
}
cut_case() { # DESC OPTION... ; the wanted lines on stdin
	_cd=$1; shift
	_want=$(cat)
	if "$TARFLAT" --format newc "$@" b1.tar b2.tar b3.tar >cut.cpio 2>cut.err &&
		newc_ls cut.cpio >cut.lst 2>>cut.err; then
		is "$_cd" "$(group_of cut.lst)" "$_want"
	else
		is "$_cd" "$(cat cut.err)" "$_want"
	fi
}
cut_case "bytes: --path d: 2 of the 4 names, nlink 2" --path d <<EOF
d/a f 0640 7:8 11 2 =d/a $(h hello)
d/b f 0640 7:8 11 2 =d/a $E
EOF
cut_case "bytes: --path e: 2 names, nlink 2, the content on e/c" --path e <<EOF
e/c f 0640 7:8 11 2 =e/c $(h hello)
e/z f 0640 7:8 11 2 =e/c $E
EOF
cut_case "bytes: --exclude d/a: 3 names, the content on d/b" --exclude d/a <<EOF
d/b f 0640 7:8 11 3 =d/b $(h hello)
e/c f 0640 7:8 11 3 =d/b $E
e/z f 0640 7:8 11 3 =d/b $E
EOF
cut_case "bytes: --exclude d/b --exclude e/z: 2 names" --exclude d/b --exclude e/z <<EOF
d/a f 0640 7:8 11 2 =d/a $(h hello)
e/c f 0640 7:8 11 2 =d/a $E
EOF
cut_case "bytes: --path e --exclude e/c: one name left, nlink 1" --path e --exclude e/c <<EOF
e/z f 0640 7:8 11 1 - $(h hello)
EOF

# ---- the ways content goes out ---------------------------------------------------

# Content of plain layers over 64 KiB goes by splice into a pipe and by
# copy_file_range into a file, gzip content through the inflating threads
# (-j 2) or not (-j 1); the padding after each must follow it. Every way
# gives the same bytes, and --format cpio is newc.
mklayer w1.tar <<'EOF'
file big1 size=100001 mtime=1
file big2 size=65538 mtime=2
hardlink big3 big1
file small data=s mtime=3
EOF
mklayer w2.tar --gzip <<'EOF'
file gz1 size=200003 mtime=4
file gz2 size=70002 mtime=5
EOF
"$TARFLAT" --format newc -j 2 w1.tar w2.tar >w.file 2>w.err
"$TARFLAT" --format newc -j 2 w1.tar w2.tar 2>>w.err | cat >w.pipe
"$TARFLAT" --format newc -j 1 w1.tar w2.tar 2>>w.err | cat >w.pipe1
"$TARFLAT" --format newc -j 1 -o w.o w1.tar w2.tar 2>>w.err
"$TARFLAT" --format cpio w1.tar w2.tar >w.cpio 2>>w.err
sed 's/^/# /' w.err
is "ways: (setup) the archive lists as written" "$(newc_ls w.file 2>&1)" "$(cat <<EOF
big1 f 0644 0:0 1 2 =big1 $(hsz 100001)
big2 f 0644 0:0 2 1 - $(hsz 65538)
big3 f 0644 0:0 1 2 =big1 $E
small f 0644 0:0 3 1 - $(h s)
gz1 f 0644 0:0 4 1 - $(hsz 200003)
gz2 f 0644 0:0 5 1 - $(hsz 70002)
EOF
)"
is_file "ways: a pipe (splice) gives a file's bytes (copy_file_range)" w.pipe w.file
is_file "ways: -j 1 gives -j 2's bytes" w.pipe1 w.file
is_file "ways: -o FILE gives standard output's bytes" w.o w.file
is_file "ways: --format cpio is --format newc" w.cpio w.file
"$TARFLAT" --format tar w1.tar w2.tar >w.tar1 && "$TARFLAT" w1.tar w2.tar >w.tar2
is_file "ways: --format tar is the default" w.tar1 w.tar2

# ---- -t, and owner and time rewriting ----------------------------------------

for o in "" "--path e" "--exclude d/a" "--owner 5 --group 6 --mtime @7"; do
	# shellcheck disable=SC2086
	"$TARFLAT" -t $o b1.tar b2.tar b3.tar >t.tar.lst 2>&1
	# shellcheck disable=SC2086
	"$TARFLAT" -t --format newc $o b1.tar b2.tar b3.tar >t.newc.lst 2>&1
	is_file "-t${o:+ $o}: the same bytes with --format newc ($(wc -l <t.tar.lst) lines)" \
		t.newc.lst t.tar.lst
done

# tar_meta TAR: NAME UID:GID MTIME of each member, by Python's tarfile
tar_meta() {
	$PY - "$1" <<'PY'
import sys, tarfile
for m in tarfile.open(sys.argv[1]):
    print(m.name, "%d:%d" % (m.uid, m.gid), int(m.mtime))
PY
}
# rewrite DESC OPTION...: newc and tar agree on every entry's owner and mtime
rewrite() {
	_d=$1; shift
	"$TARFLAT" "$@" b1.tar b2.tar b3.tar >rw.tar 2>rw.err &&
		"$TARFLAT" --format newc "$@" b1.tar b2.tar b3.tar >rw.cpio 2>>rw.err &&
		newc_ls rw.cpio >rw.lst 2>>rw.err
	sed 's/^/# /' rw.err
	is "$_d: newc has the owners and mtimes of the tar output" \
		"$(awk '{ print $1, $4, $5 }' rw.lst)" "$(tar_meta rw.tar)"
}
rewrite "--owner 1234 --group 5678 --mtime @1700000000" \
	--owner 1234 --group 5678 --mtime @1700000000
is "--owner 1234 --group 5678 --mtime @1700000000: every entry, each name of a group" \
	"$(awk '{ print $4, $5 }' rw.lst | sort | uniq -c | awk '{ print $1, $2, $3 }')" \
	"24 1234:5678 1700000000"
SOURCE_DATE_EPOCH=15 rewrite "--clamp-mtime, SOURCE_DATE_EPOCH=15" --clamp-mtime
is "--clamp-mtime, SOURCE_DATE_EPOCH=15: later mtimes lowered to 15, earlier kept" \
	"$(awk '{ print $5 }' rw.lst | sort -n | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" \
	"10:1 11:4 12:1 13:1 14:1 15:16 "
rewrite "--mtime @0 --owner 0" --mtime @0 --owner 0

# ---- refusals ------------------------------------------------------------------

# refused DESC PATH ARG...: tarflat --format newc ARG... must exit 1, nothing on stdout nor
# in -o FILE, a message naming PATH
refused() {
	_d=$1 _p=$2; shift 2
	rm -f ro.cpio
	"$TARFLAT" --format newc "$@" >r.out 2>r.err
	_rc=$?
	"$TARFLAT" --format newc -o ro.cpio "$@" 2>/dev/null
	_msg=
	[ $_rc -eq 1 ] || _msg="exit $_rc, want 1"
	[ -s r.out ] && _msg="$_msg; $(wc -c <r.out) bytes on stdout"
	[ -e ro.cpio ] && _msg="$_msg; -o ro.cpio was made"
	grep -qF "tarflat: $_p: " r.err || _msg="$_msg; no 'tarflat: $_p: ' message"
	if [ -z "$_msg" ]; then
		_report 0 "$_d"
	else
		_report 1 "$_d"
		echo "# $_msg"
		sed 's/^/# stderr: /' r.err | head -n 5
	fi
}
# each bad value on the last entry, after a file whose bytes would already
# be out if anything were written before the check
mklayer uid.tar <<'EOF'
file first size=100000
file u/i/d data=x uid=4294967296
EOF
mklayer gid.tar <<'EOF'
file first size=100000
dir g
file g/id data=x gid=4294967296
EOF
mklayer neg.tar <<'EOF'
file first size=100000
dir t
dir t/neg mtime=-1
EOF
mklayer late.tar <<'EOF'
file first size=100000
symlink late x mtime=4294967296
EOF
mklayer edge.tar <<'EOF'
file first size=100000 uid=4294967295 gid=4294967295 mtime=4294967295
EOF
refused "refused: a uid of 2^32" u/i/d uid.tar
ok "refused: a uid of 2^32: the message says why" grep -q 'uid or gid' r.err
refused "refused: a gid of 2^32" g/id gid.tar
refused "refused: an mtime of -1 (a directory)" t/neg neg.tar
ok "refused: an mtime of -1: the message says why" grep -q 'mtime' r.err
refused "refused: an mtime of 2^32 (a symlink)" late late.tar
refused "refused: a uid of 2^32 under --path u" u/i/d --path u uid.tar
ok "--path first leaves the bad uid out: written" \
	eval '"$TARFLAT" --format newc --path first uid.tar >p.cpio && newc_ls p.cpio >/dev/null'
ok "uid, gid and mtime of 2^32 - 1: written" \
	eval '"$TARFLAT" --format newc edge.tar >e.cpio && newc_ls e.cpio >e.lst'
is "uid, gid and mtime of 2^32 - 1: as they are" "$(cut -d' ' -f4,5 e.lst)" \
	"4294967295:4294967295 4294967295"
for l in neg late; do
	"$TARFLAT" --format newc --mtime @0 $l.tar >m.cpio 2>m.err
	is "--mtime @0 makes $l.tar's mtime pass: every entry at 0" \
		"$(newc_ls m.cpio 2>&1 | awk '{ print $5 }' | sort -u) $(wc -c <m.err)" "0 0"
done
mklayer neg2.tar <<'EOF'
file n data=n mtime=-5
EOF
refused "refused: --mtime @4294967296 (the first entry named)" first --mtime @4294967296 edge.tar
refused "refused: --clamp-mtime does not raise an mtime of -5" n --clamp-mtime --mtime @100 neg2.tar

# 4 GiB: a plain layer whose member of 2^32 bytes is a hole in the layer file
# (tarflat's bound on the output, 16 times its input, lets it through); and
# 2^32 - 1 bytes, which passes the check: its header is the first thing out
mkhuge() { # OUT SIZE
	PYTHONPATH=$TDIR $PY - "$@" <<'PY'
import sys
from hostile import hdr, member, EOF
out, size = sys.argv[1], int(sys.argv[2])
with open(out, "wb") as f:
    f.write(member("v/small", data=b"small") + hdr("v/huge", "0", size=size))
    f.seek(size + (-size % 512), 1)
    f.write(EOF)
PY
}
mkhuge huge.tar $((1 << 32))
mkhuge max.tar $(((1 << 32) - 1))
refused "refused: a file of 4 GiB" v/huge huge.tar
ok "refused: a file of 4 GiB: the message says why" grep -q '4 GiB' r.err
ok "a file of 4 GiB: the tar output takes it (-t)" \
	eval '"$TARFLAT" -t huge.tar | grep -q " 4294967296 .* v/huge$"'
( "$TARFLAT" --format newc max.tar | head -c 512 >max.head ) 2>/dev/null
is "a file of 2^32 - 1 bytes: written, filesize ffffffff" \
	"$($PY - <<'PY'
b = open("max.head", "rb").read()
pos, out = 0, []
while pos + 110 <= len(b) and len(out) < 3:
    ns, size = int(b[pos + 94:pos + 102], 16), int(b[pos + 54:pos + 62], 16)
    name = b[pos + 110:pos + 110 + ns - 1].decode()
    out.append("%s %x" % (name, size))
    pos += 110 + ns
    pos += -pos % 4
    if name == "v/huge":
        break
    pos += size + (-size % 4)
print(" ".join(out))
PY
)" "v 0 v/small 5 v/huge ffffffff"
# a sparse member of 4 GiB and a few bytes (t0925's hand-made pax sparse
# 1.0): written whole in newc, whatever refuses it must name it
PYTHONPATH=$TDIR $PY - <<'PY'
from hostile import hdr, rec, ext, EOF, pad
real = 1 << 32
recs = (rec("GNU.sparse.major", "1") + rec("GNU.sparse.minor", "0") +
        rec("GNU.sparse.name", "var/log/lastlog") + rec("GNU.sparse.realsize", str(real)))
data = pad(b"1\n%d\n512\n" % (real - 512)) + b"z" * 512
open("sparse.tar", "wb").write(ext("x", recs, "PaxHeaders/lastlog") +
                                hdr("GNUSparseFile.0/lastlog", "0", size=len(data)) + data + EOF)
PY
refused "refused: a sparse file of 4 GiB" var/log/lastlog sparse.tar
# newc cannot hold it whatever the input: that is the reason to give, not
# the bound on the output (which only a sparse file, written whole, meets
# before newc's own check)
ok "refused: a sparse file of 4 GiB: the message says newc cannot hold 4 GiB" \
	grep -q '4 GiB.*newc cannot hold' r.err
ok "a sparse file of 4 GiB: the tar output takes it, sparse" \
	eval '"$TARFLAT" sparse.tar | tar -tvf - | grep -q " 4294967296 .* var/log/lastlog$"'

# ---- xattrs and ACLs -----------------------------------------------------------

mklayer x.tar <<'EOF'
dir x xattr.user.dir=1
file x/a data=a xattr.security.capability=cap
file x/b data=b xattr.user.k=v xattr.trusted.t=1
file x/c data=c pax.LIBARCHIVE.xattr.user.lib=dmFs
file x/d data=d pax.SCHILY.acl.access=user::rw-,group::r--,other::r--
file x/plain data=p
hardlink x/plain2 x/plain
EOF
"$TARFLAT" --format newc x.tar >x.cpio 2>x.err
is "xattrs: exit 0" $? 0
is "xattrs: one warning line, counting 5 entries, naming x, x/a, x/b and no more" \
	"$(grep -c . x.err) $(grep -c '^tarflat: warning: .*\b5 entries\b.*\bx, x/a, x/b\b' x.err) $(grep -c 'x/[cd]\b' x.err)" \
	"1 1 0" || sed 's/^/# /' x.err
is "xattrs: every entry written" "$(newc_ls x.cpio | cut -d" " -f1,8 | tr '\n' ' ')" \
	"x - x/a $(h a) x/b $(h b) x/c $(h c) x/d $(h d) x/plain $(h p) x/plain2 $E "
"$TARFLAT" x.tar >/dev/null 2>xt.err
is "xattrs: the tar output keeps them, without a word" "$(wc -c <xt.err)" 0
mklayer x1.tar <<'EOF'
file one data=1 xattr.security.capability=cap
EOF
"$TARFLAT" --format newc x1.tar >/dev/null 2>x1.err
ok "xattrs: one entry: the warning names it" grep -q '^tarflat: warning: .*\b1 entry\b.*\bone\b' x1.err
# records are "LEN key=value\n" and a value may hold a newline: a pax
# comment with one before the xattr must not hide it
$PY - <<'PY'
import io, tarfile
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
    ti = tarfile.TarInfo("nl")
    ti.mtime = 1000000000
    ti.pax_headers = {"comment": "two\nlines", "SCHILY.xattr.user.k": "v"}
    tf.addfile(ti, io.BytesIO(b""))
open("xnl.tar", "wb").write(buf.getvalue())
PY
"$TARFLAT" --format newc xnl.tar >/dev/null 2>xnl.err
ok "xattrs: an xattr after a pax record whose value holds a newline is counted" \
	grep -q '^tarflat: warning: .*\b1 entry\b.*\bnl\b' xnl.err
# GNU tar --selinux keeps a file's SELinux label (the security.selinux
# xattr) as RHT.security.selinux; newc drops it as it drops the others
mklayer xse.tar <<'EOF'
file labelled data=l pax.RHT.security.selinux=system_u:object_r:bin_t:s0
EOF
is "xattrs: (setup) the tar output keeps RHT.security.selinux" "$("$TARFLAT" xse.tar |
	$PY -c 'import sys, tarfile
for m in tarfile.open(fileobj=sys.stdin.buffer, mode="r|"):
    print(m.name, m.pax_headers.get("RHT.security.selinux"))')" \
	"labelled system_u:object_r:bin_t:s0"
"$TARFLAT" --format newc xse.tar >/dev/null 2>xse.err
ok "xattrs: an SELinux label (RHT.security.selinux) is counted" \
	grep -q '^tarflat: warning: .*\b1 entry\b.*\blabelled\b' xse.err

# ---- readers --------------------------------------------------------------------

if [ "$(id -u)" -ne 0 ] || ! command -v cpio >/dev/null || ! command -v bsdtar >/dev/null; then
	skip "readers: GNU cpio and bsdtar extract GNU tar's tree" \
		"needs root, GNU cpio and bsdtar"
	done_testing
	exit
fi

# cmp.py LISTING SINCE NEWC.LST: LISTING is treedump.py's or treelist.py's
# of a directory holding G (GNU tar's tree), C (cpio's) and B (bsdtar's);
# each reader's tree is compared with G, the differences that newc or the
# reader account for counted, the rest printed; G must have as many paths
# as the archive has entries (NEWC.LST, newc.py's listing). Writes cpio.res and bsdtar.res:
# "ok" or "differs", a count of what was accounted for, the differences.
# SINCE: when the extraction began (a time of extraction is at or after it).
cat >cmp.py <<'PY'
import sys
from collections import Counter


def trees(path):
    """{top directory: {path: fields}} from a listing of both formats."""
    out = {}
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        line = line.rstrip("\n")
        f = line.split("\t") if "\t" in line else line.split(" ")
        top, _, p = f[0].partition("/")
        if not p:
            continue
        link = f[6] if len(f) == 8 else f[10]
        if link.startswith("=" + top + "/"):
            link = "=" + link[len(top) + 2:]
        if len(f) == 8:     # treedump.py
            row = dict(type=f[1], mode=f[2], owner=f[3], mtime=f[4], detail=f[5],
                       link=link, xattr=f[7])
        else:               # treelist.py
            row = dict(type=f[1], mode=f[2], owner=f[3], mtime=f[4],
                       detail=" ".join(f[5:9]), nlink=f[9], link=link)
        out.setdefault(top, {})[p] = row
    return out


t = trees(sys.argv[1])
since = int(sys.argv[2])
g = t.get("G", {})
entries = sum(1 for _ in open(sys.argv[3], "rb"))
for reader, top in (("cpio", "C"), ("bsdtar", "B")):
    r = t.get(top, {})
    full = {p.rpartition("/")[0] for p in r}
    why, diffs = Counter(), []
    if len(g) != entries:
        diffs.append("GNU tar's tree has %d paths, the newc archive %d entries"
                     % (len(g), entries))
    for p in sorted(set(g) | set(r)):
        if p not in r or p not in g:
            diffs.append("%s %s" % ("only in GNU tar's:" if p in g else "only here:", p))
            continue
        want, got = dict(g[p]), r[p]
        if want.get("xattr", "-") != "-":
            want["xattr"] = "-"
            why["xattr sets dropped (newc holds none)"] += 1
        if want["type"] == "l" and want["link"] != "-":
            want["link"] = "-"
            if "nlink" in want:
                want["nlink"] = "1"
            why["hardlinked symlinks made separate"] += 1
        if (reader == "cpio" and got["mtime"] != want["mtime"] and
                int(got["mtime"]) >= since and
                (want["type"] == "l" or want["type"] == "d" and p in full)):
            want["mtime"] = got["mtime"]
            why["symlink mtimes not set by cpio" if want["type"] == "l" else
                "mtimes of directories with contents set by cpio before them"] += 1
        if want != got:
            diffs.append("%s: GNU tar %s\n    %s %s" % (
                p, " ".join(g[p].values()), reader, " ".join(got.values())))
    with open(reader + ".res", "w") as f:
        f.write("differs\n" if diffs else "ok\n")
        f.write("%d paths; accounted for: %s\n" % (
            len(g), ", ".join("%d %s" % (n, w) for w, n in sorted(why.items())) or "none"))
        for d in diffs[:30]:
            f.write(d + "\n")
PY

# justify.py TAR ERR: newc's refusal in ERR names a path that has, in TAR
# (read by Python's tarfile), a value newc cannot hold; prints what
# (mtime, owner, size)
cat >justify.py <<'PY'
import re, sys, tarfile
msg = open(sys.argv[2]).read()
m = re.match(r"tarflat: (.*): (an mtime|a uid or gid|a file of 4 GiB)[^\n]*newc cannot hold", msg)
if not m:
    sys.exit("not a newc refusal: %r" % msg)
path, what = m.group(1), m.group(2)
for t in tarfile.open(sys.argv[1]):
    if t.name.rstrip("/") == path:
        ok = {"an mtime": not 0 <= t.mtime < 2 ** 32,
              "a uid or gid": max(t.uid, t.gid) >= 2 ** 32,
              "a file of 4 GiB": t.size >= 2 ** 32}[what]
        if not ok:
            sys.exit("%s: mtime %s, %d:%d, size %d: newc can hold that"
                     % (path, t.mtime, t.uid, t.gid, t.size))
        print(what.split()[-1])
        sys.exit(0)
sys.exit("%s: not in the tar output" % path)
PY

# one_case NAME [--list] INPUT...: the whole check of one input in c/NAME,
# its outcome in c/NAME/res: same (both readers give GNU tar's tree),
# folded (the same, after a refusal of mtimes and --mtime), refused (tar
# refused, newc alike), failed; what went wrong in c/NAME/log
one_case() {
	_n=$1; shift
	_fmt=dump
	[ "$1" = --list ] && { _fmt=list; shift; }
	_w=$T/c/$_n
	rm -rf "$_w" && mkdir -p "$_w" && cd "$_w" || return
	(
		fail() { echo "$*" >>log; echo failed >res; exit 0; }
		"$TARFLAT" "$@" >out.tar 2>tar.err
		trc=$?
		"$TARFLAT" --format newc "$@" >out.cpio 2>newc.err
		nrc=$?
		if [ $trc -ne 0 ]; then
			[ $nrc -eq $trc ] && [ ! -s out.cpio ] && cmp -s tar.err newc.err ||
				fail "tar refused (exit $trc), newc exited $nrc, $(wc -c <out.cpio)" \
					"bytes; stderr: $(cat tar.err) / $(cat newc.err)"
			echo refused >res
			exit 0
		fi
		res=same
		if [ $nrc -ne 0 ]; then
			[ $nrc -eq 1 ] && [ ! -s out.cpio ] ||
				fail "newc exited $nrc with $(wc -c <out.cpio) bytes: $(cat newc.err)"
			what=$($PY "$T/justify.py" out.tar newc.err 2>>log) ||
				fail "newc refused: $(cat newc.err)"
			[ "$what" = mtime ] || fail "newc refused a $what: $(cat newc.err)"
			"$TARFLAT" --mtime @1000000000 "$@" >out.tar 2>tar.err &&
				"$TARFLAT" --format newc --mtime @1000000000 "$@" >out.cpio 2>newc.err ||
				fail "with --mtime @1000000000: $(cat tar.err newc.err)"
			res=folded
		fi
		$PY "$T/newc.py" out.cpio >newc.lst 2>>log || fail "newc.py"
		mkdir x
		extract out.tar x/G 2>>log || fail "GNU tar -x failed"
		mkdir x/C x/B
		since=$(date +%s)
		# the readers take it without a word
		(cd x/C && cpio -idm --no-absolute-filenames --quiet <../../out.cpio) 2>cpio.err ||
			fail "cpio -i failed: $(cat cpio.err)"
		bsdtar -xpf out.cpio -C x/B 2>bsdtar.err || fail "bsdtar -x failed: $(cat bsdtar.err)"
		[ -s cpio.err ] && fail "cpio -i said: $(cat cpio.err)"
		[ -s bsdtar.err ] && fail "bsdtar -x said: $(cat bsdtar.err)"
		# one listing of the three trees (one process, not three)
		if [ $_fmt = dump ]; then
			$PY "$TDIR/treedump.py" x >x.lst
		else
			$PY "$TDIR/treelist.py" x >x.lst
		fi 2>>log || fail "listing the trees"
		$PY "$T/cmp.py" x.lst "$since" newc.lst 2>>log || fail "cmp.py"
		grep -qx ok cpio.res && grep -qx ok bsdtar.res || res=failed
		echo $res >res
	)
	cd "$T" || return
}

# report_case NAME DESC: the ok line of NAME; with NAMED (a named stack,
# not a random one) a refusal fails and what was accounted for is shown.
# The work directory of a case that passed goes.
report_case() {
	_w=$T/c/$1 _res=$(cat "$T/c/$1/res" 2>/dev/null)
	case $_res in
	refused)
		# a random stack may be one tarflat refuses; a named one is not
		if [ -n "${NAMED:-}" ]; then
			_report 1 "$2: refused, as the tar output is"
			sed 's/^/# /' "$_w/tar.err"
			return 1
		fi
		_report 0 "$2: refused, as the tar output is" ;;
	same | folded)
		_f=
		[ "$_res" = folded ] && _f=" (with --mtime @1000000000 after a justified refusal)"
		_report 0 "$2: GNU cpio and bsdtar extract GNU tar's tree$_f"
		if [ -n "${NAMED:-}" ]; then
			sed -n '2s/^/#   cpio: /p' "$_w/cpio.res"
			sed -n '2s/^/#   bsdtar: /p' "$_w/bsdtar.res"
		fi ;;
	*)
		_report 1 "$2: GNU cpio and bsdtar extract GNU tar's tree"
		echo "# work directory: $_w"
		sed 's/^/# /' "$_w/log" 2>/dev/null | head -n 20
		for r in cpio bsdtar; do
			[ -f "$_w/$r.res" ] && sed "s/^/# $r: /" "$_w/$r.res" | head -n 30
		done
		return 1 ;;
	esac
	rm -rf "$_w"
}

# ---- the named stacks ----------------------------------------------------------

mkdir -p s
# hardlink groups across layers: a name added, one replaced, the carrier's
# name deleted, links to links, groups of empty files, fifos, devices and
# symlinks, a group whose first name is AUFS metadata (never written)
mklayer s/hl1.tar <<'EOF'
dir .wh..wh.plnk
file .wh..wh.plnk/9.9 data=aufs mtime=99
dir usr mtime=100
hardlink usr/aufs1 .wh..wh.plnk/9.9
hardlink usr/aufs2 .wh..wh.plnk/9.9
dir usr/bin mtime=101
file usr/bin/busybox size=5000 mode=0755 mtime=102
hardlink usr/bin/sh usr/bin/busybox
hardlink usr/bin/ls usr/bin/busybox
dir etc mtime=103
file etc/a data=A mode=0600 uid=7 gid=8 mtime=104
hardlink etc/b etc/a
file etc/empty mtime=105
hardlink etc/empty2 etc/empty
fifo etc/fifo mode=0640
hardlink etc/fifo2 etc/fifo
symlink etc/sym busybox mtime=106
hardlink etc/sym2 etc/sym
char etc/null 1 3 mode=0666
hardlink etc/null2 etc/null
block etc/sda 8 0 mode=0660 gid=6
hardlink etc/sda2 etc/sda
EOF
mklayer s/hl2.tar <<'EOF'
hardlink usr/bin/cat usr/bin/busybox
file usr/bin/ls data=ls mtime=201
hardlink etc/c etc/a
dir opt mtime=202
hardlink opt/a etc/a
hardlink opt/sym3 etc/sym
EOF
mklayer s/hl3.tar <<'EOF'
whiteout etc/a
hardlink usr/bin/busybox2 usr/bin/cat
whiteout etc/null
EOF
# go-containerregistry #977: git and its links, git deleted
mklayer s/977a.tar.gz --gzip <<'EOF'
dir usr
dir usr/bin
file usr/bin/a-first data=first
file usr/bin/git size=70000 mode=0755 mtime=500
file usr/bin/zz data=zz
hardlink usr/bin/git-receive-pack usr/bin/git
hardlink usr/bin/git-upload-pack usr/bin/git
hardlink usr/bin/git-upload-archive usr/bin/git
dir usr/libexec
dir usr/libexec/git-core
hardlink usr/libexec/git-core/git-add usr/bin/git
hardlink usr/libexec/git-shell usr/bin/git
EOF
mklayer s/977b.tar <<'EOF'
whiteout usr/bin/git
EOF
# whiteouts and opaque directories
mklayer s/wh1.tar <<'EOF'
dir a mtime=100
dir a/b mtime=101
file a/b/f data=f mtime=102
file a/g data=g mtime=103
dir o mode=0750 mtime=104
file o/old data=old
dir o/sub
file o/sub/deep data=deep
file keep data=keep
symlink link a/b
EOF
mklayer s/wh2.tar <<'EOF'
whiteout a/b
whiteout keep
opaque o
file o/new data=new mtime=201
whiteout link
dir link mtime=202
file link/f data=dir-now
EOF
mklayer s/wh3.tar <<'EOF'
dir a/b mtime=301
file keep data=back mtime=302
opaque a
file a/h data=h mtime=303
EOF
# modes and setgid parents: implicit parents under a setgid directory,
# sticky and read-only directories filled by two layers, setuid, setgid,
# 0000, owners
mklayer s/mode1.tar <<'EOF'
dir srv mode=2775 gid=50 mtime=100
file srv/a/b/c/f data=f mtime=101
dir tmp mode=1777 mtime=102
dir ro mode=0555 mtime=103
file ro/one data=1 mode=0444
file bin/su data=su mode=4755 mtime=104
file bin/wall data=wall mode=2755 gid=5
file bin/both data=both mode=6711 uid=1000 gid=1000
file bin/sticky data=s mode=1644
file none data=n mode=0000
dir own mode=0700 uid=3000000 gid=123456789 mtime=105
file own/f data=o uid=65534 gid=65534 uname=nobody gname=nogroup
EOF
mklayer s/mode2.tar <<'EOF'
file ro/two data=2 mode=0400
file srv/a/g data=g
dir srv/new mode=0755 mtime=201
file srv/new/x data=x
file tmp/t data=t uid=1000 mode=0600
EOF
# devices and fifos
mklayer s/dev.tar <<'EOF'
dir dev mtime=100
char dev/null 1 3 mode=0666
char dev/console 5 1 mode=0600
char dev/tty 5 0 mode=0666 gid=5
block dev/sda 8 0 mode=0660 gid=6
block dev/nvme0n1p1 259 1 mode=0660 gid=6
char dev/max 4095 1048575 mode=0600 uid=42
fifo dev/initctl mode=0600
fifo dev/shared mode=0666 uid=1 gid=1 mtime=7
EOF
# long names: a component of 255 bytes, a path of 4095, a symlink target
# of 4095, a hardlink between long names (listed by treelist.py, which
# opens each name in its directory: treedump.py's full paths would pass
# PATH_MAX)
rep() { printf "%${1}s" '' | tr ' ' "$2"; }
{
	A255=$(rep 255 a)
	B250=$(rep 250 b)
	DEEP=long
	echo "dir long"
	echo "file long/$A255 data=255"
	for _i in $(seq 16); do
		DEEP=$DEEP/$B250
		echo "dir $DEEP"
	done
	DEEPF=$DEEP/$(rep $((4095 - ${#DEEP} - 1)) f)
	echo "file $DEEPF data=deep mode=0600"
	echo "hardlink long/$(rep 200 h) $DEEPF"
	echo "symlink long/to-deep $DEEPF"
	echo "symlink long/t4095 $(rep 4095 t)"
} >s/long.spec
mklayer s/long.tar <s/long.spec
# empty: empty files, an empty directory, a group of empty files; and an
# empty layer alone
mklayer s/empty.tar <<'EOF'
file e0 mtime=1
dir ed mtime=2
dir ed/sub mtime=3
file ed/sub/e1 mtime=4
hardlink ed/e2 ed/sub/e1
EOF
mklayer s/none.tar </dev/null
# sparse files from GNU tar (pax sparse 1.0, old GNU) and a file that is
# all hole: written whole in newc
truncate -s 3000000 s/holes
printf 'start' | dd of=s/holes conv=notrunc 2>/dev/null
printf 'middle' | dd of=s/holes bs=1 seek=1500000 conv=notrunc 2>/dev/null
printf 'end' >>s/holes
mkdir -p s/sp && cp --sparse=always s/holes s/sp/pax && cp --sparse=always s/holes s/sp/old &&
	truncate -s 1000000 s/sp/void && touch -d @1234567890 s/sp s/sp/*
tar -C s/sp --format=posix --sparse --numeric-owner -cf s/sparse1.tar pax void
tar -C s/sp --format=oldgnu --sparse --numeric-owner -cf s/sparse2.tar old
gzip -n s/sparse2.tar
# xattrs and ACLs, dropped; names, owners and times of every kind; a file
# capability that GNU tar can set (v2: magic 0x02000001, effective;
# permitted cap_net_bind_service), its bytes given to mklayer as characters
CAP=$(printf '\\x01\\x00\\x00\\x02\\x00\\x04%s' "$(printf '\\x00%.0s' $(seq 14))")
{
	printf 'dir x mtime=100 xattr.user.dir=d\n'
	printf 'file x/cap data=cap mode=0755 xattr.security.capability=%b\n' "$CAP"
	cat <<'EOF'
file x/two data=2 xattr.user.a=1 xattr.trusted.b=2
hardlink x/two-link x/two
file x/acl data=acl pax.SCHILY.acl.access=user::rw-,group::r--,other::r--
file "sp ace" data=space
file ütf8-ñ data=utf8
file "quote'd" data=q
file times0 data=0 mtime=0
file times31 data=31 mtime=2147483648
file times32 data=32 mtime=4294967295
file frac data=f pax.mtime=1234.75
file ids data=ids uid=4294967295 gid=3000000
EOF
} | mklayer s/misc.tar

# the layers of t0450 and their images
mkdir -p img
. "$TDIR/lib-image.sh"
(cd img && three_layers &&
	mkimage oci-dir oci l1.tar l2.tar l3.tar &&
	mkimage oci-archive oci.tar l1.tar l2.tar l3.tar compress=gzip,plain &&
	mkimage docker-old dold.tar l1.tar l2.tar l3.tar tag=foo:1.0 &&
	mkimage docker25 d25.tar l1.tar l2.tar l3.tar tag=foo:1.0) ||
	echo "# mkimage.py failed"

# every case: NAME|DESC|ARGS (ARGS split by the shell)
cases() {
	cat <<EOF
hl|hardlink groups across layers (added, replaced, carrier deleted, links to links, empty files, fifos, devices, symlinks)|$T/s/hl1.tar $T/s/hl2.tar $T/s/hl3.tar
977|go-containerregistry #977: git deleted, its links one inode|$T/s/977a.tar.gz $T/s/977b.tar
wh|whiteouts and opaque directories|$T/s/wh1.tar $T/s/wh2.tar $T/s/wh3.tar
mode|setgid parents, implicit ones, sticky and read-only directories, setuid, owners|$T/s/mode1.tar $T/s/mode2.tar
dev|devices and fifos|$T/s/dev.tar
long|names up to 4095 bytes, a 4095-byte symlink target|--list $T/s/long.tar
empty|empty files and directories, a group of empty files|$T/s/empty.tar
none|an empty layer|$T/s/none.tar
sparse|sparse files (pax 1.0, old GNU; one all hole), written whole|$T/s/sparse1.tar $T/s/sparse2.tar.gz
misc|xattrs and ACLs, odd names, owners and times|$T/s/misc.tar
img-oci|t0450's image, OCI layout|$T/img/oci
img-oci.tar|t0450's image, OCI archive|$T/img/oci.tar
img-dold|t0450's image, docker save (old)|$T/img/dold.tar
img-d25|t0450's image, docker save (Docker 25+)|$T/img/d25.tar
EOF
	for s in $(seq "$FIRST" $((FIRST + N - 1))); do
		echo "gen$s|genstack.py seed $s|@gen $s"
		echo "wild$s|wildstack.py seed $s|@wild $s"
	done
}

# run_case NAME ARGS...: a random stack is written first (@gen/@wild SEED)
run_case() {
	_rn=$1; shift
	case $1 in
	@gen | @wild)
		_g=$TDIR/genstack.py
		[ "$1" = @wild ] && _g=$TDIR/wildstack.py
		if ! $PY "$_g" --seed "$2" "$T/r/$_rn" >"$T/r/$_rn.layers" 2>"$T/r/$_rn.err"; then
			mkdir -p "$T/c/$_rn" && echo failed >"$T/c/$_rn/res" &&
				cp "$T/r/$_rn.err" "$T/c/$_rn/log"
			return
		fi
		# shellcheck disable=SC2046
		set -- $(cat "$T/r/$_rn.layers") ;;
	esac
	one_case "$_rn" "$@"
	[ "$(cat "$T/c/$_rn/res" 2>/dev/null)" = failed ] || rm -rf "$T/r/$_rn"
}

mkdir -p r c
t0=$EPOCHREALTIME
running=0
while IFS='|' read -r name desc args; do
	# shellcheck disable=SC2086
	run_case "$name" $args &
	running=$((running + 1))
	if [ $running -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done < <(cases)
wait
same=0 folded=0 refused=0 failed=0
while IFS='|' read -r name desc args; do
	case $(cat "c/$name/res" 2>/dev/null) in
	same) same=$((same + 1)) ;;
	folded) folded=$((folded + 1)) ;;
	refused) refused=$((refused + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
	_v=
	case $args in @*) ;; *) _v=1 ;; esac
	NAMED=$_v report_case "$name" "readers: $desc"
done < <(cases)
echo "# readers: $((same + folded + refused + failed)) inputs in" \
	"$(awk "BEGIN { printf \"%.0f\", $EPOCHREALTIME - $t0 }")s: $same the same tree," \
	"$folded the same with --mtime after newc refused their mtimes, $refused refused" \
	"by both outputs, $failed failed"

done_testing
