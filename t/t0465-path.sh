#!/bin/bash
# --path PATH (tarflat.1 OPTIONS): only PATH and everything under it, plus its
# ancestor directories with their own metadata. The expectation is the full
# output's extraction cut down to those paths (the inode groups recomputed
# within the cut: a hardlink group straddling the selection carries its
# content on its first name inside). PATH is a name in the output, never
# followed through a symlink; one not in the final tree is an error.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
. "$TDIR/lib-image.sh"
need tar
export TAR_OPTIONS=--warning=no-timestamp

# cutlist DIR PATH...: the `lst` lines of DIR at or under a PATH or an
# ancestor of one, the link column recomputed within them (t/excluderef.py
# cut, with --path and no pattern)
cutlist() { # DIR PATH...
	_cd=$1; shift
	tree "$_cd" >"$T/.full"
	_ca=()
	for _cp; do _ca+=(--path "$_cp"); done
	$PY "$TDIR/excluderef.py" cut "$T/.full" "${_ca[@]}" | tr '\t' ' '
}

mklayer l1.tar <<'EOF'
dir etc mtime=100
file etc/passwd data=root:x:0:0 mtime=101
file etc/group data=root:x:0: mtime=102
dir usr mode=0755 mtime=110
dir usr/bin mode=0755 mtime=111
file usr/bin/busybox size=4000 mode=0755 mtime=112
hardlink usr/bin/sh usr/bin/busybox
hardlink usr/bin/ls usr/bin/busybox
dir usr/lib mtime=113
file usr/lib/libc.so data=libc mode=0755 mtime=114
symlink bin usr/bin mtime=115
dir a mtime=120
file a/f data=shared-content mode=0600 uid=5 gid=6 mtime=121
dir b mode=0750 uid=3 gid=4 mtime=122
hardlink b/g a/f
hardlink b/h a/f
dir deep mode=0700 uid=1 gid=2 mtime=130
dir deep/x mode=0711 mtime=131
dir deep/x/y mode=2775 gid=9 mtime=132
file deep/x/y/z data=zed mtime=133
file deep/x/sibling data=sib mtime=134
file deep/top data=top mtime=135
dir deep/x/y/sub mtime=136
file deep/x/y/sub/leaf data=leaf mtime=137
EOF
mklayer l2.tar <<'EOF'
file etc/passwd data=root:x:0:0,app mtime=201
whiteout etc/group
file usr/bin/extra data=extra mode=0755 mtime=202
hardlink deep/x/y/zlink a/f
EOF
flatten_x full l1.tar l2.tar
is "--path: (setup) the full tree has the straddling group a/f b/g b/h deep/x/y/zlink" \
	"$(lst full --fields path,link | grep -E '^(a/f|b/g|b/h|deep/x/y/zlink) ')" \
	"a/f =a/f
b/g =a/f
b/h =a/f
deep/x/y/zlink =a/f"

# sel DESC PATH... : tarflat --path each PATH l1 l2, extracted, against the cut
sel() {
	_sd=$1; shift
	_args=()
	for _p; do _args+=(--path "$_p"); done
	if flatten_x sel.out "${_args[@]}" l1.tar l2.tar; then
		is "$_sd" "$(lst sel.out)" "$(cutlist full "$@")"
	else
		_report 1 "$_sd"
	fi
}
sel "--path a directory: usr/bin, a hardlink group all inside" usr/bin
sel "--path a file: etc/passwd (etc/ with its metadata, no other child)" etc/passwd
sel "--path twice: etc/passwd and usr/lib" etc/passwd usr/lib
sel "--path b: a group straddling it, its content on b/g" b
members "$T/.flat.tar" >m.txt
is "--path b: b/g carries the bytes, b/h links to it" "$(grep -E '^b(/| )' m.txt)" "b 5 -
b/g 0 -
b/h 1 b/g"
sel "--path b/h: one name of a group, alone, with the content" b/h
sel "--path a and b/h: the carrier a/f, b/h links to it" a b/h
members "$T/.flat.tar" >m.txt
is "--path a and b/h: member types" "$(grep -E '^(a/f|b/h) ' m.txt)" "a/f 0 -
b/h 1 a/f"
sel "--path deep/x/y/z: ancestors deep, deep/x, deep/x/y with their own modes and owners" deep/x/y/z
sel "--path deep/x/y: its subtree, a link into the straddling group" deep/x/y
sel "--path deep: the whole subtree" deep
sel "--path bin: the symlink itself, not what it points to" bin
sel "--path usr and usr/bin overlapping" usr usr/bin
sel "--path deep/x/y/zlink and b/h: two names of one group, both outside a/f's" deep/x/y/zlink b/h

flatten sel1.tar --path usr l1.tar l2.tar
flatten sel2.tar --path usr --path usr/bin l1.tar l2.tar
is_file "--path usr --path usr/bin: the same bytes as --path usr" sel2.tar sel1.tar
flatten sel3.tar --path usr/bin l1.tar l2.tar
for p in /usr/bin usr/bin/ ./usr/bin usr//bin; do
	flatten sel4.tar --path "$p" l1.tar l2.tar
	is_file "--path '$p' is usr/bin" sel4.tar sel3.tar
done

# errors: not in the final tree, through a symlink, deleted by a whiteout
ifails "--path a name not in the image" "--path nope: not in the image" "--path nope" \
	--path nope l1.tar l2.tar
ifails "--path through a symlink (bin/busybox) is not a name in the output" \
	"--path bin/busybox: not in the image" "--path bin/busybox" --path bin/busybox l1.tar l2.tar
ifails "--path a whited-out file" "--path etc/group: not in the image" "--path etc/group" \
	--path etc/group l1.tar l2.tar
ifails "--path: one good, one missing -> exit 1, nothing written" "--path usr/nope: not in the image" \
	"--path usr/nope" --path usr --path usr/nope l1.tar l2.tar
ifails "--path: -t too" "--path nope: not in the image" "--path nope" -t --path nope l1.tar l2.tar

# with an image as input: the same bytes as with its layer files
for f in oci-dir docker-old; do
	o=img-$f
	[ $f = oci-dir ] || o=$o.tar
	mkimage $f $o l1.tar l2.tar
	flatten want.tar --path b --path deep/x/y l1.tar l2.tar
	same "--path b --path deep/x/y on an image ($f) = on its layers" want.tar --path b --path deep/x/y $o
	ifails "--path missing, on an image ($f)" "--path nope: not in the image" "--path nope" \
		--path nope $o
done

# -t --path: the listing holds the selection only, the carrier inside
"$TARFLAT" -t --path b l1.tar l2.tar >tl.txt
is "-t --path b: b/, b/g with its size, b/h link to b/g" \
	"$(tr -s ' ' <tl.txt | awk '{ r = $0; for (i = 0; i < 6; i++) sub(/^[^ ]+ /, "", r); print substr($1, 1, 1), $3, r }' | sed 's/^h [0-9]*/h N/')" \
	"d 0 b/
- 14 b/g
h N b/h link to b/g"

done_testing
