#!/bin/bash
# Images as output (issue 16): --format oci-archive, oci and docker-archive.
#   round trip  tarflat OUT writes exactly the bytes of tarflat IMAGE, for
#               every input form of t0450 (OCI layout and archive, docker save
#               old and Docker 25 style, dir:, standard input as a file and a
#               pipe), every output (oci-archive to a file and to a pipe, an
#               oci layout, docker-archive), each --compress, and random
#               stacks (t/genstack.py, t/wildstack.py) written as images;
#               every output passes t/imgcheck.py verify (sizes, digests,
#               diff_ids, manifest.json, nothing left over)
#   config      the input's config with only rootfs.diff_ids and history
#               replaced (as parsed JSON, and key order at every depth);
#               history one entry "tarflat: flattened N layers" dated by the
#               input's created or --mtime; layer files alone get a minimal
#               config for --platform (default: this machine); names: --tag,
#               -o DIR:TAG, docker's RepoTags and the names Docker 25 writes
#   readers     skopeo inspect and copy (to dir: and oci:, read back), umoci
#               unpack of the layout against GNU tar's extraction of tarflat
#               IMAGE, podman load + image inspect + create/export, docker
#               load + image inspect + create/export (a dockerd of the test's
#               own, on vfs, stopped by its pid); each skips when its tool is
#               missing or cannot run here
#   gzip        the layer blob read by gzip -t, pigz -t and Python's zlib (one
#               member, nothing after it) back to tarflat IMAGE's bytes, at
#               levels 1, 6 and 9, for one block, many blocks and a tar ending
#               exactly on a block boundary; the same bytes with -j 1, 2, 4
#   streaming   a regular file (header patched in place), a pipe (spooled), a
#               file opened to append and one written from an offset give the
#               same archive; -o replaces a file by rename; a refused or failed
#               run leaves -o FILE and -o DIR as they were
#   refusals    exit status, nothing on stdout, nothing made, a message: a
#               non-empty -o DIR, --format oci without -o, --squash-from past
#               the top, without an image, 0; a config that is not a JSON
#               object; the image options with --format tar or newc;
#               --squash-from with --path or --exclude
# --squash-from itself: t0475.
#
#   TARFLAT_IMGOUT_STACKS=N   genstack seeds (default 6)
#   TARFLAT_IMGOUT_WILD=N     wildstack seeds (default 4)
#   TARFLAT_IMGOUT_FIRST=S    the first seed of both (default 1)
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
. "$TDIR/lib-image.sh"
. "$TDIR/lib-imgout.sh"
need tar gzip sha256sum
export TAR_OPTIONS=--warning=no-timestamp

NGEN=${TARFLAT_IMGOUT_STACKS:-6}
NWILD=${TARFLAT_IMGOUT_WILD:-4}
FIRST=${TARFLAT_IMGOUT_FIRST:-1}
KINDS="oci-archive oci-archive-pipe oci docker-archive"
have() { command -v "$1" >/dev/null 2>&1; }
sha() { sha256sum <"$1" | cut -d' ' -f1; }
members_meta() { # ARCHIVE: one line a member: TYPE MODE UID:GID MTIME
	$PY - "$1" <<'EOF'
import sys, tarfile
for m in tarfile.open(sys.argv[1]):
    print("d" if m.isdir() else "f" if m.isreg() else "?", "%04o" % m.mode,
          "%d:%d" % (m.uid, m.gid), m.mtime)
EOF
}

# ---- the input: three layers whose order matters, and a config with
# everything a config may hold (keys in no sorted order, keys tarflat does
# not know, numbers, escapes, non-ASCII text)
mklayer l1.tar <<'EOF'
dir etc mtime=100
file etc/passwd data=root:x:0:0 mtime=101
file etc/motd data=hello mtime=102
dir usr mtime=110
dir usr/bin mtime=111
file usr/bin/busybox size=5000 mode=0755 mtime=112
hardlink usr/bin/sh usr/bin/busybox
symlink bin usr/bin mtime=113
dir home mtime=120 uid=1000 gid=1000 mode=0750
file home/setuid size=70 mode=04755 uid=1000 gid=100 mtime=121
fifo home/fifo mtime=122
dir empty mtime=130 mode=0700
file usr/a-rather-long-name-past-one-hundred-bytes-so-that-the-layer-needs-a-pax-or-gnu-header-for-it-x mtime=131 data=long
dir data mtime=140
file etc/attr data=x mtime=141 xattr.user.k=v
EOF
mklayer l2.tar <<'EOF'
file etc/passwd data=root:x:0:0,app mtime=201
whiteout etc/motd
dir opt mtime=202
file opt/app data=app mode=0755 mtime=203
file opt/old data=old mtime=204
hardlink usr/bin/ash usr/bin/busybox
EOF
mklayer l3.tar <<'EOF'
opaque opt
file opt/new data=new mtime=301
file usr/bin/busybox size=6000 mode=0755 mtime=302
EOF
mklayer extra.tar <<'EOF'
file etc/hostname.txt data=box mtime=401
whiteout bin
EOF
cat >cfg.json <<'EOF'
{"created":"2020-01-02T03:04:05Z","zz-first":true,"architecture":"amd64","os":"linux","config":{"User":"1000:1000","Env":["PATH=/usr/bin:/bin","A=b c","U=\u00e9\u2603 \"q\" \\ \/ \t"],"Entrypoint":["/bin/sh","-c"],"Cmd":["echo hi"],"WorkingDir":"/home","Labels":{"z":"1","a":"2","org.example.empty":""},"ExposedPorts":{"80/tcp":{},"53/udp":{}},"Volumes":{"/data":{}},"StopSignal":"SIGTERM","Healthcheck":{"Test":["CMD","true"],"Interval":30000000000},"ArgsEscaped":true},"rootfs":{"type":"layers","diff_ids":[]},"author":"me","unknown":{"n":[1,-7,2.5,1e300,-1.25e-7,12345678901234567890,null,false,[],{}],"s":"\ud83d\ude00"},"history":[{"created":"2020-01-01T00:00:00Z","created_by":"/bin/sh -c one"},{"created":"2020-01-01T00:00:01Z","created_by":"ENV A=b","empty_layer":true},{"created":"2020-01-01T00:00:02Z","created_by":"two"},{"created":"2020-01-01T00:00:03Z","created_by":"three","comment":"c"}],"variant":"v3"}
EOF
# a second image's config, for two images in one run
sed 's/"A=b c"/"B=second"/; s/"me"/"second"/; s/"created":"2020-01-02T03:04:05Z"/"created":"2021-06-07T08:09:10Z"/' cfg.json >cfg2.json

ref r123.tar l1.tar l2.tar l3.tar
ref r12.tar l1.tar l2.tar
ref r123e.tar l1.tar l2.tar l3.tar extra.tar
ref r123x2.tar l1.tar l2.tar l3.tar l1.tar l2.tar
set -- l1.tar l2.tar l3.tar config=cfg.json
mkimage oci-dir oci "$@" tag=v1
mkimage oci-archive oci.tar "$@" compress=gzip,plain,gzip
mkimage docker-old dold.tar "$@" tag=foo:1.0
mkimage docker25 d25.tar "$@" tag=foo:1.0
mkimage dir dirimg "$@"
mkimage oci-archive two.tar l1.tar l2.tar config=cfg2.json
imgcheck config oci.tar >in.cfg
ok "(setup) the input's config is cfg.json with its diff_ids: imgcheck.py reads it" \
	eval "$PY -c 'import json,sys; a=json.load(open(\"cfg.json\")); b=json.load(open(\"in.cfg\")); a[\"rootfs\"]=b[\"rootfs\"]; sys.exit(a != b)'"
ok "(setup) every input form flattens to the layers' bytes (t0450)" eval '
	for i in oci oci.tar dold.tar d25.tar dirimg; do "$TARFLAT" $i | cmp -s - r123.tar || exit 1; done'
H123=sha256:$(sha r123.tar)

# ---- round trip: every input form into every output
# form DESC OUTPREFIX INPUT...: each kind; standard input stays the caller's
n=0
rt_form() {
	_d=$1 _p=$2; shift 2
	for _k in $KINDS; do
		if [ "$1" = - ]; then
			# standard input again for each kind
			case $_d in
			*pipe*) toimage "$_k" "$_p.$_k" - < <(cat "$STDIN_FILE") ;;
			*) toimage "$_k" "$_p.$_k" - <"$STDIN_FILE" ;;
			esac
		else
			toimage "$_k" "$_p.$_k" "$@"
		fi
		_s=$?
		if [ $_s -ne 0 ]; then
			_report 1 "$_d -> $_k: tarflat exited $_s"
			sed 's/^/# /' "$T/.ierr"
			continue
		fi
		roundtrip "$_d -> $_k" r123.tar "$_p.$_k"
	done
}
rt_form "OCI layout" o-oci oci
rt_form "OCI archive" o-ocitar oci.tar
rt_form "docker save (old)" o-dold dold.tar
rt_form "docker save (Docker 25)" o-d25 d25.tar
rt_form "dir: layout" o-dir dirimg
STDIN_FILE=oci.tar rt_form "OCI archive on standard input (a file)" o-stdin -
STDIN_FILE=d25.tar rt_form "Docker 25 archive on standard input (a pipe)" o-spipe -

# ---- each --compress into each output
for c in gzip zstd none; do
	if [ $c = zstd ] && ! have zstd; then
		skip "--compress zstd" "zstd not installed"
		continue
	fi
	mt=application/vnd.oci.image.layer.v1.tar
	[ $c = gzip ] && mt=$mt+gzip
	[ $c = zstd ] && mt=$mt+zstd
	for k in $KINDS; do
		toimage $k c-$c.$k --compress $c -j 2 oci.tar || { _report 1 "--compress $c -> $k: tarflat failed"; continue; }
		roundtrip "--compress $c -> $k" r123.tar c-$c.$k
		is "--compress $c -> $k: the layer's media type" \
			"$(imgcheck verify c-$c.$k | awk '$1 == "layer" { print $5 }')" "$mt"
	done
done
imgcheck blob c-none.oci 1 none.blob
is_file "--compress none: the layer blob is tarflat IMAGE's tar itself" none.blob r123.tar

# ---- random stacks, written as images first
# one GEN SEED: the stack as an OCI archive, into an output kind, --compress
# and -j that change with the seed
rt_stack() {
	_g=$1 _s=$2 _dir=$T/$1-$2
	set -- $KINDS
	shift $((_s % 4))
	_k=$1
	set -- gzip zstd none
	shift $((_s % 3))
	_c=$1
	have zstd || [ "$_c" != zstd ] || _c=gzip
	_j=$((1 << (_s % 3)))
	_w="$_g seed $_s -> $_k --compress $_c -j $_j"
	if ! mkstack "$_g" "$_s" "$_dir"; then
		_report 1 "$_w: the stack could not be made"
		return
	fi
	# shellcheck disable=SC2046
	if ! "$TARFLAT" "$_dir/img.tar" >"$_dir/ref.tar" 2>"$_dir/ref.err"; then
		# refused as a tar: refused as an image, nothing made
		toimage "$_k" "$_dir/out" --compress "$_c" -j "$_j" "$_dir/img.tar"
		_st=$?
		_m=$( [ $_st -eq 1 ] || echo "exit $_st, want 1"
		      case $_k in *-pipe) [ -s "$_dir/out" ] && echo "bytes on the pipe" ;;
		      *) [ -e "$_dir/out" ] && echo "$_k made" ;; esac
		      ls -d "$_dir"/out.tmp* 2>/dev/null)
		is "$_w: refused like tarflat IMAGE, nothing made" "$_m" ""
		return
	fi
	ok "$_w: (setup) tarflat IMAGE = tarflat LAYERS" \
		eval '"$TARFLAT" $(cat "$_dir/layers") | cmp -s - "$_dir/ref.tar"'
	if ! toimage "$_k" "$_dir/out" --compress "$_c" -j "$_j" "$_dir/img.tar"; then
		_report 1 "$_w: tarflat failed"
		sed 's/^/# /' "$T/.ierr"
		return
	fi
	roundtrip "$_w" "$_dir/ref.tar" "$_dir/out" && rm -rf "$_dir"
}
for s in $(seq "$FIRST" $((FIRST + NGEN - 1))); do rt_stack genstack "$s"; done
for s in $(seq "$FIRST" $((FIRST + NWILD - 1))); do rt_stack wildstack "$s"; done

# ---- the config: the input's, with rootfs.diff_ids and history replaced
C0=2020-01-02T03:04:05Z
hist() { # CREATED|- N: the history tarflat writes
	if [ "$1" = - ]; then
		printf '[{"created_by":"tarflat: flattened %s layers"}]' "$2"
	else
		printf '[{"created":"%s","created_by":"tarflat: flattened %s layers"}]' "$1" "$2"
	fi
}
for o in o-*.oci-archive o-*.oci-archive-pipe o-*.oci o-*.docker-archive; do
	imgcheck config "$o" >"$o.cfg"
	ok "config of $o: the input's, all but rootfs.diff_ids and history the same (values, key order)" \
		imgcheck cmpconfig in.cfg "$o.cfg"
	is "config of $o: diff_ids the sha256 of tarflat IMAGE, one history entry" \
		"$(imgcheck get "$o" rootfs.diff_ids) $(imgcheck get "$o" history)" "[\"$H123\"] $(hist $C0 3)"
done
sortj() { $PY -c 'import json, sys; print(json.dumps(json.loads(sys.stdin.read()), sort_keys=True, separators=(",", ":")))'; }

# --mtime: the entries', the members', the config's created and the history's
T1=1234567890 C1=2009-02-13T23:31:30Z
toimage oci-archive mt.tar --mtime @$T1 oci.tar
ref rmt.tar --mtime @$T1 oci.tar
roundtrip "--mtime @$T1" rmt.tar mt.tar
$PY - in.cfg mt.want "$C1" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    c = json.load(f)
c["created"] = sys.argv[3]
with open(sys.argv[2], "w") as f:
    f.write(json.dumps(c))
EOF
imgcheck config mt.tar >mt.cfg
ok "--mtime: the config's created is the time given, the rest kept" imgcheck cmpconfig mt.want mt.cfg
is "--mtime: the history entry is dated by it" "$(imgcheck get mt.tar history)" "$(hist $C1 3)"
is "--mtime: the archive's members are dated by it, 0:0, 0644 and 0755" "$(members_meta mt.tar | sort -u)" \
	"d 0755 0:0 $T1
f 0644 0:0 $T1"
is "no --mtime: the archive's members are dated 0, 0:0, 0644 and 0755" \
	"$(members_meta o-ocitar.oci-archive | sort -u)" "d 0755 0:0 0
f 0644 0:0 0"

# an image and a layer; two images: the config of the last image
toimage oci-archive ie.tar oci.tar extra.tar
roundtrip "an image, then a layer" r123e.tar ie.tar
imgcheck config ie.tar >ie.cfg
ok "an image, then a layer: the image's config kept" imgcheck cmpconfig in.cfg ie.cfg
is "an image, then a layer: the history counts every layer" "$(imgcheck get ie.tar history)" "$(hist $C0 4)"
imgcheck config two.tar >two.in.cfg
toimage docker-archive ti.tar oci.tar two.tar
roundtrip "two images" r123x2.tar ti.tar
imgcheck config ti.tar >ti.cfg
ok "two images: the last one's config kept" imgcheck cmpconfig two.in.cfg ti.cfg
is "two images: the history dated by the last one's created" "$(imgcheck get ti.tar history)" \
	"$(hist 2021-06-07T08:09:10Z 5)"

# layer files alone: a config for the platform, and no more
hp=$(host_platform)
plat_json() { # OS/ARCH[/VARIANT]: the platform keys as JSON members
	echo "$1" | awk -F/ '{ printf "\"architecture\":\"%s\",\"os\":\"%s\"%s", $2, $1,
		(NF > 2 ? ",\"variant\":\"" $3 "\"" : "") }'
}
H12=sha256:$(sha r12.tar)
toimage oci-archive lo.tar l1.tar l2.tar
roundtrip "layer files, no image" r12.tar lo.tar
if [ -n "$hp" ]; then
	is "layer files: a config for this machine ($hp), empty config, one history entry" \
		"$(imgcheck get lo.tar '' | sortj)" \
		"$(echo "{$(plat_json "$hp"),\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"$H12\"]},\"history\":$(hist - 2)}" | sortj)"
else
	skip "layer files: a config for this machine" "t/lib-image.sh does not know $(uname -m)"
fi
for p in linux/arm64/v8 linux/s390x; do
	d=lo-${p//\//-}
	toimage oci "$d" --platform $p --mtime @$T1 l1.tar l2.tar
	h=sha256:$("$TARFLAT" --mtime @$T1 l1.tar l2.tar | sha256sum | cut -d' ' -f1)
	is "layer files, --platform $p --mtime @$T1: that platform's config, dated" \
		"$(imgcheck get "$d" '' | sortj)" \
		"$(echo "{\"created\":\"$C1\",$(plat_json $p),\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"$h\"]},\"history\":$(hist $C1 2)}" | sortj)"
done

# ---- names: --tag, -o DIR:TAG; docker's RepoTags and Docker 25's index
# names (RepoTags familiar, io.containerd.image.name the full reference,
# org.opencontainers.image.ref.name its tag: moby image/tarexport/save.go)
tagged() { # DESC ARGS (--tag or none) REPOTAGS NAMES REFS
	# shellcheck disable=SC2086
	toimage docker-archive tg.tar $2 oci.tar
	is "docker-archive $1: RepoTags, io.containerd.image.name, ref.name" \
		"$(imgcheck verify tg.tar | awk '$1 ~ /^(repotags|names|refs)$/ { print $1, $2 }' | sort)" \
		"names $4
refs $5
repotags $3"
}
tagged "without --tag" "" - - -
tagged "--tag foo" "--tag foo" foo:latest docker.io/library/foo:latest latest
tagged "--tag foo:1.0" "--tag foo:1.0" foo:1.0 docker.io/library/foo:1.0 1.0
tagged "--tag ns/foo:2" "--tag ns/foo:2" ns/foo:2 docker.io/ns/foo:2 2
tagged "--tag reg.example:5000/ns/foo" "--tag reg.example:5000/ns/foo" \
	reg.example:5000/ns/foo:latest reg.example:5000/ns/foo:latest latest
tagged "--tag localhost/app:1" "--tag localhost/app:1" localhost/app:1 localhost/app:1 1
tagged "--tag docker.io/library/foo:3" "--tag docker.io/library/foo:3" \
	docker.io/library/foo:3 docker.io/library/foo:3 3
long=$(printf 'n%.0s' $(seq 255))
tagged "--tag of 255 bytes" "--tag $long" "$long:latest" "docker.io/library/$long:latest" latest
toimage oci-archive tv1.tar --tag v1 oci.tar
is "oci-archive --tag v1: index.json names it v1" "$(imgcheck verify tv1.tar | grep '^refs')" "refs v1"
same "oci-archive --tag v1: tarflat OUT:v1" r123.tar tv1.tar:v1
toimage oci lay:v2 oci.tar
ok "oci -o lay:v2: the layout is lay (no lay:v2 made)" test -f lay/index.json -a ! -e lay:v2
is "oci -o lay:v2: index.json names it v2" "$(imgcheck verify lay:v2 | grep '^refs')" "refs v2"
same "oci -o lay:v2: tarflat lay:v2" r123.tar lay:v2
toimage oci lay3 --tag v3 oci.tar
is "oci -o lay3 --tag v3: index.json names it v3" "$(imgcheck verify lay3 | grep '^refs')" "refs v3"

# ---- the gzip layer: read by gzip, pigz and Python, at levels 1, 6, 9, for
# one block, many blocks and a tar ending on a block boundary; the same
# bytes whatever -j
BLOCK=1048576
[ -x "$TDIR/pgztest" ] && BLOCK=$("$TDIR/pgztest" -B)
# gzlayer NAME SIZE: a layer of text, random bytes and zeros whose last
# file has SIZE bytes (deterministic)
gzlayer() {
	PYTHONPATH=$TDIR $PY - "$1" "$2" "$BLOCK" <<'EOF'
import gztext, io, random, sys, tarfile
name, last, B = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(470)
text = gztext.Text(r)
files = {"small": [("a", text(200000)), ("b", r.randbytes(50000))],
         "multi": [("a", text(B + 12345)), ("b", r.randbytes(B // 2)), ("c", bytes(B // 2)),
                   ("d", text(B))],
         "exact": [("a", text(B // 2)), ("b", r.randbytes(B // 4))]}[name.split("-")[0]]
files.append(("last", text(last)))
with tarfile.open(name + ".tar", "w", format=tarfile.PAX_FORMAT) as tf:
    d = tarfile.TarInfo("d")
    d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 1000000000
    tf.addfile(d)
    for n, data in files:
        ti = tarfile.TarInfo("d/" + n)
        ti.size, ti.mode, ti.mtime = len(data), 0o644, 1000000000
        tf.addfile(ti, io.BytesIO(data))
EOF
}
gzlayer small 1000
gzlayer multi 777
# the exact one: tune its last file until tarflat's tar is 2 blocks long
gzlayer exact 4096
len=$("$TARFLAT" exact.tar | wc -c)
gzlayer exact $((4096 + 2 * BLOCK - len))
for g in small multi exact; do "$TARFLAT" $g.tar >$g.ref; done
is "gzip: (setup) tar lengths: under a block, past 3 blocks (not on a boundary), exactly 2 blocks" \
	"$(($(wc -c <small.ref) < BLOCK)) $(($(wc -c <multi.ref) > 3 * BLOCK && $(wc -c <multi.ref) % BLOCK != 0)) $(wc -c <exact.ref)" \
	"1 1 $((2 * BLOCK))"
pyread() { # GZ REF: Python's gzip module reads GZ back to REF's bytes
	$PY -c 'import gzip, sys; sys.exit(gzip.decompress(open(sys.argv[1], "rb").read()) != open(sys.argv[2], "rb").read())' "$1" "$2"
}
for g in small multi exact; do
	for lv in 1 6 9; do
		for j in 1 2 4; do
			toimage oci gz-$g-$lv-$j --gzip-level $lv -j $j $g.tar
			imgcheck blob gz-$g-$lv-$j 1 gz-$g-$lv-$j.gz
		done
		w="gzip layer, $g, level $lv"
		ok "$w: imgcheck.py verify (one member, diff_id)" imgcheck verify gz-$g-$lv-1
		ok "$w: gzip -t" gzip -t gz-$g-$lv-1.gz
		if have pigz; then
			ok "$w: pigz -t" pigz -t gz-$g-$lv-1.gz
		else
			skip "$w: pigz -t" "pigz not installed"
		fi
		ok "$w: Python's gzip reads back tarflat IMAGE's bytes" pyread gz-$g-$lv-1.gz $g.ref
		ok "$w: gzip -dc gives tarflat IMAGE's bytes" eval "gzip -dc <gz-$g-$lv-1.gz | cmp -s - $g.ref"
		is_file "$w: -j 2 writes the bytes of -j 1" gz-$g-$lv-2.gz gz-$g-$lv-1.gz
		is_file "$w: -j 4 writes the bytes of -j 1" gz-$g-$lv-4.gz gz-$g-$lv-1.gz
	done
	ok "gzip layer, $g: levels 1 and 9 give other bytes (the level is used)" \
		eval "! cmp -s gz-$g-1-1.gz gz-$g-9-1.gz"
done
is "gzip layer: the header has no name and no time, OS Unix" \
	"$(od -An -tx1 -N10 gz-multi-6-1.gz | tr -d ' \n' | sed 's/^\(.\{16\}\)..\(..\)$/\1 \2/')" "1f8b080000000000 03"

# ---- streaming: the blob goes first; a regular file has its member header
# patched in place, a pipe or a file opened to append gets the layer spooled
mkimage oci-archive big.tar multi.tar
for k in oci-archive docker-archive; do
	for in in oci.tar big.tar; do
		w="$k of $in"
		"$TARFLAT" --format $k -o st-o.$k.$in $in
		"$TARFLAT" --format $k $in >st-redir.$k.$in
		"$TARFLAT" --format $k $in | cat >st-pipe.$k.$in
		printf 'prefix' >st-app.$k.$in
		"$TARFLAT" --format $k $in >>st-app.$k.$in
		{ printf '%1000s' ''; "$TARFLAT" --format $k $in; } >st-off.$k.$in
		ok "$w: (setup) -o FILE is an image" imgcheck verify st-o.$k.$in
		is_file "$w: standard output a regular file (patched) = -o FILE" st-redir.$k.$in st-o.$k.$in
		is_file "$w: a pipe (spooled) = -o FILE" st-pipe.$k.$in st-o.$k.$in
		ok "$w: a file opened to append: its bytes kept, then the archive" \
			eval "test \"\$(head -c 6 st-app.$k.$in)\" = prefix && tail -c +7 st-app.$k.$in | cmp -s - st-o.$k.$in"
		ok "$w: standard output from offset 1000 of a file: the archive from there" \
			eval "tail -c +1001 st-off.$k.$in | cmp -s - st-o.$k.$in"
	done
done
# the spool is in $TMPDIR; a pipe with no place to spool fails, writing nothing
TMPDIR=/nonexistent "$TARFLAT" --format oci-archive oci.tar 2>nospool.err | cat >nospool.tar
is "a pipe, TMPDIR missing: exit 1, nothing on the pipe, a message naming TMPDIR" \
	"${PIPESTATUS[0]} $(wc -c <nospool.tar) $(grep -c TMPDIR nospool.err)" "1 0 1"
TMPDIR=/nonexistent "$TARFLAT" --format oci-archive -o nospool-o.tar oci.tar 2>nospool-o.err
is "-o FILE, TMPDIR missing: no spool needed" "$? $(cmp -s nospool-o.tar st-o.oci-archive.oci.tar && echo same)" "0 same"

# -o replaces a file by rename: another name of the old file keeps the old
# bytes; the new file has the umask's mode; no temporary file stays
echo old >rep.tar
ln rep.tar rep.keep
chmod 0600 rep.tar
"$TARFLAT" --format oci-archive -o rep.tar oci.tar
is_file "-o over an existing file: the new archive" rep.tar st-o.oci-archive.oci.tar
is "-o over an existing file: replaced by rename (its other name keeps 'old'), mode 0644 by the umask, no temporary left" \
	"$(cat rep.keep) $(stat -c %a rep.tar) $(ls -d rep.tar.* 2>/dev/null)" "old 644 "
mkdir emptyd
toimage oci emptyd oci.tar
roundtrip "oci -o an empty directory" r123.tar emptyd

# ---- refusals and failures: exit status, nothing on stdout, a message, and
# what -o names as it was (a file kept, no file or directory made, no
# temporary left)
# refuses DESC STATUS RE ARGS...: tarflat ARGS to standard output (a pipe)
refuses() {
	_d=$1 _st=$2 _re=$3; shift 3
	_tf "$@" 2>"$T/.rerr" | cat >"$T/.rout"
	_s=${PIPESTATUS[0]}
	_m=""
	[ "$_s" = "$_st" ] || _m="exit $_s, want $_st"
	[ -s "$T/.rout" ] && _m="$_m; $(wc -c <"$T/.rout") bytes on stdout"
	grep -Eiq -- "$_re" "$T/.rerr" || _m="$_m; message does not match /$_re/"
	grep -q '^tarflat: ' "$T/.rerr" || _m="$_m; no 'tarflat: ' message"
	is "$_d" "$_m" "" || sed 's/^/# stderr: /' "$T/.rerr" | head -n 5
}
# as_was DESC: keep.f (a file), keep.d (an empty directory), none (absent)
# as they were before, and no temporary beside them
setup_targets() {
	rm -rf keep.f keep.d none keep.f.* keep.d.* none.*
	echo kept >keep.f
	mkdir keep.d
}
as_was() {
	is "$1: -o targets as they were, no temporary left" \
		"$(cat keep.f) $(ls -A keep.d | wc -l) $(ls -d none none.* keep.f.* keep.d.* 2>/dev/null | wc -l)" "kept 0 0"
}
# fails_everywhere DESC STATUS RE ARGS...: refused to a pipe, and with -o
# over keep.f, -o none, and --format oci -o keep.d / none
fails_everywhere() {
	_fd=$1 _fs=$2 _fr=$3; shift 3
	setup_targets
	refuses "$_fd: to a pipe" "$_fs" "$_fr" --format oci-archive "$@"
	refuses "$_fd: -o an existing file" "$_fs" "$_fr" --format oci-archive -o keep.f "$@"
	refuses "$_fd: -o a new file" "$_fs" "$_fr" --format docker-archive -o none "$@"
	refuses "$_fd: --format oci -o an empty directory" "$_fs" "$_fr" --format oci -o keep.d "$@"
	refuses "$_fd: --format oci -o a new directory" "$_fs" "$_fr" --format oci -o none "$@"
	as_was "$_fd"
}
mkimage oci-archive bad.tar l1.tar l2.tar tamper=layer-digest:2
fails_everywhere "an image with a bad layer digest" 1 "digest" bad.tar
fails_everywhere "--squash-from past the top (4 of 3 layers)" 1 "squash-from.*(past|top|3 layers)" --squash-from 4 oci.tar
fails_everywhere "--squash-from with layer files only" 1 "squash-from.*image" --squash-from 2 l1.tar l2.tar
fails_everywhere "--squash-from 2 over a layer file then an image" 1 "squash-from.*layer 1" \
	--squash-from 2 extra.tar oci.tar
fails_everywhere "--squash-from with two images" 1 "squash-from.*(images|one)" --squash-from 2 oci.tar two.tar
fails_everywhere "--squash-from 0" 2 "squash-from" --squash-from 0 oci.tar
fails_everywhere "--squash-from -1" 2 "squash-from" --squash-from -1 oci.tar
fails_everywhere "--squash-from x" 2 "squash-from" --squash-from x oci.tar
fails_everywhere "--gzip-level 0" 2 "gzip-level" --gzip-level 0 oci.tar
fails_everywhere "--gzip-level 10" 2 "gzip-level" --gzip-level 10 oci.tar
fails_everywhere "--compress bzip2" 2 "compress" --compress bzip2 oci.tar
fails_everywhere "--squash-from with --path" 2 "squash-from.*path" --squash-from 2 --path etc oci.tar
fails_everywhere "--squash-from with --exclude" 2 "squash-from.*exclude" --squash-from 2 --exclude etc oci.tar
TF_PATH=/nonexistent fails_everywhere "--compress zstd, zstd not on PATH" 1 "zstd" --compress zstd oci.tar
fails_everywhere "--tag of 256 bytes" 2 "tag" --tag "${long}x" oci.tar
fails_everywhere "--tag ''" 2 "tag" --tag "" oci.tar
fails_everywhere "-o DIR:TAG, a tag of 256 bytes" 2 "tag" --format oci -o "lay:${long}x" oci.tar
# a config that is valid JSON but not an object: read as a tar, refused
# as an image (before anything is written: also on a pipe, and with
# standard output a regular file), with a big layer so that the archive
# would pass any buffer
echo '[]' >arr.json
mkimage oci-archive arr.tar l1.tar rawconfig=arr.json
mkimage oci-archive arrbig.tar multi.tar rawconfig=arr.json
same "a config '[]': (setup) tarflat reads the image as a tar" "$(ref arr.ref l1.tar && echo arr.ref)" arr.tar
fails_everywhere "a config '[]'" 1 "config.*(object|parse)" arr.tar
fails_everywhere "a config '[]', a 3 MiB layer" 1 "config.*(object|parse)" arrbig.tar
fails_everywhere "a config '[]', a 3 MiB layer, --compress none" 1 "config.*(object|parse)" --compress none arrbig.tar
echo kept >keep.f
"$TARFLAT" --format oci-archive arrbig.tar >keep.f 2>/dev/null
is "a config '[]', a 3 MiB layer: standard output a regular file gets nothing" "$? $(wc -c <keep.f)" "1 0"
# the directory a layout is refused into
mkdir full
echo x >full/x
refuses "--format oci -o a directory that is not empty: exit 1" 1 "full.*(exists|not.*empty)" --format oci -o full oci.tar
is "--format oci -o a directory that is not empty: left as it was" "$(ls -A full) $(cat full/x) $(ls -d full.* 2>/dev/null)" "x x "
echo kept >plainfile
refuses "--format oci -o a regular file: exit 1" 1 "plainfile.*(exists|director)" --format oci -o plainfile oci.tar
is "--format oci -o a regular file: left as it was" "$(cat plainfile)" kept
refuses "--format oci without -o: exit 2" 2 "oci.*-o" --format oci oci.tar
for f in tar newc ""; do
	for opt in "--tag x" "--compress none" "--squash-from 2" "--gzip-level 6"; do
		# shellcheck disable=SC2086
		refuses "$opt with --format ${f:-(none)}: exit 2" 2 "image --format|go with" \
			${f:+--format $f} $opt oci.tar
	done
done

# ---- independent readers
X="tar -x --same-owner --numeric-owner --same-permissions --xattrs --xattrs-include=*"
extract r123.tar r123.x
tree r123.x >r123.tree
# the config keys a runtime reads, as the input has them (cfg.json)
runtime_keys() { # JSON of a .Config on stdin: those keys, compact, sorted
	$PY -c '
import json, sys
c = json.loads(sys.stdin.read())
keys = ("Env", "Cmd", "Entrypoint", "User", "Labels", "WorkingDir", "StopSignal",
        "ExposedPorts", "Volumes")
print(json.dumps({k: c.get(k) for k in keys}, sort_keys=True, separators=(",", ":")))'
}
want_keys=$(imgcheck get oci.tar config | runtime_keys)

# skopeo: inspect, copy (which checks every digest and size) to dir: and oci:
if have skopeo; then
	for o in oci-archive:o-ocitar.oci-archive oci-archive:o-spipe.oci-archive-pipe \
		docker-archive:o-ocitar.docker-archive oci:o-ocitar.oci oci-archive:c-zstd.oci-archive \
		oci-archive:c-none.oci-archive docker-archive:c-none.docker-archive; do
		f=${o#*:} d=sk-${o%%:*}-${o#*:}
		imgcheck config "$f" >"$d.cfg0"
		skopeo inspect --config --raw "$o" >"$d.cfg" 2>"$d.err"
		is_file "skopeo inspect --config $o: the config's bytes" "$d.cfg" "$d.cfg0" ||
			sed 's/^/# /' "$d.err"
		# skopeo names a docker-archive's layers by their diff_ids
		col=3
		[ "${o%%:*}" = docker-archive ] && col=6
		is "skopeo inspect $o: the layer digest, Env" \
			"$(skopeo inspect "$o" 2>&1 | $PY -c 'import json, sys; j = json.load(sys.stdin); print(j["Layers"], j["Env"])')" \
			"$(imgcheck verify "$f" | awk -v c=$col '$1 == "layer" { printf "[\x27%s\x27] ", $c }')$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["config"]["Env"])' in.cfg)"
		rm -rf "$d.dir" "$d.oci"
		ok "skopeo copy $o dir:" skopeo copy -q "$o" "dir:$d.dir"
		same "skopeo copy $o dir:, read back: tarflat DIR = tarflat IMAGE" r123.tar "$d.dir"
		ok "skopeo copy $o oci:LAYOUT:t" skopeo copy -q "$o" "oci:$d.oci:t"
		same "skopeo copy $o oci:, read back" r123.tar "$d.oci:t"
	done
	# the check can fail: one byte of the layer changed
	cp -r o-ocitar.oci bad.oci
	b=bad.oci/$(imgcheck verify bad.oci | awk '$1 == "layer" { sub(":", "/", $3); print "blobs/" $3 }')
	printf 'X' | dd of="$b" bs=1 seek=100 conv=notrunc 2>/dev/null
	ok "skopeo copy refuses a layer whose bytes are not its digest's (the check can fail)" \
		eval '! skopeo copy -q oci:bad.oci dir:bad.dir'
else
	skip "skopeo inspect and copy" "skopeo not installed"
fi

# umoci unpack of layouts: the tree GNU tar extracts from tarflat IMAGE
umoci_same() { # DESC LAYOUT:TAG REFTREE
	rm -rf um.b
	if ! umoci unpack --image "$2" um.b >um.err 2>&1; then
		_report 1 "$1: umoci unpack failed"
		sed 's/^/# /' um.err | head -n 10
		return
	fi
	tree um.b/rootfs >um.tree
	is_file "$1: umoci unpack = GNU tar's extraction of tarflat IMAGE" um.tree "$3"
}
if have umoci && [ "$(id -u)" -eq 0 ]; then
	umoci_same "umoci, oci -o lay:v2" lay:v2 r123.tree
	toimage oci um-none:t --compress none oci.tar
	umoci_same "umoci, oci --compress none" um-none:t r123.tree
	for s in $(seq "$FIRST" $((FIRST + 2))); do
		mkstack genstack "$s" "$T/um-s$s" && "$TARFLAT" "$T/um-s$s/img.tar" >um-s$s.ref &&
			extract um-s$s.ref um-s$s.x && tree um-s$s.x >um-s$s.tree
		toimage oci um-s$s.oci:t -j 2 "$T/um-s$s/img.tar"
		umoci_same "umoci, genstack seed $s as a layout" um-s$s.oci:t um-s$s.tree
	done
else
	skip "umoci unpack of the layout" "umoci not installed or not root"
fi

# podman: its own storage (vfs) and configuration in $T/podman
podman_up() {
	have podman && [ "$(id -u)" -eq 0 ] || return 1
	mkdir -p "$T/podman"
	cat >"$T/podman/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$T/podman/run"
graphroot = "$T/podman/graph"
EOF
	cat >"$T/podman/containers.conf" <<'EOF'
[containers]
netns = "host"
cgroups = "enabled"
default_ulimits = ["nofile=10000:10000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOF
	export CONTAINERS_STORAGE_CONF=$T/podman/storage.conf CONTAINERS_CONF=$T/podman/containers.conf
	podman images >/dev/null 2>"$T/podman/err"
}
# load_check TOOL DESC ARCHIVE: load, inspect, create + export; TOOL is
# podman or "docker -H ..."; FILTER (a function) drops what the runtime adds
load_check() {
	_t=$1 _d=$2 _a=$3
	_o=$($_t load -i "$_a" 2>&1)
	_id=$(printf '%s\n' "$_o" | sed -n 's/^Loaded image[^:]*: //p' | tail -n 1)
	if [ -z "$_id" ]; then
		_report 1 "$_d: load failed"
		printf '%s\n' "$_o" | sed 's/^/# /' | head -n 10
		return
	fi
	is "$_d: image inspect shows the config kept (Env, Cmd, Entrypoint, User, Labels, WorkingDir, ...)" \
		"$($_t image inspect --format '{{json .Config}}' "$_id" | runtime_keys)" "$want_keys"
	_c=$($_t create "$_id" /x 2>"$T/.cerr")
	rm -rf rt.x && mkdir rt.x
	if [ -z "$_c" ] || ! $_t export -o rt.tar "$_c" 2>>"$T/.cerr" || ! $X -f rt.tar -C rt.x; then
		_report 1 "$_d: create and export failed"
		sed 's/^/# /' "$T/.cerr"
	else
		tree rt.x | $FILTER >rt.tree
		$FILTER <r123.tree >rt.want
		is_file "$_d: create + export = the flattened tree$FILTER_WHAT" rt.tree rt.want
	fi
	[ -z "$_c" ] || $_t rm "$_c" >/dev/null 2>&1
	$_t rmi -f "$_id" >/dev/null 2>&1
}
if podman_up; then
	FILTER=cat FILTER_WHAT=
	load_check podman "podman load, oci-archive" o-ocitar.oci-archive
	load_check podman "podman load, oci-archive written to a pipe" o-spipe.oci-archive-pipe
	load_check podman "podman load, docker-archive" o-ocitar.docker-archive
	toimage docker-archive pd.tar --tag tarflat-t0470:pd --compress zstd oci.tar
	load_check podman "podman load, docker-archive --tag, zstd" pd.tar
	rm -rf "$T/podman/graph" "$T/podman/run"
else
	skip "podman load" "podman not installed, not root, or cannot run here: $(head -c 200 "$T/podman/err" 2>/dev/null)"
fi

# docker: a daemon of the test's own (vfs, no network), stopped by its pid.
# Docker 20.10 loads manifest.json (not an OCI archive); its container adds
# the init layer (.dockerenv, dev, proc, sys, etc/hosts, hostname,
# resolv.conf, mtab: dropped, etc's mtime masked) and its export drops
# xattrs (not compared)
DKPID=
dk_stop() {
	[ -n "$DKPID" ] || return 0
	kill "$DKPID" 2>/dev/null
	wait "$DKPID" 2>/dev/null
	DKPID=
	rm -rf "$DKS"
}
trap dk_stop EXIT
dk_filter() {
	awk -F '\t' -v OFS='\t' '
		$1 ~ /^(\.dockerenv|dev|dev\/.*|proc|sys|etc\/(hosts|hostname|resolv\.conf|mtab))$/ { next }
		$1 == "etc" { $5 = "*" }
		{ $8 = "-"; print }'
}
if have dockerd && have docker && [ "$(id -u)" -eq 0 ]; then
	DKS=$(mktemp -d /tmp/t0470-docker.XXXXXX)
	dockerd --storage-driver=vfs --iptables=false --bridge=none --data-root "$DKS/data" \
		--exec-root "$DKS/exec" --pidfile "$DKS/pid" -H "unix://$DKS/sock" >"$DKS/log" 2>&1 &
	DKPID=$!
	DK="docker -H unix://$DKS/sock"
	for i in $(seq 60); do
		$DK info >/dev/null 2>&1 && break
		kill -0 $DKPID 2>/dev/null || break
		sleep 0.5
	done
	if $DK info >/dev/null 2>&1; then
		FILTER=dk_filter FILTER_WHAT=" (but docker's init layer and xattrs)"
		toimage docker-archive dk.tar --tag tarflat-t0470:1 oci.tar
		load_check "$DK" "docker load, docker-archive --tag" dk.tar
		load_check "$DK" "docker load, docker-archive written to a pipe" o-spipe.docker-archive
	else
		skip "docker load" "dockerd did not start: $(tail -n 1 "$DKS/log")"
	fi
	dk_stop
else
	skip "docker load" "dockerd or docker not installed, or not root"
fi

done_testing
