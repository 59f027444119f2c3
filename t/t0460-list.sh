#!/bin/bash
# -t (tarflat.1 OPTIONS): the flattened tree listed instead of written, in
# output order, one line an entry:
#   MODE UID/GID SIZE YYYY-MM-DD HH:MM:SS LAYER NAME[ -> TARGET| link to CARRIER]
# checked line by line against the tar tarflat writes for the same inputs
# (read with Python tarfile) and its extraction by GNU tar (lstat): every path
# once, in output order, type, mode (tar -tv letters), owner, size, mtime
# (UTC), link; LAYER against the layer each entry came from, as the test built
# them, with ':' and 12 hex digits of the digest t/mkimage.py reported for
# image layers. Names with control characters and backslashes: \ooo.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
. "$TDIR/lib-image.sh"
need tar
export TAR_OPTIONS=--warning=no-timestamp

cat >checklist.py <<'EOF'
# checklist.py LISTING TAR DIR LAYERS: LISTING (tarflat -t) against TAR (the
# tar written for the same inputs) and DIR (its extraction); LAYERS has lines
# "LABEL NAME" (NAME as listed, escaped, without a directory's '/').
import os, re, stat, sys, tarfile, time
listing, tarpath, root, layerfile = sys.argv[1:5]
asroot = os.geteuid() == 0
bad = []


def esc(b):
    return b"".join(b"\\%03o" % c if c < 32 or c in (92, 127) else bytes([c]) for c in b)


want_layer = {}
for line in open(layerfile, "rb").read().split(b"\n"):
    if line:
        label, name = line.split(b" ", 1)
        want_layer[name] = label
members = []
with tarfile.open(tarpath, encoding="utf-8", errors="surrogateescape") as tf:
    for m in tf:
        members.append(m)
lines = open(listing, "rb").read().split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
else:
    bad.append("the listing does not end in a newline")
if len(lines) != len(members):
    bad.append("%d lines listed, %d members written" % (len(lines), len(members)))
LINE = re.compile(rb"^([-dlhcbp][-r][-w][-xsS][-r][-w][-xsS][-r][-w][-xtT]) +(\d+)/(\d+) +(\S+) +"
                  rb"(\d{4}-\d\d-\d\d) +(\d\d:\d\d:\d\d) +(\S+) (.*)$")
byname, seen = {}, set()
for i, (line, m) in enumerate(zip(lines, members)):
    raw = m.name.encode("utf-8", "surrogateescape")
    name = esc(raw) + (b"/" if m.isdir() else b"")
    path = os.path.join(root.encode(), raw)
    st = os.lstat(path)
    if m.islnk():
        carrier = byname.get(m.linkname.encode("utf-8", "surrogateescape"))
        if carrier is None:
            bad.append("%r: its carrier %r was not written before it" % (raw, m.linkname))
            continue
        info = carrier
    else:
        info = m
    byname[raw] = info
    # what the entry is, from the tar member, checked against the extraction
    if m.islnk():
        t = "h"
        cst = os.lstat(os.path.join(root.encode(), m.linkname.encode("utf-8", "surrogateescape")))
        if (cst.st_dev, cst.st_ino) != (st.st_dev, st.st_ino):
            bad.append("%r: extracted, not the same inode as %r" % (raw, m.linkname))
    else:
        t = {tarfile.DIRTYPE: "d", tarfile.SYMTYPE: "l", tarfile.CHRTYPE: "c",
             tarfile.BLKTYPE: "b", tarfile.FIFOTYPE: "p"}.get(m.type, "-")
        ft = stat.filemode(st.st_mode)[0]
        if t != ft:
            bad.append("%r: member type %s, extracted as %s" % (raw, t, ft))
    mode = stat.filemode(stat.S_IFREG | info.mode)[1:]
    if asroot and t != "l" and stat.filemode(st.st_mode)[1:] != mode:
        bad.append("%r: member mode %s, extracted %s" % (raw, mode, stat.filemode(st.st_mode)))
    if t == "l":
        mode = "rwxrwxrwx"
    uid, gid = info.uid, info.gid
    if asroot and (st.st_uid, st.st_gid) != (uid, gid):
        bad.append("%r: member owner %d/%d, extracted %d/%d" % (raw, uid, gid, st.st_uid, st.st_gid))
    if int(st.st_mtime) != int(info.mtime):
        bad.append("%r: member mtime %d, extracted %d" % (raw, info.mtime, st.st_mtime))
    if t in "cb":
        sizes = [b"%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))]
        if (info.devmajor, info.devminor) != (os.major(st.st_rdev), os.minor(st.st_rdev)):
            bad.append("%r: member device %d,%d, extracted %s" % (raw, info.devmajor, info.devminor, sizes[0]))
    elif t == "-":
        sizes = [b"%d" % st.st_size]
    elif t == "h":
        sizes = [b"0", b"%d" % st.st_size]     # tar -tv says 0; the file's size is fine too
    else:
        sizes = [b"0"]
    date = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(info.mtime))).encode()
    label = want_layer.get(name.rstrip(b"/"), b"?")
    tail = name
    if t == "l":
        tail += b" -> " + m.linkname.encode("utf-8", "surrogateescape")
        if os.readlink(path) != m.linkname.encode("utf-8", "surrogateescape"):
            bad.append("%r: extracted link target differs" % raw)
    elif t == "h":
        tail += b" link to " + esc(m.linkname.encode("utf-8", "surrogateescape"))
    want = b"%s%s %d/%d %s %s %s %s" % (t.encode(), mode.encode(), uid, gid, sizes[0], date, label, tail)
    g = LINE.match(line)
    if not g:
        bad.append("line %d does not parse: %r\n    want %r" % (i + 1, line, want))
        continue
    got = (g.group(1), int(g.group(2)), int(g.group(3)), g.group(4), g.group(5) + b" " + g.group(6),
           g.group(7), g.group(8))
    exp = ((t + mode).encode(), uid, gid, got[3] if got[3] in sizes else sizes[0], date, label, tail)
    if got != exp:
        bad.append("line %d: %r\n    want %r" % (i + 1, line, want))
    if name in seen:
        bad.append("%r listed twice" % name)
    seen.add(name)
# every path of the extracted tree is listed
ondisk = set()
for d, dirs, files in os.walk(root.encode()):
    for n in dirs + files:
        full = os.path.join(d, n)
        rel = os.path.relpath(full, root.encode())
        ondisk.add(esc(rel) + (b"/" if os.path.isdir(full) and not os.path.islink(full) else b""))
for n in sorted(ondisk - seen):
    bad.append("extracted but not listed: %r" % n)
for n in sorted(seen - ondisk):
    bad.append("listed but not extracted: %r" % n)
unused = set(want_layer) - {n.rstrip(b"/") for n in seen}
for n in sorted(unused):
    bad.append("expected in the listing, not there: %r" % n)
for b in bad[:30]:
    print(b)
sys.exit(1 if bad else 0)
EOF

# listing DESC LAYERMAP ARGS...: tarflat -t ARGS against tarflat ARGS and its extraction
listing() {
	_ld=$1 _lm=$2; shift 2
	if ! "$TARFLAT" -t "$@" >list.txt 2>list.err; then
		_report 1 "$_ld"; echo "# tarflat -t $* failed"; sed 's/^/# /' list.err; return 1
	fi
	if ! flatten_x list.out "$@"; then
		_report 1 "$_ld"; return 1
	fi
	ok "$_ld" python3 checklist.py list.txt "$T/.flat.tar" list.out "$_lm"
}

T1=$((T0 + 100)) T2=$((T0 + 200))
mklayer l1.tar <<EOF
dir etc mtime=$T1
file etc/passwd data=root:x:0:0 mtime=$((T1 + 1))
file etc/shadow data=secret mode=0640 gid=42 mtime=$((T1 + 2))
dir usr mtime=$((T1 + 3))
dir usr/bin mtime=$((T1 + 4))
file usr/bin/su size=3000 mode=4755 mtime=$((T1 + 5))
file usr/bin/wall data=w mode=2755 gid=5 mtime=$((T1 + 6))
file usr/bin/odd data=o mode=6644 mtime=$((T1 + 7))
hardlink usr/bin/su2 usr/bin/su
symlink bin usr/bin mtime=$((T1 + 8))
dir tmp mode=1777 mtime=$((T1 + 9))
dir locked mode=1770 mtime=$((T1 + 10))
fifo run/ctl mode=0600 mtime=$((T1 + 11))
dir home/user mode=0700 uid=1000 gid=1000 mtime=$((T1 + 12))
file home/user/.profile data=PS1 uid=1000 gid=1000 mtime=$((T1 + 13))
file 'names/a b' data=space mtime=$((T1 + 14))
file empty mtime=$((T1 + 15))
EOF
mklayer l2.tar <<EOF
file etc/passwd data=root:x:0:0,app mtime=$((T2 + 1))
whiteout etc/shadow
file usr/bin/new data=new mode=0755 mtime=$((T2 + 2))
dir opt mtime=$((T2 + 3))
file opt/app data=app mode=0750 uid=7 gid=8 mtime=$((T2 + 4))
hardlink opt/app2 opt/app
file srv/www/index.html data=hi mtime=$((T2 + 5))
symlink etc/localtime /usr/share/zoneinfo/UTC mtime=$((T2 + 6))
EOF
mklayer extra.tar <<EOF
file etc/hostname data=box mtime=$((T0 + 301))
EOF
if [ "$(id -u)" -eq 0 ]; then
	mklayer dev.tar <<EOF
char dev/null 1 3 mode=0666 mtime=$((T0 + 401))
block dev/sda 8 0 mode=0660 gid=6 mtime=$((T0 + 402))
EOF
fi

# which layer each entry comes from, by the specs above (L1, L2, L3 stand for
# the labels); implicit parents come from the layer whose entry needed them
layermap() { # L1 L2 [L3] > FILE
	cat <<EOF
$1 etc
$2 etc/passwd
$1 usr
$1 usr/bin
$1 usr/bin/su
$1 usr/bin/wall
$1 usr/bin/odd
$1 usr/bin/su2
$1 bin
$1 tmp
$1 locked
$1 run
$1 run/ctl
$1 home
$1 home/user
$1 home/user/.profile
$1 names
$1 names/a b
$1 empty
$2 usr/bin/new
$2 opt
$2 opt/app
$2 opt/app2
$2 srv
$2 srv/www
$2 srv/www/index.html
$2 etc/localtime
EOF
	[ $# -lt 3 ] || echo "$3 etc/hostname"
}

layermap 1 2 >map-plain
listing "-t, plain layers: every line matches the output and its extraction, LAYER 1 and 2" \
	map-plain l1.tar l2.tar
gzip -n -c l2.tar >l2.tar.gz
listing "-t, a plain and a gzip layer" map-plain l1.tar l2.tar.gz
layermap 1 2 3 >map-plain3
listing "-t, three layers" map-plain3 l1.tar l2.tar extra.tar

# a few lines written out by hand (mode letters, the date, a symlink, a hardlink)
"$TARFLAT" -t l1.tar l2.tar >hand.txt
pick() { # the line of NAME, spaces squeezed
	tr -s ' ' <hand.txt | awk -v n="$1" '{ r = $0; for (i = 0; i < 6; i++) sub(/^[^ ]+ /, "", r)
		split(r, a, / -> | link to /); if (a[1] == n) print }'
}
is "-t by hand: setuid file" "$(pick usr/bin/su)" "-rwsr-xr-x 0/0 3000 2001-09-09 01:48:25 1 usr/bin/su"
is "-t by hand: setgid file" "$(pick usr/bin/wall)" "-rwxr-sr-x 0/5 1 2001-09-09 01:48:26 1 usr/bin/wall"
is "-t by hand: setuid and setgid without x" "$(pick usr/bin/odd)" "-rwSr-Sr-- 0/0 1 2001-09-09 01:48:27 1 usr/bin/odd"
is "-t by hand: sticky directory" "$(pick tmp/)" "drwxrwxrwt 0/0 0 2001-09-09 01:48:29 1 tmp/"
is "-t by hand: sticky without x" "$(pick locked/)" "drwxrwx--T 0/0 0 2001-09-09 01:48:30 1 locked/"
is "-t by hand: fifo" "$(pick run/ctl)" "prw------- 0/0 0 2001-09-09 01:48:31 1 run/ctl"
is "-t by hand: a replaced file from layer 2" "$(pick etc/passwd)" \
	"-rw-r--r-- 0/0 14 2001-09-09 01:50:01 2 etc/passwd"
is "-t by hand: symlink" "$(pick bin)" "lrwxrwxrwx 0/0 0 2001-09-09 01:48:28 1 bin -> usr/bin"
is "-t by hand: a hardlink names its carrier" "$(pick opt/app2 | sed 's/^\(h[^ ]* [^ ]*\) [0-9]* /\1 N /')" \
	"hrwxr-x--- 7/8 N 2001-09-09 01:50:04 2 opt/app2 link to opt/app"
is "-t by hand: a name with a space" "$(pick 'names/a b')" "-rw-r--r-- 0/0 5 2001-09-09 01:48:34 1 names/a b"
is "-t by hand: the whited-out file is not listed" "$(grep -c shadow hand.txt)" 0
ok "-t writes no tar: the listing is text lines only" eval '! grep -q "ustar" hand.txt'
is "-t lists the entries in the order the tar has them" "$(sed 's/.* [0-9][0-9]*\(:[0-9a-f]*\)\{0,1\} //; s/ -> .*//; s/ link to .*//' hand.txt)" \
	"$(flatten o.tar l1.tar l2.tar && tar -tf o.tar)"

if [ "$(id -u)" -eq 0 ]; then
	{ layermap 1 2; echo "3 dev"; echo "3 dev/null"; echo "3 dev/sda"; } >map-dev
	listing "-t, devices: SIZE is MAJOR,MINOR" map-dev l1.tar l2.tar dev.tar
	"$TARFLAT" -t l1.tar l2.tar dev.tar >dev.txt
	is "-t by hand: character device" "$(grep ' dev/null$' dev.txt | tr -s ' ')" \
		"crw-rw-rw- 0/0 1,3 2001-09-09 01:53:21 3 dev/null"
	is "-t by hand: block device" "$(grep ' dev/sda$' dev.txt | tr -s ' ')" \
		"brw-rw---- 0/6 8,0 2001-09-09 01:53:22 3 dev/sda"
else
	skip "-t, devices" "needs root to extract device nodes"
fi

# image layers: N:DIGEST12
for f in oci-dir oci-archive docker-old docker25; do
	o=img-$f
	[ $f = oci-dir ] || o=$o.tar
	mkimage $f $o l1.tar l2.tar
	key=layers
	[ $f = docker-old ] && key=diffids
	a=1:$(hex12 "$(dig $o image $key 1)") b=2:$(hex12 "$(dig $o image $key 2)")
	layermap "$a" "$b" >map-$f
	listing "-t, $f: LAYER is N:12 hex digits of the layer's $key entry" map-$f $o
	layermap "$a" "$b" 3 >map-$f-extra
	listing "-t, $f then a plain layer: that one is just 3" map-$f-extra $o extra.tar
done
# the digests are those of the blobs as stored, by sha256sum here
ok "-t: (setup) the gzip blob's sha256sum is the digest mkimage reported" \
	test -f img-oci-dir/blobs/sha256/$(dig img-oci-dir image layers 1 | cut -d: -f2)
is "-t, OCI: etc/ from the first layer, its blob's digest" \
	"$("$TARFLAT" -t img-oci-dir | grep ' etc/$' | awk '{print $6}')" \
	"1:$(sha256sum img-oci-dir/blobs/sha256/$(dig img-oci-dir image layers 1 | cut -d: -f2) | cut -c1-12)"
is "-t, docker save: LAYER digest is the sha256 of the uncompressed layer" \
	"$("$TARFLAT" -t img-docker-old.tar | grep ' etc/passwd$' | awk '{print $6}')" \
	"2:$(sha256sum <l2.tar | cut -c1-12)"
mkimage oci-dir img-mixed l1.tar l2.tar compress=plain,gzip
layermap "1:$(hex12 "$(dig img-mixed image layers 1)")" "2:$(hex12 "$(dig img-mixed image layers 2)")" >map-mixed
listing "-t, OCI layout with a plain and a gzip layer" map-mixed img-mixed
mkimage oci-dir img-512 l1.tar l2.tar alg=sha512
layermap "1:$(hex12 "$(dig img-512 image layers 1)")" "2:$(hex12 "$(dig img-512 image layers 2)")" >map-512
listing "-t, sha512 layers: 12 hex digits of the sha512 digest" map-512 img-512
listing "-t, image on standard input" map-oci-archive - <img-oci-archive.tar
# a layer, then an image of one layer (l2): positions count across inputs
mkimage oci-dir img-l2 l2.tar
layermap 1 "2:$(hex12 "$(dig img-l2 image layers 1)")" >map-l-then-img
listing "-t, a plain layer then an image: the image's layer is 2:DIGEST" map-l-then-img l1.tar img-l2

# names that need escaping: control characters and backslashes as \ooo
python3 - <<'EOF'
import io, tarfile
with tarfile.open("esc.tar", "w", format=tarfile.PAX_FORMAT) as tf:
    for name in ["dir\\with\\backslash", "new\nline", "tab\there", "del\x7fete", "bell\x07",
                 "caf\u00e9", "esc\x1b[0m"]:
        ti = tarfile.TarInfo(name)
        ti.mtime = 1000000000
        ti.size = 1
        tf.addfile(ti, io.BytesIO(b"x"))
    ti = tarfile.TarInfo("sub\x01dir"); ti.type = tarfile.DIRTYPE; ti.mode = 0o755
    ti.mtime = 1000000000
    tf.addfile(ti)
EOF
printf '1 %s\n' 'dir\134with\134backslash' 'new\012line' 'tab\011here' 'del\177ete' 'bell\007' \
	"caf$(printf '\303\251')" 'esc\033[0m' 'sub\001dir' >map-esc
listing "-t: control characters, DEL and backslashes in names as \\ooo, UTF-8 kept" map-esc esc.tar
"$TARFLAT" -t esc.tar >esc.txt
is "-t by hand: a newline in a name is \\012, the line stays one line" \
	"$(grep -c 'new' esc.txt) $(grep 'new' esc.txt | sed 's/.* 1 //')" '1 new\012line'
is "-t by hand: a backslash is \\134" "$(grep 'dir.134' esc.txt | sed 's/.* 1 //')" 'dir\134with\134backslash'
is "-t by hand: the listing has as many lines as the tar members" "$(wc -l <esc.txt | tr -d ' ')" 8

# -t does not need a pipe: no refusal of a terminal, and -t with an image that fails prints nothing (t0455)
if command -v script >/dev/null 2>&1; then
	script -qec "$TARFLAT -t $T/extra.tar" /dev/null >tty.txt 2>&1
	ok "-t on a terminal lists (no 'refusing to write a tar to a terminal')" grep -q 'etc/hostname' tty.txt
else
	skip "-t on a terminal" "script(1) not installed"
fi

done_testing
