#!/bin/bash
# the output rules (tarflat.1 OUTPUT): the output reads the same in every tar reader.  A rich image (names
# longer than 100 and than 255 bytes, long symlink and hardlink targets, ids
# above 2097151, negative, far-future and fractional mtimes, xattrs, hardlinks,
# symlinks, devices, fifos, a GNU sparse input, read-only and sticky dirs) is
# flattened once, then
#  - listed by GNU tar (-tv --full-time --numeric-owner), by libarchive
#    (bsdtar -tv for names and link targets, bsdtar's mtree writer for exact
#    times, modes, ids and sizes) and by Python tarfile: the three listings,
#    normalised by t/difflist.py, must be identical;
#  - extracted as root by GNU tar and by bsdtar (and Python tarfile): the
#    trees must be identical (Python's without xattrs: it does not write them);
#  - and the GNU tar tree must hold the values the layers put in.
. "$(dirname "$0")/lib.sh"
need python3 bsdtar
need_root

T0=1000000000
L1=d1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789-long-dir
L2=n1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890-long-name
DEEP=$L1/$L1/$L1/deep-file
TGT=/$L1/$L1/$L1/$L1/$L1/target-that-does-not-exist

mklayer r1.tar <<EOF
dir ./ mode=0755
dir $L1 mtime=1100000000
file $L1/$L2 data=long-name mode=0640 uid=3000000 gid=123456789 mtime=1200000000
dir $L1/$L1 mtime=1300000000
dir $L1/$L1/$L1 mode=0555 mtime=1400000000
file $DEEP data=deep-file mode=0600
hardlink $L1/link-to-long-name $L1/$L2
symlink long-symlink $TGT mtime=1500000000
symlink rel-symlink $L1/$L2
dir times mtime=1600000000
file times/negative data=neg mtime=-1000000
file times/future data=fut mtime=9000000000
file times/fraction data=frac pax.mtime=1234.5
file times/negfraction data=negfrac pax.mtime=-3.25
file times/zero data=zero mtime=0
dir attrs mode=01777 mtime=1700000000 xattr.user.dir=on-a-dir
file attrs/x data=x xattr.user.one=1 xattr.user.two=two xattr.trusted.t=trusted
hardlink attrs/x-link attrs/x
dir dev mtime=1800000000
char dev/null 1 3 mode=0666
block dev/loop7 7 7 mode=0660 gid=6
fifo dev/fifo mode=0600 uid=1000 gid=1000
file dev/suid data=s mode=04755
file dev/sgid data=s mode=02711 gid=50
file dev/sticky data=s mode=01644
file dev/none data=n mode=0000
file uname data=u uid=1000 gid=1000 uname=somebody gname=somegroup
EOF

# a sparse file from GNU tar (pax sparse 1.0) and one in old GNU format
truncate -s 5000000 holes
printf 'start' | dd of=holes conv=notrunc 2>/dev/null
printf 'middle' | dd of=holes bs=1 seek=2500000 conv=notrunc 2>/dev/null
printf 'end' >>holes
mkdir -p sp && cp --sparse=always holes sp/sparse-pax && cp --sparse=always holes sp/sparse-old &&
	touch -d @1234567890 sp sp/*
tar -C sp --format=posix --sparse --numeric-owner -cf r2.tar sparse-pax
tar -C sp --format=oldgnu --sparse --numeric-owner -cf r3.tar sparse-old
gzip -n -9 r3.tar

if ! flatten out.tar r1.tar r2.tar r3.tar.gz 2>err; then
	ok "tarflat flattens the rich image" sh -c 'cat err; false'
	done_testing
	exit
fi

# --- three listings ----------------------------------------------------------------
python3 "$TDIR/difflist.py" gnu out.tar >gnu.lst 2>gnu.err
python3 "$TDIR/difflist.py" bsd out.tar >bsd.lst 2>bsd.err
python3 "$TDIR/difflist.py" py out.tar >py.lst 2>py.err
cat gnu.err bsd.err py.err | sed 's/^/# /'
# GNU tar's listing and libarchive read the pax record mtime=-3.25 as -2.75
# (they add the fraction to -3); GNU tar's extraction, Python and Go read
# -3.25.  No encoding of a negative fractional time reads the same in all of
# them, so that member is checked on its own below.
NEGF=times/negfraction
for l in gnu bsd py; do grep -v "^$NEGF " $l.lst >$l.cmp; done
is "the listing has every member" "$(wc -l <gnu.lst | tr -d ' ')" 28
is_file "bsdtar lists what GNU tar lists" bsd.cmp gnu.cmp
is_file "Python tarfile lists what GNU tar lists" py.cmp gnu.cmp
is "the pax record mtime=-3.25 is written as it came" \
	"$(grep -ac '15 mtime=-3.25$' out.tar)" 1

# --- extraction ---------------------------------------------------------------------
rm -rf G B P && mkdir G B P
tar -x -f out.tar -C G --same-owner --numeric-owner --same-permissions \
	--xattrs --xattrs-include='*' 2>/dev/null
ok "bsdtar extracts it as root" bsdtar -x -p --numeric-owner --xattrs -f out.tar -C B
ok "Python tarfile extracts it as root" python3 -c '
import sys, tarfile
tf = tarfile.open(sys.argv[1])
kw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
tf.extractall(sys.argv[2], numeric_owner=True, **kw)' out.tar P
tree G >G.tree
tree B >B.tree
is "bsdtar's tree is GNU tar's" "$(grep -v "^$NEGF	" B.tree)" "$(grep -v "^$NEGF	" G.tree)"
is "GNU tar and Python extract mtime -3.25 exactly" \
	"$(stat -c %.9Y G/$NEGF P/$NEGF)" "$(printf '%s\n' -3.250000000 -3.250000000)"
# Python's tarfile neither writes xattrs nor sets a symlink's mtime
nomt() { awk -F'\t' -v OFS='\t' '$2 == "l" { $5 = "-" } { print }'; }
is "Python tarfile's tree is GNU tar's (but xattrs, symlink mtimes)" \
	"$(tree P --fields path,type,mode,owner,mtime,detail,link | nomt)" \
	"$(tree G --fields path,type,mode,owner,mtime,detail,link | nomt)"

# --- and it is the right tree ---------------------------------------------------------
h() { printf '%s:%s' "$(printf '%s' "$1" | wc -c | tr -d ' ')" "$(printf '%s' "$1" | sha256sum | cut -c1-16)"; }
HOLES=$(printf '%s:%s' "$(wc -c <holes | tr -d ' ')" "$(sha256sum <holes | cut -c1-16)")
is "the extracted tree holds what the layers say" "$(tr '\t' ' ' <G.tree)" "$(cat <<EOF
attrs d 1777 0:0 1700000000 - - user.dir=6f6e2d612d646972
attrs/x f 0644 0:0 $T0 $(h x) =attrs/x trusted.t=74727573746564,user.one=31,user.two=74776f
attrs/x-link f 0644 0:0 $T0 $(h x) =attrs/x trusted.t=74727573746564,user.one=31,user.two=74776f
$L1 d 0755 0:0 1100000000 - - -
$L1/$L1 d 0755 0:0 1300000000 - - -
$L1/$L1/$L1 d 0555 0:0 1400000000 - - -
$DEEP f 0600 0:0 $T0 $(h deep-file) - -
$L1/link-to-long-name f 0640 3000000:123456789 1200000000 $(h long-name) =$L1/link-to-long-name -
$L1/$L2 f 0640 3000000:123456789 1200000000 $(h long-name) =$L1/link-to-long-name -
dev d 0755 0:0 1800000000 - - -
dev/fifo p 0600 1000:1000 $T0 - - -
dev/loop7 b 0660 0:6 $T0 7,7 - -
dev/none f 0000 0:0 $T0 $(h n) - -
dev/null c 0666 0:0 $T0 1,3 - -
dev/sgid f 2711 0:50 $T0 $(h s) - -
dev/sticky f 1644 0:0 $T0 $(h s) - -
dev/suid f 4755 0:0 $T0 $(h s) - -
long-symlink l 0777 0:0 1500000000 ->$TGT - -
rel-symlink l 0777 0:0 $T0 ->$L1/$L2 - -
sparse-old f 0644 0:0 1234567890 $HOLES - -
sparse-pax f 0644 0:0 1234567890 $HOLES - -
times d 0755 0:0 1600000000 - - -
times/fraction f 0644 0:0 1234 $(h frac) - -
times/future f 0644 0:0 9000000000 $(h fut) - -
times/negative f 0644 0:0 -1000000 $(h neg) - -
times/negfraction f 0644 0:0 -3 $(h negfrac) - -
times/zero f 0644 0:0 0 $(h zero) - -
uname f 0644 1000:1000 $T0 $(h u) - -
EOF
)"
is "the listing keeps fractional mtimes, user and group names" \
	"$(grep -E '^(times/fraction|uname) ' py.lst)" "$(cat <<'EOF'
times/fraction f 0644 0:0 - 1234.5 4 -
uname f 0644 1000:1000 somebody:somegroup 1000000000 1 -
EOF
)"

done_testing
