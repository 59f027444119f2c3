#!/bin/bash
# The Linux kernel as the reader of tarflat's newc output (issue 15): a
# Debian kernel under qemu unpacks the archive, gzip-compressed, as its
# initramfs, and t/initwalk.c lists the tree it made. That listing must equal
# the listing of the tree GNU tar extracts from tarflat's tar output of the
# same layers, but for what the kernel cannot make (below). The stack holds
# hardlink groups across layers (a name added, one replaced, the carrier's
# name deleted; fifos, devices, empty files), the go-containerregistry #977
# case, devices, setuid/setgid/sticky modes, names of 255 and 4095 bytes, a
# sparse file and a file capability (which newc drops, with a warning). A
# second boot, of an archive written here byte by byte, shows that the
# listing sees each thing the kernel's unpacker does (init/initramfs.c;
# shared/RUNTIMES.md).
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-qemu.sh"

need_root       # GNU tar sets owners and makes devices only as root
need_initwalk

# sha16 TEXT: the hash column for a file holding TEXT
sha16() {
	printf %s "$1" | sha256sum | cut -c1-16
}

# rep N CHAR: CHAR N times
rep() {
	printf "%${1}s" '' | tr ' ' "$2"
}

# ---- the stack: every case of issue 15 in one tree, one boot -----------

A255=$(rep 255 a)
B250=$(rep 250 b)
DEEP=long
for _i in $(seq 16); do DEEP=$DEEP/$B250; done
# 4095 bytes, the longest name the kernel takes (a name of 4096 bytes and
# its NUL are over PATH_MAX)
DEEPF=$DEEP/$(rep $((4095 - ${#DEEP} - 1)) f)
{
	cat <<'EOF'
dir bin
file bin/sh size=1000 mode=0755
symlink bin/rsh sh
file bin/su data=su mode=4755
file bin/wall data=wall mode=2755 gid=5
dir dev
char dev/null 1 3 mode=0666
char dev/tty 5 0 mode=0666 gid=5
block dev/sda 8 0 mode=0660 gid=6
block dev/loop0 7 0 mode=0660 gid=6
fifo dev/initctl mode=0600
dir etc
file etc/shadow data=secret mode=0000
file etc/empty
file etc/empty-suid mode=4711 uid=1000
dir etc/owned uid=1000 gid=1000 mode=0700 mtime=1700000000
file etc/owned/f uid=1000 gid=1000 mode=0640 data=mine
file "etc/sp ace" data=space
file "etc/ütf8-ñ" data=utf8
dir hl mtime=1234
file hl/a data=shared mode=0640 uid=7 gid=8 mtime=2000
hardlink hl/b hl/a
file hl/x data=x1
hardlink hl/y hl/x
fifo hl/p mode=0620
hardlink hl/q hl/p
symlink hl/s target
hardlink hl/t hl/s
dir root mode=0700
dir srv mode=2775 gid=50
dir srv/shared mode=3770 gid=50
dir tmp mode=1777
dir times
file times/zero mtime=0
file times/y2038 mtime=2147483648
file times/u32max mtime=4294967295
dir big
file big/blob size=3000000
symlink big/abs /usr/lib/x
symlink big/dangling nowhere/at/all
EOF
	printf 'file "etc/tab\there" data=tab\n'
	echo "dir long"
	echo "file long/$A255 data=l255"
	d=long
	for _i in $(seq 16); do
		d=$d/$B250
		echo "dir $d"
	done
	echo "file $DEEPF data=deep"
	echo "symlink long/to-deep $DEEPF"
} | mklayer l1.tar
# layer 2: git and its hardlinks (go-containerregistry #977), a link to a
# file of layer 1, a name of a layer-1 group replaced
mklayer l2.tar <<'EOF'
dir usr
dir usr/bin
file usr/bin/git size=70000 mode=0755 mtime=500
dir usr/libexec
dir usr/libexec/git-core
hardlink usr/libexec/git-core/git-add usr/bin/git
hardlink usr/libexec/git-core/git-commit usr/bin/git
hardlink usr/libexec/git-core/git-log usr/bin/git
hardlink hl/c hl/a
file hl/x data=x2 mtime=3
EOF
# layer 3: the link target deleted, its links stay one inode; a group of
# layer 2 whose carrier's name goes; hardlinked devices, a group of empty
# files, a file with a capability (dropped: newc holds no xattrs)
mklayer l3.tar <<'EOF'
whiteout usr/bin/git
file bin/new data=new mtime=7
whiteout hl/a
hardlink dev/null2 dev/null
hardlink dev/sda-again dev/sda
file etc/e0 mode=0600 uid=3 mtime=8
hardlink etc/e1 etc/e0
hardlink srv/shared/e2 etc/e0
file bin/ping data=ping mode=0755 xattr.security.capability=cap
EOF
# layer 4: a sparse file (GNU tar, pax 1.0), written whole
truncate -s 2000000 holes
printf 'start' | dd of=holes conv=notrunc 2>/dev/null
printf 'end' >>holes
mkdir -p sp/var/log && cp --sparse=always holes sp/var/log/lastlog &&
	touch -d @1234567890 sp/var sp/var/log sp/var/log/lastlog
tar -C sp --format=posix --sparse --numeric-owner -cf l4.tar var

if flatten flat.tar l1.tar l2.tar l3.tar l4.tar 2>err && tar_list flat.tar want.raw 2>>err; then
	# The kernel links no symlink (do_symlink makes each name on its own):
	# a hardlinked symlink comes out as separate symlinks, one name each.
	awk '$2 == "l" { $10 = 1; $11 = "-" } { print }' want.raw >want
else
	sed 's/^/# /' err
	: >want
fi
ok "the stack flattens and extracts" test -s want
ok "the expected tree holds the #977 group (3 names, one inode)" \
	grep -q '^usr/libexec/git-core/git-log f 0755 0:0 500 70000 .* 3 =usr/libexec/git-core/git-add$' want
ok "the expected tree holds hl/a's group without hl/a (2 names, one inode)" \
	grep -q '^hl/c f 0640 7:8 2000 6 .* 2 =hl/b$' want
ok "the expected tree holds the group of empty files (3 names)" \
	grep -q '^srv/shared/e2 f 0600 3:0 8 0 .* 3 =etc/e0$' want
ok "the expected tree holds the hardlinked devices" \
	grep -q '^dev/sda-again b 0660 0:6 .* 8,0 2 =dev/sda$' want
ok "the expected tree holds the sparse file, 2000003 bytes" \
	grep -q '^var/log/lastlog f 0644 0:0 1234567890 2000003 ' want

# The walker and the lister agree with no kernel in between: initwalk run on
# the host over the extracted tree gives treelist.py's listing of it.
initwalk_host .tar_list host.iw
is_file "initwalk on the host lists the tree as treelist.py does" host.iw want.raw

if ! have_qemu; then
	skip "the kernel unpacks the stack as GNU tar extracts it" "$QEMU_WHY"
	skip "the kernel's unpacker, case by case" "$QEMU_WHY"
	done_testing
	exit
fi

"$TARFLAT" --format newc l1.tar l2.tar l3.tar l4.tar >flat.newc 2>err
is "newc: exit 0, one warning: bin/ping's capability dropped" "$? $(grep -c . err)" "0 1"
grep -q '^tarflat: warning: .*\bbin/ping\b' err || sed 's/^/# /' err
# The archive has its own dev and root: only what the kernel adds to them
# is left out.
if boot_list flat.newc got dev/console; then
	echo "# the stack booted in ${BOOT_SECONDS}s"
fi
is_file "the kernel unpacks the stack as GNU tar extracts it" got want

# ---- the kernel's unpacker, case by case ---------------------------------

# The longest names in and out of its limits; a name made of 16 components
# of 250 bytes, the last cut to the length wanted.
L=$(rep 250 d)
LD=$L
for _i in $(seq 2 16); do LD=$LD/$L; done
L4095=$LD/$(rep $((4095 - ${#LD} - 1)) x)
L4096=$LD/$(rep $((4096 - ${#LD} - 1)) y)
T4095=$(rep 4095 t)
T4097=$(rep 4097 t)
{
	cat <<EOF
dir m mtime=10
file m/none mode=0000 data=x mtime=11
file m/suid mode=4755 mtime=12
dir m/sgid mode=2775 gid=50 mtime=13
dir m/sticky mode=1777 mtime=14
dir h mtime=20
file h/a ino=100 nlink=2 mode=0600 uid=1 gid=1 mtime=21
file h/b ino=100 nlink=2 mode=0644 uid=2 gid=2 mtime=22 data=last
file h/c ino=101 nlink=2 mode=0600 mtime=23 data=first
file h/d ino=101 nlink=2 mode=0640 mtime=24
dir s mtime=30
symlink s/a ino=200 nlink=2 data=target mtime=31
symlink s/b ino=200 nlink=2 data=target mtime=32
fifo s/p ino=201 nlink=2 mode=0600 mtime=33
fifo s/q ino=201 nlink=2 mode=0644 uid=3 mtime=34
char s/c rdev=1,3 mode=0666 mtime=35
block s/d rdev=8,1 mode=0660 gid=6 mtime=36
sock s/k mode=0755 mtime=37
dir t mtime=40
file t/u32max mtime=4294967295
file t/y2038 mtime=2147483648
dir $L mtime=50
EOF
	d=$L
	for _i in $(seq 2 16); do
		d=$d/$L
		echo "dir $d mtime=50"
	done
	echo "file $L4095 data=in mtime=51"
	echo "file $L4096 data=out mtime=52"
	echo "symlink t/l4095 data=$T4095 mtime=41"
	echo "symlink t/l4097 data=$T4097 mtime=42"
} | newc_write probe.newc

# What the kernel makes of it: each mode whole (umask at create, then chmod);
# a regular file's names one inode carrying the owner, mode and mtime of
# the last name (the bytes of the name that had them: the later names open
# it without truncating); symlinks never linked; a fifo's second name
# linked with nothing re-applied, so the first name's metadata; directory
# mtimes as given, set after what is in them; mtime unsigned; a name or a
# symlink target over 4096 bytes (NUL counted) left out.
{
	cat <<EOF
$L d 0755 0:0 50 - - - - - -
EOF
	d=$L
	for _i in $(seq 2 16); do
		d=$d/$L
		echo "$d d 0755 0:0 50 - - - - - -"
	done
	cat <<EOF
$L4095 f 0644 0:0 51 2 $(sha16 in) - - 1 -
h d 0755 0:0 20 - - - - - -
h/a f 0644 2:2 22 4 $(sha16 last) - - 2 =h/a
h/b f 0644 2:2 22 4 $(sha16 last) - - 2 =h/a
h/c f 0640 0:0 24 5 $(sha16 first) - - 2 =h/c
h/d f 0640 0:0 24 5 $(sha16 first) - - 2 =h/c
m d 0755 0:0 10 - - - - - -
m/none f 0000 0:0 11 1 $(sha16 x) - - 1 -
m/sgid d 2775 0:50 13 - - - - - -
m/sticky d 1777 0:0 14 - - - - - -
m/suid f 4755 0:0 12 0 $(sha16 '') - - 1 -
s d 0755 0:0 30 - - - - - -
s/a l 0777 0:0 31 6 - ->target - 1 -
s/b l 0777 0:0 32 6 - ->target - 1 -
s/c c 0666 0:0 35 - - - 1,3 1 -
s/d b 0660 0:6 36 - - - 8,1 1 -
s/k s 0755 0:0 37 - - - - 1 -
s/p p 0600 0:0 33 - - - - 2 =s/p
s/q p 0600 0:0 33 - - - - 2 =s/p
t d 0755 0:0 40 - - - - - -
t/l4095 l 0777 0:0 41 4095 - ->$T4095 - 1 -
t/u32max f 0644 0:0 4294967295 0 $(sha16 '') - - 1 -
t/y2038 f 0644 0:0 2147483648 0 $(sha16 '') - - 1 -
EOF
} >probe.want
boot_list probe.newc probe.got
is_file "the kernel's unpacker, case by case" probe.got probe.want

done_testing
