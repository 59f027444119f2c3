#!/bin/bash
# Owner and time rewriting (rewrite.h): --owner=N, --group=N, --numeric-owner,
# --mtime=@T, --clamp-mtime and $SOURCE_DATE_EPOCH, for the tar output, newc
# and -t alike.
#
# Every member of the rewritten tar is checked against t/rwlist.py
# --expect, which applies the rules (GNU tar's, written there apart from
# rewrite.c) to the output without the options: ids, names, the mtime
# (a fraction kept or gone), the atime and ctime records, also those a
# pax global header carried; nothing else may change. The newc output and
# the -t listing must then show the owners and mtimes of that tar. Then
# SOURCE_DATE_EPOCH, bad values, and the point of it all: the same image
# built "on two days" (other mtimes, atimes, ctimes, owners, user names,
# gzip headers) flattens to the same bytes with the options, and to other
# bytes without them.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
need tar gzip
RW="$PY $TDIR/rwlist.py"
TT=1650000000   # the T of --mtime=@T in most tests (2022-04-15)

# l1.tar (pax): a global header first (an atime before T, a ctime after,
# a comment), members with fractional mtimes and their own atime/ctime
# records around T, implicit parents, a hardlink, a symlink, devices, a
# fifo, names; then a second global header that sets mtime (after T) for
# the members that follow, one of which gives its own.
$PY - l1.tar "$TT" <<'EOF'
import io, sys, tarfile
out, T = sys.argv[1], int(sys.argv[2])
buf = io.BytesIO()
tf = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT,
                  pax_headers={"atime": "1500000000.5", "ctime": "1800000000.25",
                               "comment": "kept as it is"})
def add(name, typ=tarfile.REGTYPE, data=b"", mtime=1700000000, pax=None, **kw):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mtime, ti.mode = typ, mtime, 0o755 if typ == tarfile.DIRTYPE else 0o644
    ti.uid, ti.gid, ti.uname, ti.gname = 1000, 100, "alice", "staff"
    for k, v in kw.items():
        setattr(ti, k, v)
    ti.pax_headers = pax or {}
    if typ == tarfile.REGTYPE:
        ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data) if typ == tarfile.REGTYPE else None)
add("etc/", tarfile.DIRTYPE, uid=0, gid=0, uname="root", gname="root")
add("etc/passwd", data=b"root:x:0:0\n", pax={"mtime": "1700000000.25", "atime": "1200000000",
                                              "ctime": "1700000001.5"})
add("etc/passwd.hard", tarfile.LNKTYPE, linkname="etc/passwd")
add("etc/localtime", tarfile.SYMTYPE, linkname="/usr/share/zoneinfo/UTC", mtime=1600000000)
add("edge/", tarfile.DIRTYPE, mtime=T - 100)
add("edge/at-t.5", data=b"a", mtime=T, pax={"mtime": "%d.5" % T})
add("edge/at-t", data=b"b", mtime=T)
add("edge/before.5", data=b"c", mtime=T - 10, pax={"mtime": "%d.5" % (T - 10),
                                                  "atime": "%d.75" % T, "ctime": str(T)})
add("edge/old", data=b"d", mtime=946684800)
add("deep/a/b/leaf", data=b"leaf", mtime=1700000002)       # implicit parents
add("dev/", tarfile.DIRTYPE, uid=0, gid=0, uname="root", gname="root")
add("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666, uid=0, gid=0)
add("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0, mode=0o660, gid=6, gname="disk")
add("dev/initctl", tarfile.FIFOTYPE, mode=0o600)
# a global header in the middle: mtime after T for what follows
g = tarfile.TarInfo._create_pax_generic_header({"mtime": "1750000000.75"}, tarfile.XGLTYPE,
                                               "utf-8")
tf.fileobj.write(g)
tf.offset += len(g)
add("late/", tarfile.DIRTYPE)
add("late/global-mtime", data=b"g")
add("late/own-mtime", data=b"o", pax={"mtime": "1600000000.125"})
tf.close()
open(out, "wb").write(buf.getvalue())
EOF
mklayer l2.tar --format gnu <<'EOF'
dir usr mtime=1700000003 uname=root gname=root
dir usr/bin mtime=946684800 uname=root gname=root
file usr/bin/tool data=tool mode=0755 uid=2 gid=2 uname=bin gname=bin mtime=1000000000
hardlink usr/bin/tool2 usr/bin/tool
EOF
mklayer l3.tar --format ustar --gzip <<'EOF'
dir var mtime=1700000004
file var/nobody data=n uid=65534 gid=65534 uname=nobody gname=nogroup mtime=1800000000
EOF
LAYERS=(l1.tar l2.tar l3.tar)
"$TARFLAT" "${LAYERS[@]}" >base.tar || { echo "Bail out! tarflat failed"; exit 1; }

# (setup) what the rules are checked on
$RW base.tar >base.lst
is "(setup) the members with a fractional mtime" \
	"$(grep 'mtime=[0-9]*\.' base.lst | cut -d' ' -f1 | tr '\n' ' ')" \
	"etc/passwd edge/at-t.5 edge/before.5 late late/global-mtime late/own-mtime "
is "(setup) the members with no user name" "$(grep ' u= ' base.lst | cut -d' ' -f1 | tr '\n' ' ')" \
	"deep deep/a deep/a/b var "
is "(setup) the members without the global header's ctime: their own, a link, other layers" \
	"$(grep -v 'ctime=1800000000.25' base.lst | cut -d' ' -f1 | tr '\n' ' ')" \
	"etc/passwd etc/passwd.hard edge/before.5 deep deep/a deep/a/b usr usr/bin usr/bin/tool usr/bin/tool2 var var/nobody "
is "(setup) implicit parents deep, deep/a, deep/a/b are members" \
	"$(awk '$1 ~ /^deep/ { print $1, $2 }' base.lst | tr '\n' ' ')" \
	"deep 5 deep/a 5 deep/a/b 5 deep/a/b/leaf 0 "

# rewrite DESC EXPECT-ARGS -- TARFLAT-ARGS: the tar, newc and -t outputs
# of tarflat TARFLAT-ARGS against the rules (newc not when NONEWC is set:
# a time it cannot hold)
rewrite() {
	_rd=$1; shift
	_ea=()
	while [ "$1" != -- ]; do _ea+=("$1"); shift; done
	shift
	"$TARFLAT" "$@" "${LAYERS[@]}" >r.tar 2>r.err
	is "$_rd: tar (exit $?)" "$($RW r.tar 2>&1)" "$($RW --expect "${_ea[@]}" base.tar)"
	$RW --brief r.tar >r.brief
	if [ -z "${NONEWC:-}" ]; then
		"$TARFLAT" --format newc "$@" "${LAYERS[@]}" >r.cpio 2>r.err
		is "$_rd: newc has the tar's owners and mtimes (exit $?)" "$($RW --brief r.cpio 2>&1)" \
			"$(cat r.brief)"
	fi
	"$TARFLAT" -t "$@" "${LAYERS[@]}" >r.txt 2>r.err
	is "$_rd: -t shows the tar's owners and mtimes (exit $?)" "$($RW --brief r.txt 2>&1)" \
		"$(cat r.brief)"
}
# col FIELD: the distinct values of column FIELD (e.g. uid) in r.tar's listing
col() {
	$RW r.tar | tr ' ' '\n' | grep "^$1=" | sort -u | tr '\n' ' '
}

rewrite "nothing asked" --
is_file "nothing asked: the same bytes" r.tar base.tar
rewrite "--owner=7" --owner 7 -- --owner=7
is "--owner=7: every uid 7, no user name" "$(col uid)$(col u)" "uid=7 u= "
rewrite "--group=9" --group 9 -- --group=9
is "--group=9: every gid 9, no group name" "$(col gid)$(col g)" "gid=9 g= "
rewrite "--owner=0 --group=0" --owner 0 --group 0 -- --owner=0 --group=0
rewrite "--numeric-owner" --numeric-owner -- --numeric-owner
$PY - r.tar >names.txt <<'EOF'
import sys, tarfile
for m in tarfile.open(sys.argv[1]):
    print(m.name, repr(m.uname), repr(m.gname), m.pax_headers.get("uname"), m.pax_headers.get("gname"))
EOF
is "--numeric-owner: every header's uname and gname empty, no pax uname/gname" \
	"$(awk '{ print $2, $3, $4, $5 }' names.txt | sort -u)" "'' '' None None"
is "--numeric-owner: the ids kept" "$($RW --brief r.tar)" "$($RW --brief base.tar)"

rewrite "--mtime=@T" --mtime $TT -- --mtime=@$TT
is "--mtime=@T: every mtime T, no fraction left" "$(col mtime)" "mtime=$TT "
is "--mtime=@T: every atime and ctime record T" "$(col atime)$(col ctime)" \
	"atime=$TT ctime=$TT "
is "--mtime=@T: on implicit parents, hardlinks, symlinks, devices, fifos too" \
	"$($RW r.tar | awk '$1 ~ /^(deep|deep\/a|etc\/passwd.hard|etc\/localtime|dev\/null|dev\/sda|dev\/initctl|usr\/bin\/tool2)$/ { print $1, $2, $8 }')" \
	"etc/passwd.hard 1 mtime=$TT
etc/localtime 2 mtime=$TT
deep 5 mtime=$TT
deep/a 5 mtime=$TT
dev/null 3 mtime=$TT
dev/sda 4 mtime=$TT
dev/initctl 6 mtime=$TT
usr/bin/tool2 1 mtime=$TT"

rewrite "--mtime=@T --clamp-mtime" --mtime $TT --clamp -- --mtime=@$TT --clamp-mtime
cp r.tar clamp.tar
is "--clamp-mtime: T.5 lowered to T, T-10.5 and T kept, the late ones T" \
	"$($RW r.tar | awk '$1 ~ /^(edge|late)\// { print $1, $8 }')" \
	"edge/at-t.5 mtime=$TT
edge/at-t mtime=$TT
edge/before.5 mtime=$((TT - 10)).5
edge/old mtime=946684800
late/global-mtime mtime=$TT
late/own-mtime mtime=1600000000.125"
is "--clamp-mtime: atime T.75 lowered, ctime T kept; the global ctime lowered" \
	"$($RW r.tar | awk '$1 == "edge/before.5" || $1 == "etc/passwd"' | grep -o '[ac]time=[0-9.]*' | tr '\n' ' ')" \
	"atime=1200000000 ctime=$TT atime=$TT ctime=$TT "
is "--clamp-mtime: no time after T anywhere" \
	"$($RW r.tar | grep -o '[acm]time=[0-9.]*' | cut -d= -f2 | awk -v t=$TT '$1 + 0 > t' | wc -l)" 0

NONEWC=1
rewrite "--mtime=@-5 (before 1970, a pax record)" --mtime -5 -- --mtime=@-5
rewrite "--mtime=@10000000000 (past the header's 11 octal digits)" --mtime 10000000000 -- \
	--mtime=@10000000000
NONEWC=
rewrite "everything: --owner=3000000 --group=4294967295 --numeric-owner --mtime=@1 --clamp-mtime" \
	--owner 3000000 --group 4294967295 --numeric-owner --mtime 1 --clamp -- \
	--owner=3000000 --group=4294967295 --numeric-owner --mtime=@1 --clamp-mtime
rewrite "--owner 0 --group 0 --mtime @T (separate arguments)" --owner 0 --group 0 --mtime $TT -- \
	--owner 0 --group 0 --mtime @$TT

# the same bytes with workers and to a file
"$TARFLAT" --mtime=@$TT --clamp-mtime "${LAYERS[@]}" >c1.tar
"$TARFLAT" -j 4 -o c4.tar --mtime=@$TT --clamp-mtime "${LAYERS[@]}"
is_file "-j 4 -o FILE --mtime=@T --clamp-mtime: the same bytes" c4.tar c1.tar

# what newc cannot hold, after the rewrite
for a in --mtime=@-5 --mtime=@4294967296 --owner=4294967296 --group=4294967296; do
	"$TARFLAT" --format newc "$a" "${LAYERS[@]}" >n.out 2>n.err
	is "newc $a: exit 1, nothing written, a message naming a path" \
		"$? $(wc -c <n.out) $(grep -c '^tarflat: [a-z].*newc cannot hold' n.err)" "1 0 1"
done
"$TARFLAT" --format newc --mtime=@4294967295 --owner=4294967295 "${LAYERS[@]}" >n.out
is "newc --mtime=@4294967295 --owner=4294967295: the largest values fit" \
	"$($RW --brief n.out | awk '{ split($2, id, "/"); print id[1], $3 }' | sort -u)" \
	"4294967295 4294967295"

# ---- SOURCE_DATE_EPOCH ---------------------------------------------------------

SOURCE_DATE_EPOCH=$TT "$TARFLAT" --clamp-mtime "${LAYERS[@]}" >sde.tar
is_file "SOURCE_DATE_EPOCH=T --clamp-mtime: the bytes of --mtime=@T --clamp-mtime" sde.tar clamp.tar
SOURCE_DATE_EPOCH=$TT "$TARFLAT" "${LAYERS[@]}" >sde0.tar
is_file "SOURCE_DATE_EPOCH=T alone: nothing rewritten" sde0.tar base.tar
SOURCE_DATE_EPOCH=$TT "$TARFLAT" -t --clamp-mtime "${LAYERS[@]}" >sde.txt
is "SOURCE_DATE_EPOCH=T --clamp-mtime -t: the clamped tar's listing" \
	"$($RW --brief sde.txt)" "$($RW --brief clamp.tar)"
SOURCE_DATE_EPOCH=1000 "$TARFLAT" --mtime=@$TT --clamp-mtime "${LAYERS[@]}" >w.tar
is_file "--mtime wins over SOURCE_DATE_EPOCH (with --clamp-mtime)" w.tar clamp.tar
"$TARFLAT" --mtime=@$TT "${LAYERS[@]}" >m.tar
SOURCE_DATE_EPOCH=1000 "$TARFLAT" --mtime=@$TT "${LAYERS[@]}" >w.tar
is_file "--mtime wins over SOURCE_DATE_EPOCH (without --clamp-mtime)" w.tar m.tar
SOURCE_DATE_EPOCH=$TT "$TARFLAT" --format newc --clamp-mtime "${LAYERS[@]}" >sde.cpio
is "SOURCE_DATE_EPOCH=T --clamp-mtime --format newc: the clamped tar's mtimes" \
	"$($RW --brief sde.cpio)" "$($RW --brief clamp.tar)"

# usage2 DESC ARG...: exit 2, nothing on stdout, a message on stderr
usage2() {
	_ud=$1; shift
	"$@" >u.out 2>u.err
	_us=$?
	is "$_ud: exit 2, nothing written, a message" \
		"$_us $(wc -c <u.out) $(grep -c '^tarflat: ' u.err)" "2 0 1"
}
usage2 "--clamp-mtime without --mtime or SOURCE_DATE_EPOCH" \
	env -u SOURCE_DATE_EPOCH "$TARFLAT" --clamp-mtime "${LAYERS[@]}"
ok "--clamp-mtime alone: the message names SOURCE_DATE_EPOCH" grep -q SOURCE_DATE_EPOCH u.err
for v in '' abc 12x 1.5 @$TT ' 1' 1e9 99999999999999999999; do
	usage2 "SOURCE_DATE_EPOCH='$v' --clamp-mtime" \
		env SOURCE_DATE_EPOCH="$v" "$TARFLAT" --clamp-mtime "${LAYERS[@]}"
done
for a in --owner=-1 '--owner= -1' --owner=abc --owner= --owner=1x --owner=18446744073709551616 \
	--group=-1 --group=x --mtime=123 --mtime=@x --mtime=@ --mtime=@1.5 --mtime=@12x \
	--mtime=@99999999999999999999 --mtime=yesterday; do
	usage2 "'$a'" "$TARFLAT" "$a" "${LAYERS[@]}"
done

# ---- the same image on two days -------------------------------------------------

# day N UID: the same files, built on "day N": each file's mtime and atime
# that day (with nanoseconds), the ctime of now, owned by UID (named
# builderN in the Python layer); layer 1 by GNU tar (posix: mtime, atime
# and ctime records, members in name order), layer 2 by Python tarfile
# (pax, a global atime record, fractional mtimes) and gzip with its own
# header time and name. A file from 2000 is the same both days.
day() {
	_dn=$1 _u=$2
	_day=$(( (_dn - 1) * 86400 ))
	rm -rf "day$_dn" && mkdir -p "day$_dn/src/etc" "day$_dn/src/usr/bin" "day$_dn/src/var/log" || return 1
	(
		cd "day$_dn/src" || exit 1
		printf 'root:x:0:0\n' >etc/passwd
		printf 'old\n' >etc/old
		head -c 70000 "$TDIR/../tarflat.c" >usr/bin/app
		chmod 755 usr/bin/app
		ln usr/bin/app usr/bin/app2
		ln -s ../usr/bin/app var/app
		find . -mindepth 1 -exec touch -h -d "@$((1700000000 + _day)).$((123456789 * _dn))" {} +
		find . -mindepth 1 ! -type l -exec touch -a -d "@$((1710000000 + _day)).5" {} +
		touch -d '@946684800' etc/old
	)
	_own=()
	[ "$_u" -eq 0 ] || _own=(--owner="builder$_dn:$_u" --group="builder$_dn:$_u")
	tar --format=posix --sort=name "${_own[@]}" -cf "day$_dn/l1.tar" -C "day$_dn/src" . &&
		$PY - "day$_dn/l2.tar" "$_dn" "$_u" <<'EOF' && gzip "day$_dn/l2.tar"
import io, sys, tarfile, time
out, n, uid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
day = (n - 1) * 86400
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT,
                  pax_headers={"atime": "%.6f" % time.time()}) as tf:
    for name, data in (("opt/", None), ("opt/tool", b"tool\n"), ("opt/conf", b"a=1\n")):
        ti = tarfile.TarInfo(name)
        ti.uid = ti.gid = uid
        ti.uname = ti.gname = "builder%d" % n
        ti.mtime = 1700000000 + day + 0.25 * n
        if data is None:
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            tf.addfile(ti)
        else:
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
EOF
}
day 1 0 && sleep 1.1 && day 2 1000 ||
	{ echo "Bail out! cannot build the two days' layers"; exit 1; }
if cmp -s day1/l1.tar day2/l1.tar || cmp -s day1/l2.tar.gz day2/l2.tar.gz; then
	echo "Bail out! the two days' layers are the same bytes"
	exit 1
fi
ok "(setup) the two days' layers hold the same bytes of content" \
	diff -r day1/src day2/src

# days DESC ARG...: flattened with ARG..., day 1 and day 2 in tar and newc
# into d1.tar d2.tar d1.cpio d2.cpio, -t into d1.txt d2.txt
days() {
	for _dn in 1 2; do
		"$TARFLAT" "$@" "day$_dn/l1.tar" "day$_dn/l2.tar.gz" >"d$_dn.tar" &&
			"$TARFLAT" --format newc "$@" "day$_dn/l1.tar" "day$_dn/l2.tar.gz" >"d$_dn.cpio" &&
			"$TARFLAT" -t "$@" "day$_dn/l1.tar" "day$_dn/l2.tar.gz" >"d$_dn.txt" ||
			echo "tarflat $* day$_dn failed"
	done
}
# same DESC: the two days' outputs are the same bytes
same() {
	is_file "$1: tar, the same bytes on both days" d2.tar d1.tar
	is_file "$1: newc, the same bytes on both days" d2.cpio d1.cpio
	is_file "$1: -t, the same listing on both days" d2.txt d1.txt
}
# differ DESC: the two days' outputs are not the same bytes
differ() {
	ok "$1: tar, other bytes on the other day" sh -c '! cmp -s d1.tar d2.tar'
	ok "$1: newc, other bytes on the other day" sh -c '! cmp -s d1.cpio d2.cpio'
}

days
differ "no options"
days --mtime=@$TT
differ "--mtime=@T alone (the owners differ)"
days --owner=0 --group=0 --numeric-owner
differ "--owner=0 --group=0 --numeric-owner alone (the times differ)"
days --mtime=@$TT --owner=0 --group=0
same "--mtime=@T --owner=0 --group=0"
days --mtime=@$TT --clamp-mtime --owner=0 --group=0 --numeric-owner
same "--mtime=@T --clamp-mtime --owner=0 --group=0 --numeric-owner"
is "--clamp-mtime on both days: etc/old keeps its mtime of 2000, the rest is T" \
	"$($RW --brief d1.tar | awk '{ print $1, $3 }' | grep -E '^(etc|etc/old|opt/tool) ')" \
	"etc $TT
etc/old 946684800
opt/tool $TT"
export SOURCE_DATE_EPOCH=$TT
days --clamp-mtime --owner=1 --group=1
same "SOURCE_DATE_EPOCH=T --clamp-mtime --owner=1 --group=1"
unset SOURCE_DATE_EPOCH
for n in 1 2; do $RW "d$n.tar" >"d$n.lst"; done
is "(check) the two days' listings are the same, with ids 1/1 and names empty" \
	"$(cut -d' ' -f4-7 d1.lst | sort -u) $(cmp -s d1.lst d2.lst && echo same)" \
	"uid=1 gid=1 u= g= same"

done_testing
