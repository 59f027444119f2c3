#!/bin/bash
# Images that must be refused (tarflat.1 DESCRIPTION, EXIT STATUS): every blob read
# (index, manifest, config, layers) is checked against its descriptor's digest
# and size, docker save's layers against the config's rootfs.diff_ids; a
# missing blob, a foreign layer with only URLs, an unknown layer media type, a
# gzip-compressed image archive, a decompressor that is not on PATH or fails:
# exit 1, `tarflat: INPUT: ...` naming what is wrong, and nothing on stdout.
# The broken images come from t/mkimage.py's tamper= options.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
. "$TDIR/lib-image.sh"
need tar

mklayer l1.tar <<'EOF'
dir etc mtime=100
file etc/passwd data=root:x:0:0 mtime=101
EOF
mklayer l2.tar <<'EOF'
file etc/passwd data=root:x:0:0,app mtime=201
file etc/motd data=hello mtime=202
EOF
ref r12.tar l1.tar l2.tar

# the untampered images are fine, so what fails below is the tampering
for f in oci-dir oci-archive; do
	o=good-$f
	mkimage $f $o l1.tar l2.tar
	same "$f: (control) the untampered image flattens" r12.tar $o
done

# bad FORM NAME DESC RE TAMPER-OPTS...: NAME.. built with OPTS must be refused
# with RE (from t/mkimage.py's reported digests: @L2 the second layer, @C the
# config, @M the manifest, each as 12 hex digits)
bad() {
	_form=$1 _name=$2 _desc=$3 _re=$4; shift 4
	mkimage $_form $_name l1.tar l2.tar "$@" || return 1
	_re=${_re//@L2/$(hex12 "$(dig $_name image layers 2)")}
	_re=${_re//@C/$(hex12 "$(dig $_name image config)")}
	_re=${_re//@M/$(hex12 "$(dig $_name image manifest)")}
	ifails "$_form: $_desc" "$_re" $_name $_name
}
MISSING='missing|no such|not found|absent|not in'
for f in oci-dir oci-archive; do
	x=.tar
	[ $f = oci-dir ] && x=
	bad $f dgz$x "a gzip layer whose bytes do not match its digest" "digest.*@L2|@L2.*digest" \
		tamper=layer-digest:2
	bad $f dplain$x "a plain layer whose bytes do not match its digest" "digest.*@L2|@L2.*digest" \
		compress=plain tamper=layer-digest:2
	bad $f szp$x "a layer one byte shorter than its descriptor's size" "size" tamper=layer-size:2:1
	bad $f szm$x "a layer one byte longer than its descriptor's size" "size" tamper=layer-size:2:-1
	bad $f szp1$x "the first layer's size wrong (a plain layer)" "size" \
		compress=plain tamper=layer-size:1:512
	bad $f miss$x "a layer blob missing" "($MISSING).*@L2|@L2.*($MISSING)" tamper=layer-missing:2
	bad $f foreign$x "a foreign layer with only URLs" "foreign|non-?distributable|url" \
		tamper=layer-foreign:2
	bad $f dforeign$x "a Docker foreign layer with only URLs" "foreign|non-?distributable|url" \
		types=docker tamper=layer-foreign:2
	bad $f mtype$x "an unknown layer media type" "application/vnd\.example\.squashfs" \
		mediatype=2:application/vnd.example.squashfs
	bad $f mtype2$x "a config media type where a layer's should be" \
		"application/vnd\.oci\.image\.config\.v1\+json" \
		mediatype=1:application/vnd.oci.image.config.v1+json
	bad $f cdig$x "a config whose bytes do not match its digest" "digest.*@C|@C.*digest" \
		tamper=config-digest
	bad $f csize$x "a config whose size is wrong" "size" tamper=config-size
	bad $f cmiss$x "the config blob missing" "($MISSING).*@C|@C.*($MISSING)" tamper=config-missing
	bad $f mdig$x "a manifest whose bytes do not match its digest" "digest.*@M|@M.*digest" \
		tamper=manifest-digest
	bad $f msize$x "a manifest whose size is wrong" "size" tamper=manifest-size:-3
	bad $f z512$x "sha512: a layer whose bytes do not match its digest" "digest" \
		alg=sha512 tamper=layer-digest:2
	bad $f dtyp$x "Docker media types: a layer whose bytes do not match its digest" \
		"digest.*@L2|@L2.*digest" types=docker tamper=layer-digest:2
	if command -v zstd >/dev/null; then
		bad $f zdig$x "a zstd layer whose bytes do not match its digest" "digest.*@L2|@L2.*digest" \
			compress=gzip,zstd tamper=layer-digest:2
	else
		skip "$f: a zstd layer whose bytes do not match its digest" "zstd not installed"
	fi
	mkimage $f fpresent$x l1.tar l2.tar tamper=layer-foreign-present:2
	same "$f: a foreign layer whose blob is there is read" r12.tar fpresent$x
done
bad oci-dir mmiss "the manifest blob missing (a layout)" "$MISSING" tamper=manifest-missing
ifails "on standard input: the message names '-'" "digest" - - <dgz.tar
ifails "after a good layer: still nothing written" "digest" dgz.tar l1.tar dgz.tar l2.tar
rm -f out.tar
ifails "with -o: exit 1" "digest" dgz.tar -o out.tar dgz.tar
ok "with -o: no output file left behind" test ! -e out.tar
ifails "-t: a tampered image lists nothing" "digest" dgz.tar -t dgz.tar

# nested indexes: the index blobs are checked too
for t in index-digest index-size index-missing; do
	mkimage oci-dir nest-$t <<EOF
index outer tag=nest tamper=$t
image amd l1.tar l2.tar platform=linux/amd64 in=outer
EOF
	case $t in
	index-digest) re="digest.*$(hex12 "$(dig nest-$t outer index)")|$(hex12 "$(dig nest-$t outer index)").*digest" ;;
	index-size) re=size ;;
	index-missing) re="$MISSING" ;;
	esac
	ifails "an image index blob: $t" "$re" nest-$t --platform linux/amd64 nest-$t
done
mkimage oci-archive nest-deep.tar <<'EOF'
index outer tag=nest
index inner in=outer tamper=index-digest
image amd l1.tar l2.tar platform=linux/amd64 in=inner
EOF
x=$(hex12 "$(dig nest-deep.tar inner index)")
ifails "an image index two levels down whose bytes do not match its digest" \
	"digest.*$x|$x.*digest" nest-deep.tar --platform linux/amd64 nest-deep.tar

# only the blobs of the image picked are read: another, broken, image is no matter
mkimage oci-dir other <<'EOF'
image good l1.tar l2.tar tag=good
image broken l1.tar l2.tar tag=broken tamper=layer-missing:2 tamper=config-digest
EOF
same "a broken image beside the one picked is not read" r12.tar other:good
ifails "... and picking the broken one fails" "$MISSING|digest" other other:broken

# docker save, old style: layers against rootfs.diff_ids
for lay in dirs skopeo; do
	mkimage --docker-layout $lay docker-old dgood-$lay.tar l1.tar l2.tar tag=x:1
	same "docker save ($lay): (control) the untampered archive flattens" r12.tar dgood-$lay.tar
	D2=$(hex12 "$(dig dgood-$lay.tar image diffids 2)")
	mkimage --docker-layout $lay docker-old ddig-$lay.tar l1.tar l2.tar tag=x:1 tamper=layer-digest:2
	ifails "docker save ($lay): a layer.tar whose bytes do not match its diff_id" \
		"diff_?id|digest" ddig-$lay.tar ddig-$lay.tar
	ok "docker save ($lay): ... the message names the diff_id or the layer" \
		grep -Eq "$D2|/layer\.tar|$D2.*\.tar" .ferr
	mkimage --docker-layout $lay docker-old ddiff-$lay.tar l1.tar l2.tar tag=x:1 tamper=diffid:2
	ifails "docker save ($lay): a config whose diff_id is wrong" "diff_?id|digest" \
		ddiff-$lay.tar ddiff-$lay.tar
	mkimage --docker-layout $lay docker-old dmiss-$lay.tar l1.tar l2.tar tag=x:1 tamper=layer-missing:2
	ifails "docker save ($lay): a layer missing from the archive" "$MISSING|dangling|symlink" \
		dmiss-$lay.tar dmiss-$lay.tar
	ifails "docker save ($lay): ... on standard input" "$MISSING|dangling|symlink" - - <dmiss-$lay.tar
done
# a layer.tar symlink member leading out of the archive (to a host file whose
# digest the config names), or round in a loop: not followed
python3 - "$T/l1.tar" <<'EOF'
import hashlib, io, json, sys, tarfile
host = sys.argv[1]
d = hashlib.sha256(open(host, "rb").read()).hexdigest()
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + d]}}).encode()
ch = hashlib.sha256(cfg).hexdigest()
man = json.dumps([{"Config": ch + ".json", "RepoTags": ["x:1"], "Layers": ["abc/layer.tar"]}]).encode()
def add(tf, name, data=None, link=None):
    ti = tarfile.TarInfo(name)
    ti.mtime = 1000000000
    if link is not None:
        ti.type, ti.linkname = tarfile.SYMTYPE, link
        tf.addfile(ti)
    else:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
for out, links in (("esc-abs.tar", [("abc/layer.tar", host)]),
                   ("esc-rel.tar", [("abc/layer.tar", "../" * 30 + host.lstrip("/"))]),
                   ("loop.tar", [("abc/layer.tar", "../def/layer.tar"), ("def/layer.tar", "../abc/layer.tar")])):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
        add(tf, ch + ".json", cfg)
        for name, target in links:
            add(tf, name, link=target)
        add(tf, "manifest.json", man)
EOF
ifails "docker save: a layer.tar symlink to an absolute host path is not followed" \
	"$MISSING|symlink|outside" esc-abs.tar esc-abs.tar
ifails "docker save: a layer.tar symlink climbing out of the archive is not followed" \
	"$MISSING|symlink|outside" esc-rel.tar esc-rel.tar
ifails "docker save: layer.tar symlinks in a loop" "$MISSING|symlink|loop|too many" loop.tar loop.tar

mkimage docker25 d25dig.tar l1.tar l2.tar tag=x:1 tamper=layer-digest:2
x=$(hex12 "$(dig d25dig.tar image layers 2)")
ifails "Docker 25: a layer whose bytes do not match its digest" "digest.*$x|$x.*digest" \
	d25dig.tar d25dig.tar
mkimage docker25 d25miss.tar l1.tar l2.tar tag=x:1 tamper=layer-missing:2
ifails "Docker 25: a layer missing" "$MISSING" d25miss.tar d25miss.tar
mkimage docker25 d25cfg.tar l1.tar l2.tar tag=x:1 tamper=config-digest
ifails "Docker 25: a config whose bytes do not match its digest" "digest" d25cfg.tar d25cfg.tar

# metadata that does not parse, in a layout directory (an archive with it is a layer: t0450)
mkimage oci-dir broken-index l1.tar l2.tar
printf '{"schemaVersion":2,"manifests":[' >broken-index/index.json
ifails "a layout whose index.json does not parse" "index\.json" broken-index broken-index
mkdir not-a-layout
ifails "a directory that is not a layout (no oci-layout)" "oci-layout|layout|directory" \
	not-a-layout not-a-layout
mkdir -p no-images/blobs/sha256
printf '{"imageLayoutVersion":"1.0.0"}' >no-images/oci-layout
printf '{"schemaVersion":2,"manifests":[]}' >no-images/index.json
ifails "a layout whose index lists no image" "no image|none|empty" no-images no-images

# a gzip-compressed image archive is refused, saying to decompress it
mkimage oci-archive good.tar l1.tar l2.tar
mkimage docker-old dgood.tar l1.tar l2.tar tag=x:1
mkimage docker25 d25good.tar l1.tar l2.tar tag=x:1
for f in good.tar dgood.tar d25good.tar; do
	gzip -n -c $f >$f.gz
	ifails "gzip-compressed image archive ($f.gz) refused" "decompress" $f.gz $f.gz
done
ifails "gzip-compressed image archive on standard input refused" "decompress" - - <good.tar.gz
same "--layers reads a gzip-compressed image archive as a gzip layer" \
	"$(ref rl.tar --layers good.tar && echo rl.tar)" --layers good.tar.gz

# decompressors: the programs must be on PATH, and must work
if command -v zstd >/dev/null && command -v xz >/dev/null && command -v bzip2 >/dev/null; then
	zstd -q -c l2.tar >l2.tar.zst
	xz -c l2.tar >l2.tar.xz
	bzip2 -c l2.tar >l2.tar.bz2
	mkimage oci-dir zimg l1.tar l2.tar compress=gzip,zstd
	mkimage oci-archive zimg.tar l1.tar l2.tar compress=zstd
	TF_PATH=/nonexistent ifails "zstd layer, no zstd on PATH" "zstd" l2.tar.zst l1.tar l2.tar.zst
	TF_PATH=/nonexistent ifails "xz layer, no xz on PATH" "xz" l2.tar.xz l1.tar l2.tar.xz
	TF_PATH=/nonexistent ifails "bzip2 layer, no bzip2 on PATH" "bzip2" l2.tar.bz2 l1.tar l2.tar.bz2
	TF_PATH=/nonexistent ifails "zstd layer on stdin, no zstd on PATH" "zstd" - l1.tar - <l2.tar.zst
	TF_PATH=/nonexistent ifails "OCI layout with a zstd layer, no zstd on PATH" "zstd" zimg zimg
	TF_PATH=/nonexistent ifails "OCI archive with zstd layers, no zstd on PATH" "zstd" zimg.tar zimg.tar
	mkdir -p zbin fakebin
	ln -sf "$(command -v zstd)" zbin/zstd
	TF_PATH=$T/zbin same "PATH holding zstd only: a zstd layer is read" r12.tar l1.tar l2.tar.zst
	TF_PATH=$T/zbin same "PATH holding zstd only: an image with zstd layers" r12.tar zimg.tar
	TF_PATH=$T/zbin ifails "PATH holding zstd only: an xz layer is refused" "xz" l2.tar.xz l2.tar.xz
	printf '#!/bin/sh\ncat >/dev/null\necho "zstd: broken" >&2\nexit 3\n' >fakebin/zstd
	printf '#!/bin/sh\n%s -c 700 %s\nexit 0\n' "$(command -v head)" "$T/l2.tar" >fakebin/xz
	chmod +x fakebin/zstd fakebin/xz
	TF_PATH=$T/fakebin ifails "a zstd that fails (exit 3): exit 1, nothing written" "zstd" \
		l2.tar.zst l1.tar l2.tar.zst
	TF_PATH=$T/fakebin ifails "an xz that stops mid-tar: exit 1, nothing written" "." \
		l2.tar.xz l1.tar l2.tar.xz
	mkdir -p fakebin2
	printf '#!/bin/sh\n%s %s\necho "zstd: checksum error" >&2\nexit 1\n' "$(command -v cat)" "$T/l2.tar" >fakebin2/zstd
	chmod +x fakebin2/zstd
	TF_PATH=$T/fakebin2 ifails "a zstd that writes the whole tar, then exits 1: exit 1, nothing written" \
		"zstd|exit|status|fail" l2.tar.zst l1.tar l2.tar.zst
	head -c 60 l2.tar.zst >trunc.tar.zst
	ifails "a truncated zstd layer" "zstd|trunc|short|end|EOF|unexpected" trunc.tar.zst l1.tar trunc.tar.zst
else
	skip "decompressor errors" "zstd, xz or bzip2 not installed"
fi

done_testing
