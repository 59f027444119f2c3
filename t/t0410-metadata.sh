#!/bin/bash
# tarflat.1 DESCRIPTION ("exactly the tree", metadata kept) and OUTPUT: mode (setuid/setgid/sticky),
# uid, gid, uname, gname, mtime (fractional via pax), device numbers, symlink
# targets, xattrs and other per-file pax records; long names and link targets,
# big ids and far mtimes round-trip.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
export TAR_OPTIONS="--warning=no-timestamp --warning=no-unknown-keyword"

# pyread TAR EXPR: print EXPR for each member m of TAR (Python tarfile)
pyread() {
	python3 - "$1" "$2" <<'EOF'
import sys, tarfile
from decimal import Decimal
with tarfile.open(sys.argv[1]) as tf:
    for m in tf:
        print(eval(sys.argv[2]))
EOF
}

# modes
mklayer l1.tar <<'EOF'
file suid data=s mode=4755
file sgid data=g mode=2755
file both data=b mode=6711
file sticky data=t mode=1644
file none data=n mode=0000
file ro data=r mode=0400
file all data=a mode=0777
dir tmp mode=1777
dir sgdir mode=2775
dir locked mode=0000
file locked/f data=f mode=0600
dir rx mode=0555
file rx/f data=f mode=0444
EOF
flatten_x out l1.tar
is "1 exactly: modes incl. setuid, setgid, sticky" "$(lst out --fields path,type,mode)" "$(cat <<'EOF'
all f 0777
both f 6711
locked d 0000
locked/f f 0600
none f 0000
ro f 0400
rx d 0555
rx/f f 0444
sgdir d 2775
sgid f 2755
sticky f 1644
suid f 4755
tmp d 1777
EOF
)"

# uids and gids, small and big (pax records and GNU base-256 input)
for fmt in pax gnu; do
	mklayer ids-$fmt.tar --format $fmt <<'EOF'
file u1 data=1 uid=1000 gid=100
file u2 data=2 uid=65534 gid=65534
file u3 data=3 uid=2097151 gid=2097151
file u4 data=4 uid=2097152 gid=3000000
file u5 data=5 uid=4000000000 gid=4294967294
dir d uid=3000000 gid=3000001
symlink s u1 uid=2500000 gid=2600000
EOF
	flatten_x out ids-$fmt.tar
	is "1 exactly: uid/gid incl. > 2097151 ($fmt input)" "$(lst out --fields path,type,owner)" "$(cat <<'EOF'
d d 3000000:3000001
s l 2500000:2600000
u1 f 1000:100
u2 f 65534:65534
u3 f 2097151:2097151
u4 f 2097152:3000000
u5 f 4000000000:4294967294
EOF
)"
done
is "3 output: big ids read back by Python tarfile" \
	"$(pyread .flat.tar '"%s %d %d" % (m.name, m.uid, m.gid)')" "$(cat <<'EOF'
u1 1000 100
u2 65534 65534
u3 2097151 2097151
u4 2097152 3000000
u5 4000000000 4294967294
d 3000000 3000001
s 2500000 2600000
EOF
)"

# uname and gname (not visible after --numeric-owner: read the headers)
longu=user-name-that-is-longer-than-32-bytes
mklayer l1.tar <<EOF
file a data=a uid=1000 gid=50 uname=alice gname=staff
file b data=b uid=1001 gid=51 uname=$longu gname=g-$longu
file c data=c
hardlink d a
EOF
flatten .flat.tar l1.tar
is "3 metadata: uname and gname preserved (long ones too)" \
	"$(pyread .flat.tar '"%s %s %s" % (m.name, m.uname or "-", m.gname or "-")' | grep -v '^d ')" "$(cat <<EOF
a alice staff
b $longu g-$longu
c - -
EOF
)"

# mtimes: directories too, zero, negative, 2038, beyond 33 bits, 2286
mklayer times-pax.tar --format pax <<'EOF'
dir d mtime=123
file d/f data=f mtime=999
dir d/e mtime=0
file d/e/g data=g mtime=5
file zero data=z mtime=0
file neg data=n mtime=-1
file old data=o mtime=-2000000000
file y2038 data=y mtime=2147483648
file big data=b mtime=8589934592
file y2286 data=c mtime=10000000000
dir far mtime=15000000000
symlink far/s x mtime=77
EOF
want_times=$(cat <<'EOF'
big 8589934592
d 123
d/e 0
d/e/g 5
d/f 999
far 15000000000
far/s 77
neg -1
old -2000000000
y2038 2147483648
y2286 10000000000
zero 0
EOF
)
flatten_x out times-pax.tar
is "1 exactly: mtimes of files, dirs, symlinks; negative and far (pax input)" \
	"$(lst out --fields path,mtime)" "$want_times"
# the same stack written by a GNU-format writer (base-256 times)
mklayer times-gnu.tar --format gnu <<'EOF'
dir d mtime=123
file d/f data=f mtime=999
dir d/e mtime=0
file d/e/g data=g mtime=5
file zero data=z mtime=0
file neg data=n mtime=-1
file old data=o mtime=-2000000000
file y2038 data=y mtime=2147483648
file big data=b mtime=8589934592
file y2286 data=c mtime=10000000000
dir far mtime=15000000000
symlink far/s x mtime=77
EOF
flatten_x out times-gnu.tar
is "1 exactly: mtimes, negative and far (GNU base-256 input)" \
	"$(lst out --fields path,mtime)" "$want_times"

# mtimes outside what the file system holds: read the output headers
mklayer l1.tar <<'EOF'
file before1678 data=a mtime=-10000000000
file after2262 data=b mtime=9300000000
file year5138 data=c mtime=100000000000
EOF
flatten .flat.tar l1.tar
is "3 output: mtimes before 1678 and after 2262 round-trip" \
	"$(pyread .flat.tar '"%s %d" % (m.name, m.mtime)')" "$(cat <<'EOF'
before1678 -10000000000
after2262 9300000000
year5138 100000000000
EOF
)"

# tarflat keeps mtimes in 32 bits unless they leave 1970..2106: the edge of
# that range, and directories made implicitly by entries outside it
mklayer l1.tar --format pax <<'EOF'
file edge0 data=a mtime=4294967294
file edge1 data=b mtime=4294967295
file edge2 data=c mtime=4294967296
file imp/a/f data=f mtime=-7
hardlink imp/b/h imp/a/f mtime=-8
symlink imp2/c/s x mtime=4294967295
EOF
flatten .flat.tar l1.tar
is "3 output: mtimes at 2^32 - 2, - 1 and 2^32; implicit directories of far-dated entries" \
	"$(pyread .flat.tar '"%s %d" % (m.name, m.mtime)')" "$(cat <<'EOF'
edge0 4294967294
edge1 4294967295
edge2 4294967296
imp -7
imp/a -7
imp/a/f -7
imp/b -8
imp/b/h -7
imp2 4294967295
imp2/c 4294967295
imp2/c/s 4294967295
EOF
)"

# fractional mtimes are kept (pax), on files and directories
mklayer l1.tar <<'EOF'
dir fd mtime=1500000000 pax.mtime=1500000000.5
file fd/frac data=f mtime=1234567890 pax.mtime=1234567890.123456789
file whole data=w mtime=1234567890
EOF
flatten_x out l1.tar
is "3 metadata: fractional mtime preserved in the output pax" \
	"$(pyread .flat.tar '"%s %s" % (m.name, Decimal(m.pax_headers["mtime"]) if "mtime" in m.pax_headers else "-")')" \
	"$(cat <<'EOF'
fd 1500000000.5
fd/frac 1234567890.123456789
whole -
EOF
)"
is "3 metadata: fractional mtime restored on extraction (ns)" \
	"$(python3 -c 'import os; print(os.stat("out/fd/frac").st_mtime_ns, os.stat("out/fd").st_mtime_ns)')" \
	"1234567890123456789 1500000000500000000"

# ustar headers with pax only where a value does not fit
mklayer l1.tar <<'EOF'
dir d mode=0750 uid=5 gid=6 mtime=100
file d/f data=x uname=u gname=g
symlink d/s f
hardlink d/h d/f
EOF
flatten .flat.tar l1.tar
is "3 output: ustar headers, no pax record where every value fits" \
	"$(pyread .flat.tar '"%s %s" % (m.name, sorted(m.pax_headers))')" "$(cat <<'EOF'
d []
d/f []
d/s []
d/h []
EOF
)"

# xattrs (user.* as any user; trusted.* as root)
mklayer l1.tar <<'EOF'
file x data=x xattr.user.foo=bar xattr.user.mime_type=text/plain
dir xd xattr.user.d=1
file xd/in data=in xattr.user.in=yes
hardlink hx x
EOF
flatten_x out l1.tar
is "1 exactly: user.* xattrs on files and dirs, shared by hardlinks" "$(lst out --fields path,xattr)" "$(cat <<'EOF'
hx user.foo=626172,user.mime_type=746578742f706c61696e
x user.foo=626172,user.mime_type=746578742f706c61696e
xd user.d=31
xd/in user.in=796573
EOF
)"
mklayer l1.tar <<'EOF'
dir d xattr.user.a=1 xattr.user.keep=1
file f data=f xattr.user.old=1
EOF
mklayer l2.tar <<'EOF'
dir d xattr.user.b=2 xattr.user.keep=2
file f data=g
EOF
flatten_x out l1.tar l2.tar
is "2.4 dir over dir: xattrs replaced with the entry's; new file has none" "$(lst out --fields path,xattr)" "$(cat <<'EOF'
d user.b=32,user.keep=32
f -
EOF
)"
if [ "$(id -u)" -eq 0 ]; then
	mklayer l1.tar <<'EOF'
file t data=t xattr.trusted.overlay.opaque=y xattr.user.u=1
EOF
	flatten_x out l1.tar
	is "1 exactly: trusted.* xattrs (root)" "$(lst out --fields path,xattr)" \
		"t trusted.overlay.opaque=79,user.u=31"
else
	skip "1 exactly: trusted.* xattrs (root)" "needs root"
fi

# binary xattr values as GNU tar --xattrs and bsdtar write them
mkdir -p xsrc
printf 'v' >xsrc/f
touch -d @50 xsrc/f
if python3 -c 'import os; os.setxattr("xsrc/f", "user.bin", bytes([0, 1, 255, 254, 10, 61, 32]))' 2>/dev/null; then
	tar --format=posix --xattrs --xattrs-include='user.*' -cf xg.tar -C xsrc f
	flatten_x out xg.tar
	is "1 exactly: binary xattr value from GNU tar --xattrs" "$(lst out --fields path,xattr)" \
		"f user.bin=0001fffe0a3d20"
	if command -v bsdtar >/dev/null 2>&1; then
		bsdtar --format pax -cf xb.tar -C xsrc f
		flatten_x out xb.tar
		is "1 exactly: binary xattr value from bsdtar (LIBARCHIVE and SCHILY records)" \
			"$(lst out --fields path,xattr)" "f user.bin=0001fffe0a3d20"
	else
		skip "1 exactly: binary xattr value from bsdtar" "bsdtar not installed"
	fi
else
	skip "1 exactly: binary xattr values from GNU tar and bsdtar" "no user xattrs here"
fi

# an empty xattr (setfattr -n user.empty; buildah writes the record
# SCHILY.xattr.user.empty=) is an empty attribute, not a deletion: the
# layer written by Python's tarfile, extracted by GNU tar (tarflat.1
# rule 6 and the departures from umoci)
python3 - <<'EOF'
import io, tarfile
with tarfile.open("empty-xattr.tar", "w", format=tarfile.PAX_FORMAT) as t:
    for name, pax in (("e", {"SCHILY.xattr.user.empty": "", "SCHILY.xattr.user.full": "v"}),
                      ("l", {"LIBARCHIVE.xattr.user.lib": ""})):
        i = tarfile.TarInfo(name)
        i.size, i.mtime, i.pax_headers = 1, 60, pax
        t.addfile(i, io.BytesIO(b"x"))
EOF
flatten_x out empty-xattr.tar
# (GNU tar reads no LIBARCHIVE.xattr records: l's is checked in the tar)
is "6 an empty xattr of the member's own is kept, as GNU tar extracts it" \
	"$(lst out --fields path,xattr)" "$(printf 'e user.empty=,user.full=76\nl -')"
is "6 the empty xattr records are in the output" \
	"$(python3 -c '
import sys, tarfile
for m in tarfile.open(sys.argv[1]):
    print(m.name, sorted((k, v) for k, v in m.pax_headers.items() if "xattr" in k))' .flat.tar)" \
	"$(printf "%s\n%s" "e [('SCHILY.xattr.user.empty', ''), ('SCHILY.xattr.user.full', 'v')]" \
		"l [('LIBARCHIVE.xattr.user.lib', '')]")"

# other per-file pax records are carried over verbatim
mklayer l1.tar <<'EOF'
file r data=r pax.atime=1111.25 pax.ctime=2222 pax.LIBARCHIVE.xattr.user.lib=dmFs pax.SCHILY.acl.access=user::rw-,group::r--,other::r-- pax.SCHILY.xattr.user.s=v
EOF
flatten .flat.tar l1.tar
is "3 metadata: atime, ctime, LIBARCHIVE.xattr, SCHILY.acl, SCHILY.xattr kept" \
	"$(pyread .flat.tar '"\n".join("%s=%s" % (k, v) for k, v in sorted(m.pax_headers.items()) if k not in ("path", "size", "mtime", "uid", "gid"))')" \
	"$(cat <<'EOF'
LIBARCHIVE.xattr.user.lib=dmFs
SCHILY.acl.access=user::rw-,group::r--,other::r--
SCHILY.xattr.user.s=v
atime=1111.25
ctime=2222
EOF
)"

# long names (> 100, > 255, > 1000), a 255-byte component, long link targets
n150=$(printf 'a%09d/' $(seq 1 14))f150
n300=$(printf 'b%09d/' $(seq 1 29))f300
n1100=$(printf 'c%09d/' $(seq 1 109))f1100
c255=$(printf 'x%.0s' $(seq 1 255))
t300=$(printf '../%.0s' $(seq 1 100))
for fmt in pax gnu; do
	mklayer long-$fmt.tar --format $fmt <<EOF
file $n150 data=150
file $n300 data=300
file $n1100 data=1100
file $c255 data=255
symlink sl $t300$n300
hardlink $n300-hl $n1100
hardlink hl $n150
EOF
	flatten_x out long-$fmt.tar
	is "3 output: long names, a 255-byte component, long link targets ($fmt input)" \
		"$(lst out --fields path,type,detail,link | grep -v ' d ')" "$(cat <<EOF
$n150 f $(h 150) =$n150
$n300 f $(h 300) -
$n300-hl f $(h 1100) =$n300-hl
$n1100 f $(h 1100) =$n300-hl
hl f $(h 150) =$n150
sl l ->$t300$n300 -
$c255 f $(h 255) -
EOF
)"
done

# devices and fifos
if [ "$(id -u)" -eq 0 ]; then
	mklayer l1.tar <<'EOF'
dir dev mtime=10
char dev/null 1 3 mode=0666 mtime=11
block dev/sda 8 0 mode=0660 gid=6 mtime=12
char dev/big 4095 1048575 mode=0600 mtime=13
fifo run/p mode=0600 uid=5 mtime=14
hardlink run/p2 run/p
EOF
	flatten_x out l1.tar
	is "1 exactly: char/block devices (major,minor) and fifos (root)" "$(lst out)" "$(cat <<'EOF'
dev d 0755 0:0 10 - - -
dev/big c 0600 0:0 13 4095,1048575 - -
dev/null c 0666 0:0 11 1,3 - -
dev/sda b 0660 0:6 12 8,0 - -
run d 0755 0:0 14 - - -
run/p p 0600 5:0 14 - =run/p -
run/p2 p 0600 5:0 14 - =run/p -
EOF
)"
else
	skip "1 exactly: char/block devices and fifos" "needs root"
fi

done_testing
