#!/bin/bash
# --squash-from N (issue 16): the image's layers 1..N-1 kept as they are,
# N..top replaced by one changeset layer (OCI image-spec layer.md).
#   For named cases and random stacks (t/genstack.py, every N; t/wildstack.py)
#   written as OCI layouts: the new image passes t/imgcheck.py verify; it has
#   N layers; the kept layers are the same blobs (bytes, digests, sizes) with
#   the same diff_ids and the same history entries, then one entry "tarflat:
#   squashed layers N to TOP" dated by the input's created; the rest of the
#   config is kept; tarflat NEW writes exactly tarflat OLD's bytes; and, as
#   root, `umoci unpack` of NEW gives the tree `umoci unpack` of OLD gives
#   (t/treedump.py; a directory umoci dated at unpack time in either tree is
#   compared without its mtime, as t/diffumoci.sh -m does). Wildstack stacks
#   umoci applies otherwise than tarflat (t0520) are compared by tarflat
#   alone; stacks tarflat refuses must be refused by --squash-from too.
#   The named cases pin the changeset itself (its members, from Python's
#   tarfile): whiteouts for removed names, an opaque marker where nothing
#   of a directory's lower contents is left, directories only where
#   something under them changed or their metadata did, hardlinks to base
#   names (and what GNU tar makes of the changeset alone), a base file
#   overwritten while its base hardlink keeps the old bytes, go-
#   containerregistry #977 and #2002 with the deletion or overwrite in the
#   squashed part. Every input form (OCI layout and archive, docker save old
#   and Docker 25, dir:) and output (oci-archive, pipe, docker-archive) keeps
#   the same blobs; the config's history must hold the layers kept.
#
#   TARFLAT_SQUASH_STACKS=N   genstack seeds (default 5), each at every N
#   TARFLAT_SQUASH_WILD=N     wildstack seeds (default 4), at N = 2 and top
#   TARFLAT_SQUASH_FIRST=S    the first seed (default 1)
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
. "$TDIR/lib-image.sh"
. "$TDIR/lib-imgout.sh"
need tar gzip sha256sum
export TAR_OPTIONS=--warning=no-timestamp

NGEN=${TARFLAT_SQUASH_STACKS:-5}
NWILD=${TARFLAT_SQUASH_WILD:-4}
FIRST=${TARFLAT_SQUASH_FIRST:-1}
UMOCI=0
command -v umoci >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && UMOCI=1
sha() { sha256sum <"$1" | cut -d' ' -f1; }
SQ_BYTES=assert  # note: on random stacks (see the 'recreated' cases)
T0=$(date +%s)

# umoci_tree LAYOUT:TAG OUT: the tree umoci unpack builds (t/treedump.py)
umoci_tree() {
	rm -rf "$T/ub"
	umoci unpack --image "$1" "$T/ub" >"$T/.uerr" 2>&1 && tree "$T/ub/rootfs" >"$2"
}
# masked A B: A.m and B.m, A and B with the mtime of each path that is a
# directory in both, dated T0 or later in either, as '*'
masked() {
	$PY - "$T0" "$1" "$2" <<'EOF'
import sys
t0, a, b = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def rows(p):
    with open(p) as f:
        return [l.rstrip("\n").split("\t") for l in f]
ra, rb = rows(a), rows(b)
da = {r[0]: r for r in ra if r[1] == "d"}
db = {r[0]: r for r in rb if r[1] == "d"}
late = {p for p in set(da) & set(db) if int(da[p][4]) >= t0 or int(db[p][4]) >= t0}
for p in late:
    da[p][4] = db[p][4] = "*"
for rs, out in ((ra, a + ".m"), (rb, b + ".m")):
    with open(out, "w") as f:
        f.writelines("\t".join(r) + "\n" for r in rs)
EOF
}
# want_history IMG KEPT TOP: the history --squash-from KEPT+1 must write
want_history() {
	$PY - "$(IMGCHECK_DOCKER_TYPES=1 imgcheck get "$1" history)" \
		"$(IMGCHECK_DOCKER_TYPES=1 imgcheck get "$1" created 2>/dev/null)" "$2" \
		"tarflat: squashed layers $(($2 + 1)) to $3" <<'EOF'
import json, sys
hist, created, kept, text = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
out, n = [], 0
for e in hist:
    if n >= kept:
        break
    out.append(e)
    n += not e.get("empty_layer", False)
new = {"created": json.loads(created)} if created else {}
new["created_by"] = text
out.append(new)
print(json.dumps(out, separators=(",", ":")))
EOF
}

# squash DESC OLD N [REFTREE]: OLD (an OCI layout tagged t) squashed from
# N into the layout $OLD.sqN; every check of the header. REFTREE: umoci's
# tree of OLD, made here when empty; "-" skips umoci.
squash() {
	sq_d=$1 sq_old=$2 sq_n=$3 sq_ut=${4:-}
	sq_new=$sq_old.sq$sq_n
	rm -rf "$sq_new"
	if ! toimage oci "$sq_new:t" --squash-from "$sq_n" "$sq_old:t"; then
		_report 1 "$sq_d: tarflat --squash-from $sq_n failed"
		sed 's/^/# /' "$T/.ierr"
		return 1
	fi
	IMGCHECK_DOCKER_TYPES=1 imgcheck verify "$sq_old:t" >"$sq_new.old.v"
	if ! imgcheck verify "$sq_new" >"$sq_new.v" 2>&1; then
		_report 1 "$sq_d: imgcheck.py verify"
		sed 's/^/# /' "$sq_new.v"
		return 1
	fi
	sq_top=$(grep -c '^layer ' "$sq_new.old.v")
	sq_k=$((sq_n - 1))
	# the kept layers: the same digests, sizes, diff_ids, and bytes (media
	# types may be Docker's named as OCI names them)
	is "$sq_d: N layers, the first N-1 the input's (digests, sizes, diff_ids)" \
		"$(grep '^layer ' "$sq_new.v" | head -n "$sq_k" | cut -d' ' -f1-4,6; grep -c '^layer ' "$sq_new.v")" \
		"$(grep '^layer ' "$sq_new.old.v" | head -n "$sq_k" | cut -d' ' -f1-4,6; echo "$sq_n")"
	sq_same=0
	for sq_h in $(grep '^layer ' "$sq_new.v" | head -n "$sq_k" | awk '{ sub("sha256:", "", $3); print $3 }'); do
		cmp -s "$sq_new/blobs/sha256/$sq_h" "$sq_old/blobs/sha256/$sq_h" || sq_same=1
	done
	_report $sq_same "$sq_d: the kept blobs are byte for byte the input's"
	is "$sq_d: the history: the kept layers' entries, then one" \
		"$(imgcheck get "$sq_new" history)" "$(want_history "$sq_old:t" "$sq_k" "$sq_top")"
	IMGCHECK_DOCKER_TYPES=1 imgcheck config "$sq_old:t" >"$sq_new.oldcfg"
	imgcheck config "$sq_new" >"$sq_new.cfg"
	ok "$sq_d: the rest of the config kept" imgcheck cmpconfig "$sq_new.oldcfg" "$sq_new.cfg"
	"$TARFLAT" "$sq_old:t" >"$sq_new.oldref" 2>/dev/null
	"$TARFLAT" "$sq_new" >"$sq_new.newref" 2>/dev/null
	extract "$sq_new.oldref" "$sq_new.oldx" && tree "$sq_new.oldx" >"$sq_new.oldxt"
	extract "$sq_new.newref" "$sq_new.newx" && tree "$sq_new.newx" >"$sq_new.newxt"
	rm -rf "$sq_new.oldx" "$sq_new.newx"
	is_file "$sq_d: tarflat NEW extracts to tarflat OLD's tree" "$sq_new.newxt" "$sq_new.oldxt"
	if [ "$SQ_BYTES" = assert ]; then
		is_file "$sq_d: tarflat NEW = tarflat OLD, byte for byte" "$sq_new.newref" "$sq_new.oldref"
	elif ! cmp -s "$sq_new.newref" "$sq_new.oldref"; then
		echo "# $sq_d: tarflat NEW and OLD: the same tree in another order (see 'recreated')"
	fi
	[ $UMOCI -eq 1 ] && [ "$sq_ut" != - ] || return 0
	if [ -z "$sq_ut" ]; then
		sq_ut=$sq_old.utree
		[ -s "$sq_ut" ] || umoci_tree "$sq_old:t" "$sq_ut" ||
			{ _report 1 "$sq_d: umoci unpack OLD failed"; sed 's/^/# /' "$T/.uerr"; return 1; }
	fi
	if ! umoci_tree "$sq_new:t" "$sq_new.utree"; then
		_report 1 "$sq_d: umoci unpack NEW failed"
		sed 's/^/# /' "$T/.uerr" | head -n 10
		return 1
	fi
	masked "$sq_ut" "$sq_new.utree"
	is_file "$sq_d: umoci unpack NEW = umoci unpack OLD" "$sq_new.utree.m" "$sq_ut.m"
}
# changeset DESC NEW N WANT: the members of NEW's layer N (Python's
# tarfile: NAME TYPE LINKNAME), sorted (WANT too)
changeset() {
	imgcheck blob "$2" "tar$3" "$2.cs.tar"
	is "$1: the changeset's members" "$(members "$2.cs.tar" | sort)" "$(printf '%s' "$4" | sort)"
}

# ---- named cases: an image of the layers given (each a spec for
# t/mklayer.py, separated by lines '--'), squashed from N
# case NAME N: the spec on stdin; the image $NAME (OCI layout, tagged t)
case_image() {
	_c=$1
	rm -rf "$_c" "$_c".l*
	awk -v p="$_c" 'BEGIN { n = 1; f = p ".l" n ".spec"; printf "" > f }
		$0 == "--" { n++; f = p ".l" n ".spec"; printf "" > f; next }
		{ print > f }' || return 1
	_ls=
	for _s in "$_c".l*.spec; do
		mklayer "${_s%.spec}.tar" <"$_s" || return 1
		_ls="$_ls ${_s%.spec}.tar"
	done
	# shellcheck disable=SC2086
	mkimage oci-dir "$_c" $_ls tag=t
}

case_image wh <<'EOF'
dir etc mtime=100
file etc/motd data=hello mtime=101
file etc/keep data=keep mtime=102
dir f mtime=110
file f/x data=x mtime=111
file f/y data=y mtime=112
--
whiteout etc/motd
whiteout f/x
EOF
squash "whiteouts" wh 2
changeset "whiteouts" wh.sq2 2 "etc 5 -
etc/.wh.motd 0 -
f 5 -
f/.wh.x 0 -"

case_image opq <<'EOF'
dir opt mtime=100
file opt/a data=a mtime=101
dir opt/sub mtime=102
file opt/sub/b data=b mtime=103
dir d mtime=110
file d/x data=x mtime=111
file d/y data=y mtime=112
dir e mtime=120
file e/x data=x mtime=121
--
opaque opt
file opt/new data=new mtime=201
whiteout d/x
whiteout d/y
file d/z data=z mtime=211
--
whiteout e/x
EOF
squash "opaque markers" opq 2
changeset "opaque markers: an opaque marker in the squashed part; all of d's lower names and all of e's whited out" \
	opq.sq2 2 "opt 5 -
opt/.wh..wh..opq 0 -
opt/new 0 -
d 5 -
d/.wh..wh..opq 0 -
d/z 0 -
e 5 -
e/.wh..wh..opq 0 -"
squash "opaque markers, from 3" opq 3
changeset "opaque markers, from 3: e emptied by whiteouts" opq.sq3 3 "e 5 -
e/.wh..wh..opq 0 -"

case_image retype <<'EOF'
dir g mtime=100
dir g/sub mtime=101
file g/sub/y data=y mtime=102
dir h mtime=110
file h/x data=x mtime=111
file i data=i mtime=120
symlink s target1 mtime=130
dir m mtime=140 mode=0755
file m/k data=k mtime=141
file own data=o mtime=150
--
whiteout g
whiteout h
file h data=now-a-file mtime=211
whiteout i
dir i mtime=221
file i/y data=y mtime=222
symlink s target2 mtime=231
dir m mtime=240 mode=0700
file own data=o mtime=150 uid=7
EOF
squash "removed, retyped, changed metadata" retype 2
changeset "removed, retyped, changed metadata: a whiteout for g, h and i written anew, m alone" \
	retype.sq2 2 ".wh.g 0 -
h 0 -
i 5 -
i/y 0 -
m 5 -
own 0 -
s 2 target2"

case_image same <<'EOF'
dir etc mtime=100
file etc/a data=a mtime=101
--
dir etc mtime=100
--
EOF
squash "nothing changed above the base" same 2
changeset "nothing changed above the base: an empty changeset" same.sq2 2 ""

case_image root <<'EOF'
file x data=x mtime=100
dir y mtime=101
file y/z data=z mtime=102
--
opaque .
file new data=new mtime=201
EOF
squash "an opaque marker at the root" root 2
changeset "an opaque marker at the root" root.sq2 2 ".wh..wh..opq 0 -
new 0 -"

# hardlinks whose other names are in the base
case_image hl <<'EOF'
dir usr mtime=100
file usr/busybox size=5000 mode=0755 mtime=101
--
hardlink usr/ls usr/busybox
EOF
squash "a new name for a base file" hl 2
changeset "a new name for a base file: a hardlink to the base name, not the content" hl.sq2 2 "usr 5 -
usr/ls 1 usr/busybox"
is "a new name for a base file: tar -tv of the changeset shows the link to a name outside it" \
	"$(tar -tvf hl.sq2.cs.tar | awk '{ o = $1; for (i = 6; i <= NF; i++) o = o " " $i; print o }')" \
	"drwxr-xr-x usr/
hrwxr-xr-x usr/ls link to usr/busybox"
mkdir -p hl.alone
ok "a new name for a base file: GNU tar cannot extract the changeset alone (its target is below)" \
	eval '! tar -xf hl.sq2.cs.tar -C hl.alone 2>/dev/null'
if [ $UMOCI -eq 1 ]; then
	is "a new name for a base file: umoci's tree links usr/ls to usr/busybox" \
		"$(awk -F '\t' '$1 == "usr/ls" { print $7 }' hl.sq2.utree)" "=usr/busybox"
fi

case_image over <<'EOF'
file a data=A mtime=100
hardlink b a
file c data=C mtime=110
hardlink d c
--
file a data=B mtime=200
file d data=D mtime=210
EOF
squash "a base file overwritten, its base hardlink stays" over 2
changeset "a base file overwritten, its base hardlink stays: only the new files" over.sq2 2 "a 0 -
d 0 -"
if [ $UMOCI -eq 1 ]; then
	is "a base file overwritten: in umoci's tree the links keep the old bytes" \
		"$(awk -F '\t' '{ print $1, $6, $7 }' over.sq2.utree)" \
		"a $(h B) -
b $(h A) -
c $(h C) -
d $(h D) -"
fi

# go-containerregistry #2002: base t2; above, t1 and t3 linked to it, then t1 overwritten
case_image g2002 <<'EOF'
file t2 data=123 mtime=100
--
hardlink t1 t2
hardlink t3 t2
--
file t1 data=456 mtime=300
EOF
squash "ggcr #2002" g2002 2
changeset "ggcr #2002: t1 written, t3 a link to the base's t2" g2002.sq2 2 "t1 0 -
t3 1 t2"
squash "ggcr #2002, from 3" g2002 3
changeset "ggcr #2002, from 3: t1 written alone" g2002.sq3 3 "t1 0 -"

# go-containerregistry #977: a hardlink's target removed later
case_image g977 <<'EOF'
file A data=a mtime=100
hardlink B A
--
whiteout A
EOF
squash "ggcr #977: A and B linked in the base, A removed above" g977 2
changeset "ggcr #977, deletion above: a whiteout alone (B is in the base)" g977.sq2 2 ".wh.A 0 -"
case_image g977b <<'EOF'
file A data=a mtime=100
--
hardlink B A
--
whiteout A
EOF
squash "ggcr #977: A in the base, B linked and A removed above" g977b 2
changeset "ggcr #977, link and deletion above: B with its content; nothing of the root's is left: the root's opaque marker" \
	g977b.sq2 2 "B 0 -
.wh..wh..opq 0 -"
case_image g977c <<'EOF'
file keep data=k mtime=90
--
file A data=a mtime=100
hardlink B A
--
whiteout A
EOF
squash "ggcr #977: all above the base" g977c 2
changeset "ggcr #977, all above: B alone" g977c.sq2 2 "B 0 -"

# a file with names in the base and a new one: linked to an unchanged name
case_image multi <<'EOF'
dir p mtime=100
file p/x data=x mtime=101
hardlink p/y p/x
--
dir q mtime=200
hardlink q/z p/y
whiteout p/x
EOF
squash "a base file with a removed name and a new one" multi 2
changeset "a base file with a removed name and a new one: q/z linked to p/y, p/x whited out" \
	multi.sq2 2 "p 5 -
p/.wh.x 0 -
q 5 -
q/z 1 p/y"

# A name the squashed part writes again with what it had (a directory
# whited out and made anew with the same metadata; a name linked again to
# its own inode) is the same in the final tree, and the changeset leaves it
# as the base has it; but tarflat orders a directory's children by the
# entry that made each one (tarflat.1), so in OLD it moved to the place of
# the upper entry and in NEW it did not: the same tree, other bytes.
case_image recreated <<'EOF'
dir d mtime=100
file d/x data=x mtime=101
file e data=e mtime=102
--
whiteout d
dir d mtime=100
file d/y data=y mtime=201
EOF
SQ_BYTES=note
squash "recreated: a directory whited out and made again alike" recreated 2
SQ_BYTES=assert
changeset "recreated: a directory whited out and made again alike" recreated.sq2 2 "d 5 -
d/.wh..wh..opq 0 -
d/y 0 -"
case_image relinked <<'EOF'
file a data=a mtime=100
hardlink b a
file c data=c mtime=102
--
hardlink a b
EOF
SQ_BYTES=note
squash "relinked: a name linked again to its own inode" relinked 2
SQ_BYTES=assert
changeset "relinked: a name linked again to its own inode: an empty changeset" relinked.sq2 2 ""

# ---- every input form and output kind keeps the same blobs
mklayer f1.tar <<'EOF'
dir etc mtime=100
file etc/a data=a mtime=101
file etc/b data=b mtime=102
EOF
mklayer f2.tar <<'EOF'
file etc/c data=c mtime=201
EOF
mklayer f3.tar <<'EOF'
whiteout etc/a
file etc/d data=d mtime=301
EOF
cat >fcfg.json <<'EOF'
{"created":"2022-02-02T02:02:02Z","architecture":"amd64","os":"linux","config":{"Env":["A=1"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[]},"history":[{"created":"2022-01-01T00:00:00Z","created_by":"one"},{"created":"2022-01-01T00:00:01Z","created_by":"ENV A=1","empty_layer":true},{"created":"2022-01-01T00:00:02Z","created_by":"two"},{"created":"2022-01-01T00:00:03Z","created_by":"LABEL x","empty_layer":true},{"created":"2022-01-01T00:00:04Z","created_by":"three"}]}
EOF
set -- f1.tar f2.tar f3.tar config=fcfg.json tag=t
mkimage oci-dir form-oci "$@" compress=gzip,plain,gzip
mkimage oci-dir form-dock "$@" types=docker compress=gzip,plain,gzip
mkimage oci-archive form-ocitar.tar "$@" compress=plain,gzip
mkimage docker-old form-dold.tar "$@"
mkimage docker25 form-d25.tar "$@"
mkimage dir form-dir "$@" compress=gzip,plain
squash "OCI layout (gzip and plain layers), from 3" form-oci 3
squash "OCI layout (gzip and plain layers), from 2" form-oci 2
# umoci 0.4.7 takes neither Docker media types nor zstd layers
squash "OCI layout, Docker media types, from 3" form-dock 3 -
is "OCI layout, Docker media types: the kept layers named by OCI media types" \
	"$(awk '$1 == "layer" { print $5 }' form-dock.sq3.v)" "application/vnd.oci.image.layer.v1.tar+gzip
application/vnd.oci.image.layer.v1.tar
application/vnd.oci.image.layer.v1.tar+gzip"
if command -v zstd >/dev/null; then
	mkimage oci-dir form-zst "$@" compress=zstd,gzip,zstd
	squash "OCI layout (zstd layers), from 3" form-zst 3 -
	is "OCI layout (zstd layers): a kept zstd layer stays zstd" \
		"$(awk '$1 == "layer" { print $5 }' form-zst.sq3.v)" "application/vnd.oci.image.layer.v1.tar+zstd
application/vnd.oci.image.layer.v1.tar+gzip
application/vnd.oci.image.layer.v1.tar+gzip"
else
	skip "OCI layout (zstd layers)" "zstd not installed"
fi
is "from 2: the history: the first layer's entry (the empty_layer one after it goes with the layers squashed), then one" \
	"$(imgcheck get form-oci.sq2 history)" \
	'[{"created":"2022-01-01T00:00:00Z","created_by":"one"},{"created":"2022-02-02T02:02:02Z","created_by":"tarflat: squashed layers 2 to 3"}]'
is "from 3: the kept entries, the empty_layer ones among them" \
	"$(imgcheck get form-oci.sq3 history)" \
	'[{"created":"2022-01-01T00:00:00Z","created_by":"one"},{"created":"2022-01-01T00:00:01Z","created_by":"ENV A=1","empty_layer":true},{"created":"2022-01-01T00:00:02Z","created_by":"two"},{"created":"2022-02-02T02:02:02Z","created_by":"tarflat: squashed layers 3 to 3"}]'
squash "from 1: nothing kept" form-oci 1
imgcheck blob form-oci.sq1 tar1 form-oci.sq1.cs.tar
"$TARFLAT" form-oci:t >form-oci.flat
is_file "from 1: the one layer is tarflat IMAGE's tar" form-oci.sq1.cs.tar form-oci.flat
# the other forms and kinds: the kept layers are the input's blobs (by
# digest, which imgcheck.py verify checks against the bytes), and the
# config is the one written from the OCI layout of the same layers
imgcheck config form-oci.sq3 >form.cfg
for in in form-ocitar.tar form-dold.tar form-d25.tar form-dir; do
	"$TARFLAT" $in >sq.$in.ref
	for k in oci-archive oci-archive-pipe docker-archive; do
		w="--squash-from 3 of $in -> $k"
		if ! toimage $k sq.$in.$k --squash-from 3 $in; then
			_report 1 "$w: tarflat failed"
			sed 's/^/# /' "$T/.ierr"
			continue
		fi
		ok "$w: imgcheck.py verify" imgcheck verify sq.$in.$k
		same "$w: tarflat NEW = tarflat OLD" sq.$in.ref sq.$in.$k
		is "$w: the kept layers' digests and diff_ids are the input's" \
			"$(imgcheck verify sq.$in.$k | awk '$1 == "layer" && $2 < 3 { print $3, $6 }')" \
			"$(for i in 1 2; do echo "$(dig $in image layers $i) $(dig $in image diffids $i)"; done)"
		imgcheck config sq.$in.$k >sq.$in.$k.cfg
		is_file "$w: the config (kept history, new diff_id) is the OCI layout's" sq.$in.$k.cfg form.cfg
	done
done

# ---- random stacks as OCI layouts: genstack at every N; wildstack at 2
# and the top, umoci compared only where it builds tarflat's tree of OLD;
# tarflat's bytes of NEW and OLD may differ in order (the 'recreated' cases)
SQ_BYTES=note
for s in $(seq "$FIRST" $((FIRST + NGEN - 1))); do
	d=$T/gen$s
	if ! mkstack genstack "$s" "$d" oci-dir; then
		_report 1 "genstack seed $s: the stack could not be made"
		continue
	fi
	top=$(wc -l <"$d/layers")
	bad=0
	for n in $(seq 1 "$top"); do
		squash "genstack seed $s ($top layers), from $n" "$d/img" "$n" || bad=1
	done
	[ $bad -eq 0 ] && [ "$_failed" -eq 0 ] && rm -rf "$d"
done
for s in $(seq "$FIRST" $((FIRST + NWILD - 1))); do
	d=$T/wild$s
	if ! mkstack wildstack "$s" "$d" oci-dir; then
		_report 1 "wildstack seed $s: the stack could not be made"
		continue
	fi
	top=$(wc -l <"$d/layers")
	if ! "$TARFLAT" "$d/img:t" >"$d/ref.tar" 2>"$d/ref.err"; then
		toimage oci "$d/new" --squash-from 2 "$d/img:t"
		is "wildstack seed $s: refused as a tar, refused by --squash-from 2 (exit 1, nothing made)" \
			"$? $(ls -d "$d"/new* 2>/dev/null)" "1 "
		continue
	fi
	ut=-
	if [ $UMOCI -eq 1 ] && umoci_tree "$d/img:t" "$d/img.utree"; then
		extract "$d/ref.tar" "$d/ref.x" && tree "$d/ref.x" >"$d/ref.tree"
		masked "$d/img.utree" "$d/ref.tree"
		cmp -s "$d/img.utree.m" "$d/ref.tree.m" && ut=$d/img.utree
	fi
	[ "$ut" = - ] && echo "# wildstack seed $s: umoci builds another tree than tarflat (t0520): tarflat alone"
	for n in $(echo 2 "$top" | tr ' ' '\n' | sort -u); do
		squash "wildstack seed $s ($top layers), from $n" "$d/img" "$n" "$ut"
	done
done

# ---- the config must hold the layers kept
# rootfs.diff_ids naming fewer layers than are kept
$PY - "$(dig form-oci image diffids 1)" >short-ids.json <<'EOF'
import json, sys
print(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": [sys.argv[1]]},
                  "history": [{"created_by": "one"}, {"created_by": "two"}, {"created_by": "three"}]}))
EOF
mkimage oci-archive short-ids.tar f1.tar f2.tar f3.tar rawconfig=short-ids.json
same "a config with one diff_id for three layers: (setup) read as a tar" "$(ref f123.ref f1.tar f2.tar f3.tar && echo f123.ref)" short-ids.tar
# history holding fewer layers than are kept (imgmeta.h: refused)
cat >short-hist.json <<'EOF'
{"architecture":"amd64","os":"linux","config":{},"history":[{"created_by":"one"}]}
EOF
mkimage oci-archive short-hist.tar f1.tar f2.tar f3.tar config=short-hist.json
for c in short-ids short-hist; do
	what="a config whose $( [ $c = short-ids ] && echo rootfs.diff_ids || echo history ) holds 1 of the 2 layers kept"
	rm -rf sh.*
	"$TARFLAT" --format oci-archive --squash-from 3 $c.tar 2>sh.err | cat >sh.pipe
	is "$what: --squash-from 3 to a pipe: exit 1, nothing written, a message" \
		"${PIPESTATUS[0]} $(wc -c <sh.pipe) $(grep -c 'config' sh.err)" "1 0 1"
	"$TARFLAT" --format oci-archive -o sh.o --squash-from 3 $c.tar 2>/dev/null
	"$TARFLAT" --format oci -o sh.d --squash-from 3 $c.tar 2>/dev/null
	is "$what: -o FILE and -o DIR not made" "$(ls -d sh.o* sh.d* 2>/dev/null)" ""
	toimage oci sh.d2 --squash-from 2 $c.tar
	is "$what: --squash-from 2 (one layer kept) is fine" "$?" 0
done

done_testing
