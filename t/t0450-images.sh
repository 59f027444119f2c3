#!/bin/bash
# Images as input (tarflat.1 DESCRIPTION): each form (OCI layout
# directory, OCI archive, docker save old style and Docker 25+ style, written by
# t/mkimage.py, by umoci and by skopeo) gives exactly the bytes of tarflat on its
# layer files, oldest first, from a file, standard input and a pipe; an image
# among other inputs stands for its layers; a tar that only looks like an image
# is a layer, and --layers makes an image a layer; selection by tag, digest and
# platform (image index, nested index, attestation manifests never picked;
# an explicit --platform checked against the config in every form); a
# zero-byte layer blob is an empty layer; zstd, xz and bzip2 layers given
# directly and zstd inside an image. Errors and refusals: t0455; dir:
# layouts and symlinks in layouts: t0456; names: t0457; -t: t0460; --path:
# t0465.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
. "$TDIR/lib-image.sh"
need tar
export TAR_OPTIONS=--warning=no-timestamp

# three layers whose order matters (a replaced file, a whiteout, an opaque
# directory, a hardlink that keeps old bytes), and a fourth to put on top
three_layers
mklayer extra.tar <<'EOF'
file etc/hostname data=box mtime=401
whiteout bin
EOF
mklayer attest.tar <<'EOF'
file ATTESTATION data=in-toto mtime=501
EOF
mklayer empty.tar </dev/null

ref r1.tar l1.tar
ref r12.tar l1.tar l2.tar
ref r13.tar l1.tar l3.tar
ref r123.tar l1.tar l2.tar l3.tar
ref r123e.tar l1.tar l2.tar l3.tar extra.tar
ref re123.tar extra.tar l1.tar l2.tar l3.tar
ref rempty.tar empty.tar

extract r123.tar ref123
is "images: (reference) the three layers flatten to the expected tree" "$(lst ref123)" "$(cat <<EOF
bin l 0777 0:0 113 ->usr/bin - -
etc d 0755 0:0 100 - - -
etc/passwd f 0644 0:0 201 $(h root:x:0:0,app) - -
opt d 0755 0:0 202 - - -
opt/new f 0644 0:0 301 $(h new) - -
usr d 0755 0:0 110 - - -
usr/bin d 0755 0:0 111 - - -
usr/bin/busybox f 0755 0:0 302 $(hsz 6000) - -
usr/bin/sh f 0755 0:0 112 $(hsz 5000) - -
EOF
)"
"$TARFLAT" l2.tar l1.tar l3.tar >r213.tar 2>/dev/null
ok "images: (reference) layer order changes the bytes, so cmp can catch a wrong order" \
	eval '! cmp -s r213.tar r123.tar'

# form FILE DESC: FILE holds l1 l2 l3; file, stdin, pipe, with a layer on top
# and below, twice over
form() {
	same "$2: tarflat IMAGE = tarflat L1 L2 L3" r123.tar "$1"
	same "$2: then a layer: tarflat IMAGE extra.tar = tarflat L1 L2 L3 extra.tar" r123e.tar "$1" extra.tar
	same "$2: a layer, then the image" re123.tar extra.tar "$1"
	if [ -f "$1" ]; then
		same "$2: on standard input (a file)" r123.tar - <"$1"
		same "$2: on standard input (a pipe)" r123e.tar - extra.tar < <(cat "$1")
	fi
}

mkimage oci-dir oci l1.tar l2.tar l3.tar
form oci "OCI layout, gzip layers"
mkimage oci-dir oci-mixed l1.tar l2.tar l3.tar compress=plain,gzip,plain
form oci-mixed "OCI layout, plain and gzip layers"
mkimage oci-dir oci-dtypes l1.tar l2.tar l3.tar types=docker compress=gzip,plain
form oci-dtypes "OCI layout, Docker schema 2 media types"
mkimage oci-dir oci-512 l1.tar l2.tar l3.tar alg=sha512
ok "OCI layout, sha512: (setup) the blobs are under blobs/sha512" test -d oci-512/blobs/sha512 -a ! -e oci-512/blobs/sha256
form oci-512 "OCI layout, sha512 digests"
mkimage oci-archive oci.tar l1.tar l2.tar l3.tar compress=gzip,plain
form oci.tar "OCI archive"
mkimage oci-archive oci-dtypes.tar l1.tar l2.tar l3.tar types=docker
form oci-dtypes.tar "OCI archive, Docker media types"
mkimage docker-old dold.tar l1.tar l2.tar l3.tar tag=foo:1.0
form dold.tar "docker save (old style)"
mkimage --docker-layout skopeo docker-old dold-sk.tar l1.tar l2.tar l3.tar tag=foo:1.0
ok "docker save, skopeo layout: (setup) ID/layer.tar are symlink members" \
	eval 'tar -tvf dold-sk.tar | grep -q "^l.*/layer.tar -> \.\./[0-9a-f]*\.tar$"'
form dold-sk.tar "docker save (HEX.tar layers, symlinks)"
mkimage docker-old dold-rep.tar l1.tar l2.tar l1.tar l3.tar
ok "docker save, repeated layer: (setup) the second copy is a symlink member to ../ID/layer.tar" \
	eval 'tar -tvf dold-rep.tar | grep -q "^l.*/layer.tar -> \.\./[0-9a-f]*/layer.tar$"'
ref r1213.tar l1.tar l2.tar l1.tar l3.tar
same "docker save, a layer repeated through a symlink member" r1213.tar dold-rep.tar
same "docker save, a layer repeated through a symlink member, stdin" r1213.tar - <dold-rep.tar
mkimage docker25 d25.tar l1.tar l2.tar l3.tar tag=foo:1.0
form d25.tar "docker save (Docker 25+)"

mkimage oci-archive oci-again.tar l1.tar l2.tar l3.tar compress=gzip,plain
is_file "images: (setup) t/mkimage.py writes the same bytes twice" oci-again.tar oci.tar
mkimage oci-dir oci-empty compress=gzip
same "OCI layout with no layers = an empty layer" rempty.tar oci-empty
ref r123123.tar l1.tar l2.tar l3.tar l1.tar l2.tar l3.tar
same "two images: tarflat IMAGE IMAGE = the layers twice" r123123.tar oci dold.tar

# the image's own layer blobs, given as layers, give the same bytes too
set -- $(dig oci image layers 1 | tr : /) $(dig oci image layers 2 | tr : /) $(dig oci image layers 3 | tr : /)
same "OCI layout: its layer blobs given as layers = the layer files" r123.tar oci/blobs/$1 oci/blobs/$2 oci/blobs/$3

same "OCI layout given as oci/ (a trailing slash)" r123.tar oci/
ifails "a tag on a plain layer (l1.tar:foo) -> exit 1" "not an image|tag" l1.tar l1.tar:foo

# a layer file whose name has ':' or '@' in it is a file, not FILE:TAG
cp l1.tar 'we:ird@x.tar'
same "a layer file named we:ird@x.tar is read as that file" r1.tar 'we:ird@x.tar'

# a tar that merely holds a manifest.json, an index.json or an oci-layout is a layer
looks_like() { # NAME DESC: the layer NAME.tar is flattened as itself
	extract "$1.tar" "$1.ref"
	flatten_x "$1.out" "$1.tar"
	is "not an image: $2 -> a layer (GNU tar's extraction of it)" "$(lst "$1.out")" "$(lst "$1.ref")"
	same "not an image: $2, --layers gives the same bytes" "$T/.flat.tar" --layers "$1.tar"
}
mklayer m1.tar <<'EOF'
file manifest.json data=[{"Config":"abc.json","RepoTags":["x:1"],"Layers":["a/layer.tar"]}]
dir etc mtime=10
file etc/conf data=c mtime=11
EOF
looks_like m1 "manifest.json naming a config and layers that are absent"
mklayer m2.tar <<'EOF'
file manifest.json data=not-json mtime=12
file repositories data={} mtime=13
EOF
looks_like m2 "a manifest.json that does not parse"
mklayer m3.tar <<'EOF'
file oci-layout data={"imageLayoutVersion":"1.0.0"}
file index.json data={"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":10}]}
dir blobs
dir blobs/sha256
file blobs/sha256/README data=x
EOF
looks_like m3 "oci-layout and index.json naming a manifest that is absent"
mklayer m4.tar <<'EOF'
dir app mtime=14
file app/manifest.json data=[{"Config":"c.json","Layers":[]}] mtime=15
file app/c.json data={} mtime=16
EOF
looks_like m4 "manifest.json not at the top level"

# --layers: an image archive is read as a layer, its metadata as files
for f in oci.tar dold.tar d25.tar; do
	extract $f $f.ref
	flatten_x $f.out --layers $f
	is "--layers $f: the archive's own tree (GNU tar's extraction)" "$(lst $f.out)" "$(lst $f.ref)"
done
# skopeo's layout has no directory members: an implicit directory's mtime is
# tarflat's rule (the entry's), GNU tar's is the time of extraction
extract dold-sk.tar dold-sk.ref
flatten_x dold-sk.out --layers dold-sk.tar
is "--layers dold-sk.tar: the archive's own tree, symlink members as symlinks" \
	"$(lst dold-sk.out --fields path,type,mode,owner,detail,link)" \
	"$(lst dold-sk.ref --fields path,type,mode,owner,detail,link)"
same "--layers on stdin" "$(ref rl.tar --layers oci.tar && echo rl.tar)" --layers - <oci.tar

# ---- selection: tags and digests
mkimage oci-dir sel <<'EOF'
image one l1.tar tag=v1
image two l1.tar l2.tar tag=v2
image three l1.tar l2.tar l3.tar
image dupa l1.tar tag=same
image dupb l1.tar l3.tar tag=same
EOF
same "OCI tag: sel:v1" r1.tar sel:v1
same "OCI tag: sel:v2" r12.tar sel:v2
same "OCI digest: sel@manifest of the untagged image" r123.tar "sel@$(dig sel three manifest)"
same "OCI digest: one of two images with the same tag" r13.tar "sel@$(dig sel dupb manifest)"
ifails "OCI: five images, none chosen -> exit 1 naming the choices" \
	"v1.*v2|v2.*v1" sel sel
ok "OCI: ... and the untagged one by its digest" grep -q "$(hex12 "$(dig sel three manifest)")" .ferr
ifails "OCI: an unknown tag -> exit 1 naming the choices" "v1.*v2|v2.*v1" sel sel:v9
ifails "OCI: a tag two images have -> exit 1 naming both" \
	"$(hex12 "$(dig sel dupa manifest)").*$(hex12 "$(dig sel dupb manifest)")|$(hex12 "$(dig sel dupb manifest)").*$(hex12 "$(dig sel dupa manifest)")" \
	sel sel:same
ifails "OCI: an unknown digest -> exit 1" "$(hex12 "$(dig sel one config)")|not|no " sel \
	"sel@$(dig sel one config)"
mkimage oci-archive sel.tar <<'EOF'
image one l1.tar tag=v1
image two l1.tar l2.tar tag=v2
EOF
same "OCI archive tag: sel.tar:v2" r12.tar sel.tar:v2
same "OCI archive tag on stdin: -- -:v1" r1.tar -- -:v1 <sel.tar
same "OCI archive tag on stdin: -:v1 (without --: '-' is not an option cluster)" r1.tar -:v1 <sel.tar
same "OCI archive digest on stdin: -- -@DIGEST" r12.tar -- "-@$(dig sel.tar two manifest)" <sel.tar
same "OCI archive tag, then a layer" "$(ref r1e.tar l1.tar extra.tar && echo r1e.tar)" sel.tar:v1 extra.tar
mkimage oci-dir sel512 <<'EOF'
image one l1.tar tag=v1 alg=sha512
image two l1.tar l2.tar tag=v2 alg=sha512
EOF
same "OCI digest: @sha512:HEX" r12.tar "sel512@$(dig sel512 two manifest)"

mkimage docker-old dsel.tar <<'EOF'
image one l1.tar tag=foo:1.0
image two l1.tar l2.tar tag=foo tag=bar:2
image three l1.tar l2.tar l3.tar
EOF
same "docker save tag: dsel.tar:foo:1.0" r1.tar dsel.tar:foo:1.0
same "docker save tag without ':' is :latest: dsel.tar:foo" r12.tar dsel.tar:foo
same "docker save tag: dsel.tar:foo:latest" r12.tar dsel.tar:foo:latest
same "docker save second tag: dsel.tar:bar:2" r12.tar dsel.tar:bar:2
same "docker save digest: the config's digest" r123.tar "dsel.tar@$(dig dsel.tar three config)"
same "docker save tag on stdin" r12.tar -- -:bar:2 <dsel.tar
ifails "docker save: three images, none chosen -> exit 1" "foo:1\.0" dsel.tar dsel.tar
ok "docker save: ... naming the second image by a tag" grep -Eq "foo:latest|bar:2" .ferr
ok "docker save: ... and the untagged one by its config digest" \
	grep -q "$(hex12 "$(dig dsel.tar three config)")" .ferr
ifails "docker save: an unknown tag -> exit 1" "foo:1\.0" dsel.tar dsel.tar:foo:9
ifails "docker save: bar (= bar:latest) is not a tag" "bar" dsel.tar dsel.tar:bar

mkimage docker25 d25sel.tar <<'EOF'
image one l1.tar tag=foo:1.0
image two l1.tar l2.tar l3.tar tag=foo:2.0 tag=bar
EOF
same "Docker 25 tag: ref.name annotation (d25sel.tar:1.0)" r1.tar d25sel.tar:1.0
same "Docker 25 tag: io.containerd.image.name" r123.tar d25sel.tar:docker.io/library/foo:2.0
same "Docker 25 tag: RepoTags (d25sel.tar:foo:2.0)" r123.tar d25sel.tar:foo:2.0
same "Docker 25 tag: RepoTags without ':' is :latest (d25sel.tar:bar)" r123.tar d25sel.tar:bar
same "Docker 25 digest: the manifest's" r1.tar "d25sel.tar@$(dig d25sel.tar one manifest)"
ifails "Docker 25: two images, none chosen -> exit 1 naming the choices" \
	"1\.0.*2\.0|2\.0.*1\.0" d25sel.tar d25sel.tar
mkimage docker25 d25two.tar l1.tar l2.tar tag=foo:1.0 tag=foo:latest
same "Docker 25: one image saved under two tags is one image, not a choice" r12.tar d25two.tar
mkimage docker-old dtwo.tar l1.tar l2.tar tag=foo:1.0 tag=foo:latest
same "docker save: one image under two tags needs no choice (the same in the old form)" r12.tar dtwo.tar

# ---- platforms: an index, nested indexes, attestation manifests
hostp=$(host_platform)
# the attestation manifest claims linux/amd64 and stands first: picking it,
# or counting it as a candidate, is wrong
mkimage oci-dir plat <<'EOF'
image att attest.tar platform=linux/amd64 attest=amd compress=plain
image arm l1.tar l3.tar platform=linux/arm64/v8
image amd l1.tar l2.tar platform=linux/amd64
EOF
same "index: --platform linux/amd64 (an attestation for linux/amd64 stands first)" r12.tar --platform linux/amd64 plat
same "index: --platform linux/arm64/v8" r13.tar --platform linux/arm64/v8 plat
case $hostp in
linux/amd64) want=r12.tar ;;
linux/arm64/v8) want=r13.tar ;;
*) want= ;;
esac
if [ -n "$want" ]; then
	same "index: no --platform picks this machine's ($hostp)" $want plat
else
	skip "index: no --platform picks this machine's" "unknown machine $(uname -m)"
fi
ifails "index: a platform no manifest has -> exit 1 naming the platforms" \
	"linux/amd64.*linux/arm64/v8|linux/arm64/v8.*linux/amd64" plat --platform linux/s390x plat
same "index: a manifest by digest, whatever the platform" r13.tar --platform linux/amd64 "plat@$(dig plat arm manifest)"
mkimage oci-dir attonly <<'EOF'
image att attest.tar platform=linux/amd64 attest=arm compress=plain
image arm l1.tar l3.tar platform=linux/arm64/v8
EOF
ifails "index: only an attestation manifest for linux/amd64 -> none to pick, exit 1" \
	"linux/arm64/v8" attonly --platform linux/amd64 attonly
same "index: ... and linux/arm64/v8 is still there" r13.tar --platform linux/arm64/v8 attonly
mkimage oci-dir onearm <<'EOF'
image arm l1.tar l3.tar platform=linux/arm64/v8
EOF
ifails "index: one manifest, for linux/arm64/v8, and --platform linux/amd64 -> exit 1" \
	"linux/arm64/v8" onearm --platform linux/amd64 onearm

# a tagged index beside a tagged image; index -> index -> manifests
mkimage oci-dir ptag <<'EOF'
index multi tag=multi
image amd l1.tar l2.tar platform=linux/amd64 in=multi
image arm l1.tar l3.tar platform=linux/arm64/v8 in=multi
image att attest.tar platform=linux/amd64 attest=amd in=multi compress=plain
image other l1.tar tag=other
EOF
same "tagged index: ptag:multi --platform linux/arm64/v8" r13.tar --platform linux/arm64/v8 ptag:multi
same "tagged index: ptag:multi --platform linux/amd64" r12.tar --platform linux/amd64 ptag:multi
same "tagged index: ptag:other (a manifest, --platform does not apply to it)" r1.tar ptag:other
ifails "tagged index: none chosen -> exit 1 naming both tags" "multi.*other|other.*multi" ptag ptag
same "tagged index: the index by its digest" r13.tar --platform linux/arm64/v8 "ptag@$(dig ptag multi index)"
for f in oci-dir oci-archive; do
	o=nest-$f
	[ $f = oci-archive ] && o=$o.tar
	mkimage $f $o <<'EOF'
index outer tag=nest
index inner in=outer
image att attest.tar platform=linux/amd64 attest=amd in=inner compress=plain
image amd l1.tar l2.tar platform=linux/amd64 in=inner
image arm l1.tar l3.tar platform=linux/arm64/v8 in=inner compress=gzip,plain
EOF
	same "nested index ($f): --platform linux/amd64" r12.tar --platform linux/amd64 $o
	same "nested index ($f): --platform linux/arm64/v8, by tag" r13.tar --platform linux/arm64/v8 $o:nest
	same "nested index ($f): a manifest two indexes down, by digest" r13.tar "$o@$(dig $o arm manifest)"
	ifails "nested index ($f): a platform none has -> exit 1 naming the platforms" \
		"linux/amd64.*linux/arm64/v8|linux/arm64/v8.*linux/amd64" $o --platform linux/riscv64 $o
done
same "nested index on stdin" r13.tar --platform linux/arm64/v8 - <nest-oci-archive.tar

# --platform for every form: where no index says what an image is for, an
# explicit --platform is checked against the config's os/architecture/
# variant, with the index's rules; without --platform such an image is read
# whatever it is for (an image for one platform, copied as it is)
for f in docker-old docker25 oci-archive oci-dir dir; do
	o=arm-$f
	[ $f = oci-dir -o $f = dir ] || o=$o.tar
	mkimage $f $o l1.tar l3.tar cplatform=linux/arm64 tag=foo:1
	same "$f, config linux/arm64: no --platform -> read" r13.tar $o
	same "$f, config linux/arm64: --platform linux/arm64" r13.tar --platform linux/arm64 $o
	same "$f, config linux/arm64: --platform linux/arm64/v8 (no variant is v8)" r13.tar \
		--platform linux/arm64/v8 $o
	ifails "$f, config linux/arm64: --platform linux/amd64 -> exit 1" \
		"the image is for linux/arm64, not --platform linux/amd64" $o --platform linux/amd64 $o
	ifails "$f, config linux/arm64: --platform linux/arm64/v7 -> exit 1" \
		"the image is for linux/arm64, not --platform linux/arm64/v7" $o --platform linux/arm64/v7 $o
done
same "docker save, config linux/arm64: --platform applies to the image chosen by tag" r13.tar \
	--platform linux/arm64 arm-docker-old.tar:foo:1
ifails "docker save on standard input, config linux/arm64: --platform linux/amd64 -> exit 1" \
	"the image is for linux/arm64" - --platform linux/amd64 - <arm-docker-old.tar
mkimage docker-old armv7.tar l1.tar l2.tar cplatform=linux/arm/v7
same "docker save, config linux/arm/v7: --platform linux/arm takes any variant" r12.tar \
	--platform linux/arm armv7.tar
ifails "docker save, config linux/arm/v7: --platform linux/arm/v6 -> exit 1" \
	"the image is for linux/arm/v7, not --platform linux/arm/v6" armv7.tar --platform linux/arm/v6 armv7.tar
same "docker save, config linux/amd64 (t/mkimage.py's default): --platform linux/amd64" r123.tar \
	--platform linux/amd64 dold.tar

# a zero-byte layer blob whose digest says so (sha256 of nothing, size 0) is
# an empty layer, in every form
: >zero.tar
for f in oci-dir oci-archive docker-old docker25 dir; do
	o=zero-$f
	[ $f = oci-dir -o $f = dir ] || o=$o.tar
	mkimage $f $o l1.tar zero.tar l2.tar compress=plain
	ok "$f: (setup) the second layer is the empty blob" \
		test "$(dig $o image diffids 2)" = sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
	same "$f: a zero-byte layer blob is an empty layer (= tarflat L1 L2)" r12.tar $o
done
same "--platform with plain layers only: no effect" r12.tar --platform linux/s390x l1.tar l2.tar

# ---- compressed layers: zstd, xz, bzip2 by running the programs
if command -v zstd >/dev/null && command -v xz >/dev/null && command -v bzip2 >/dev/null; then
	zstd -q -c l1.tar >l1.tar.zst
	xz -c l2.tar >l2.tar.xz
	bzip2 -c l3.tar >l3.tar.bz2
	same "zstd, xz, bzip2 layers given directly" r123.tar l1.tar.zst l2.tar.xz l3.tar.bz2
	cp l1.tar.zst zst-named.tar.gz; cp l2.tar.xz xz-named.tar; cp l3.tar.bz2 bz-named.tgz
	same "... told apart by content, not by name" r123.tar zst-named.tar.gz xz-named.tar bz-named.tgz
	same "zstd layer on standard input" r123.tar - l2.tar l3.tar <l1.tar.zst
	same "xz layer through a pipe" r123.tar l1.tar - l3.tar < <(cat l2.tar.xz)
	same "bzip2 layer on standard input" r123.tar l1.tar l2.tar - <l3.tar.bz2
	head -c 700 l2.tar | zstd -q -19 -c >l2.tar.zst && tail -c +701 l2.tar | zstd -q -c >>l2.tar.zst
	same "zstd: a layer in two frames (split mid-header), read as one stream" r12.tar l1.tar l2.tar.zst
	mkimage oci-dir ozst l1.tar l2.tar l3.tar compress=zstd,gzip,zstd
	same "OCI layout with zstd layers (tar+zstd media type)" r123.tar ozst
	mkimage oci-archive ozst.tar l1.tar l2.tar l3.tar compress=plain,zstd
	same "OCI archive with zstd layers" r123.tar ozst.tar
	same "OCI archive with zstd layers, on standard input" r123e.tar - extra.tar <ozst.tar
else
	skip "zstd, xz, bzip2 layers" "zstd, xz or bzip2 not installed"
fi
TF_PATH=/nonexistent TF_PATH=/nonexistent same "... and an OCI archive, on standard input" r123.tar - <oci.tar

# ---- other writers: umoci builds the layout, skopeo converts it
if command -v umoci >/dev/null; then
	umoci init --layout um >/dev/null 2>&1 &&
		umoci new --image um:v1 >/dev/null 2>&1 &&
		for l in l1.tar l2.tar l3.tar; do
			umoci raw add-layer --no-history --image um:v1 $l >/dev/null 2>&1 || exit 1
		done
	ok "umoci: (setup) umoci wrote an OCI layout with three layers" \
		test "$(python3 -c '
import json; i = json.load(open("um/index.json")); d = i["manifests"][0]["digest"].split(":")
print(len(json.load(open("um/blobs/%s/%s" % tuple(d)))["layers"]))')" = 3
	same "umoci layout: um:v1" r123.tar um:v1
	same "umoci layout: um (one image)" r123e.tar um extra.tar
	if command -v skopeo >/dev/null; then
		skopeo copy -q oci:um:v1 docker-archive:sk-docker.tar:foo:1.0 >/dev/null 2>&1
		skopeo copy -q oci:um:v1 oci-archive:sk-oci.tar:v1 >/dev/null 2>&1
		skopeo copy -q --dest-compress-format zstd oci:um:v1 oci:sk-zstd:v1 >/dev/null 2>&1
		ok "skopeo: (setup) a docker-archive with its layers behind symlink members" \
			eval 'tar -tvf sk-docker.tar | grep -q "^l.*layer.tar -> "'
		same "skopeo docker-archive" r123.tar sk-docker.tar
		same "skopeo docker-archive, by its RepoTags name" r123.tar sk-docker.tar:docker.io/library/foo:1.0
		same "skopeo docker-archive on stdin" r123.tar - <sk-docker.tar
		same "skopeo oci-archive" r123.tar sk-oci.tar
		same "skopeo oci-archive by tag, then a layer" r123e.tar sk-oci.tar:v1 extra.tar
		same "skopeo oci-archive through a pipe" r123.tar - < <(cat sk-oci.tar)
		if command -v zstd >/dev/null; then
			ok "skopeo zstd: (setup) the layers are zstd" \
				eval 'grep -q "tar+zstd" sk-zstd/blobs/sha256/*'
			same "skopeo layout with zstd layers" r123.tar sk-zstd:v1
		else
			skip "skopeo layout with zstd layers" "zstd not installed"
		fi
	else
		skip "skopeo conversions" "skopeo not installed"
	fi
else
	skip "umoci and skopeo writers" "umoci not installed"
fi

done_testing
