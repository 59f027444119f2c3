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
EOF
mklayer l2.tar <<'EOF'
file etc/passwd data=root:x:0:0,app mtime=201
whiteout etc/motd
dir opt mtime=202
file opt/app data=app mode=0755 mtime=203
file opt/old data=old mtime=204
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
toimage oci-archive tv1.tar --tag v1 oci.tar
is "oci-archive --tag v1: index.json names it v1" "$(imgcheck verify tv1.tar | grep '^refs')" "refs v1"
same "oci-archive --tag v1: tarflat OUT:v1" r123.tar tv1.tar:v1
toimage oci lay:v2 oci.tar
ok "oci -o lay:v2: the layout is lay (no lay:v2 made)" test -f lay/index.json -a ! -e lay:v2
is "oci -o lay:v2: index.json names it v2" "$(imgcheck verify lay:v2 | grep '^refs')" "refs v2"
same "oci -o lay:v2: tarflat lay:v2" r123.tar lay:v2
toimage oci lay3 --tag v3 oci.tar
is "oci -o lay3 --tag v3: index.json names it v3" "$(imgcheck verify lay3 | grep '^refs')" "refs v3"

done_testing
