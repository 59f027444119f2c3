#!/bin/bash
# Image directories (tarflat.1 DESCRIPTION): a dir: layout as skopeo's dir:
# transport and `podman save --format docker-dir` write it (manifest.json,
# the image manifest itself, OCI or Docker schema 2; version; blobs named by
# bare hex digest; HEX.manifest.json below an index, skopeo copy --all) gives
# exactly the bytes of tarflat on its layer files; it is checked like the
# other forms (digests, sizes, a tag refused, a digest checked, --platform
# against the config); and in every layout directory, OCI or dir:, the files
# are opened beneath it: a symlink that leads out is refused without telling
# anything of the file it leads to, one that stays inside works, with
# openat2(2) and with the walk for kernels without it
# (TARFLAT_TEST_NO_OPENAT2). Layouts are written by t/mkimage.py (dir), by
# skopeo and by podman when they are there.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
. "$TDIR/lib-image.sh"
need tar

mklayer l1.tar <<'EOF'
dir etc mtime=100
file etc/passwd data=root:x:0:0 mtime=101
file etc/motd data=hello mtime=102
dir usr mtime=110
file usr/busybox size=5000 mode=0755 mtime=112
hardlink usr/sh usr/busybox
EOF
mklayer l2.tar <<'EOF'
file etc/passwd data=root:x:0:0,app mtime=201
whiteout etc/motd
file opt/app data=app mode=0755 mtime=203
EOF
mklayer l3.tar <<'EOF'
opaque opt
file opt/new data=new mtime=301
file usr/busybox size=6000 mode=0755 mtime=302
EOF
mklayer extra.tar <<'EOF'
file etc/hostname data=box mtime=401
EOF
ref r1.tar l1.tar
ref r12.tar l1.tar l2.tar
ref r13.tar l1.tar l3.tar
ref r123.tar l1.tar l2.tar l3.tar
ref r123e.tar l1.tar l2.tar l3.tar extra.tar
ref re123.tar extra.tar l1.tar l2.tar l3.tar
hostp=$(host_platform)

# form DIR DESC: DIR holds l1 l2 l3; alone, with a layer after and before
form() {
	same "$2: tarflat DIR = tarflat L1 L2 L3" r123.tar "$1"
	same "$2: then a layer" r123e.tar "$1" extra.tar
	same "$2: a layer, then the layout" re123.tar extra.tar "$1"
}

# ---- dir: layouts written by t/mkimage.py ----------------------------------
mkimage dir d-oci l1.tar l2.tar l3.tar
ok "dir (OCI): (setup) manifest.json, version and bare-hex blobs, no oci-layout" \
	eval 'test -f d-oci/manifest.json -a ! -e d-oci/oci-layout -a -f "d-oci/$(dig d-oci image layers 2 | cut -d: -f2)" &&
		grep -qx "Directory Transport Version: 1.1" d-oci/version'
form d-oci "dir: layout, OCI manifest, gzip layers"
mkimage dir d-mixed l1.tar l2.tar l3.tar compress=plain,gzip,plain
form d-mixed "dir: layout, OCI manifest, plain and gzip layers"
mkimage dir d-v2s2 l1.tar l2.tar l3.tar types=docker compress=plain
ok "dir (Docker): (setup) a Docker schema 2 manifest" \
	grep -q 'distribution.manifest.v2+json' d-v2s2/manifest.json
form d-v2s2 "dir: layout, Docker schema 2, uncompressed (podman save --format docker-dir)"
mkimage dir d-v2s2z l1.tar l2.tar l3.tar types=docker compress=gzip
form d-v2s2z "dir: layout, Docker schema 2, gzip (podman save --compress --format docker-dir)"
mkimage dir d-512 l1.tar l2.tar l3.tar alg=sha512
form d-512 "dir: layout, sha512 digests (128-digit names)"
if command -v zstd >/dev/null; then
	mkimage dir d-zst l1.tar l2.tar l3.tar compress=zstd,gzip,zstd
	form d-zst "dir: layout, zstd layers"
else
	skip "dir: layout, zstd layers" "zstd not installed"
fi
same "dir: layout given as DIR/ (a trailing slash)" r123.tar d-oci/
cp -r d-oci d-nover && rm d-nover/version
same "dir: layout without a version file (containers/image does not need it)" r123.tar d-nover
cp -r d-oci d-sig && printf 'not a signature we read' >d-sig/signature-1
same "dir: layout with a signature-1 file: ignored" r123.tar d-sig
mkimage oci-dir o l1.tar l2.tar l3.tar
same "a dir: layout and an OCI layout together: both images' layers" \
	"$(ref r6.tar l1.tar l2.tar l3.tar l1.tar l2.tar l3.tar && echo r6.tar)" d-v2s2 o
mkimage dir d-empty compress=gzip
mklayer empty.tar </dev/null
same "dir: layout with no layers = an empty layer" "$(ref re.tar empty.tar && echo re.tar)" d-empty

# digests and tags: manifest.json is named by the digest the user gives
m=$(dig d-oci image manifest)
same "dir: DIR@DIGEST, manifest.json's digest" r123.tar "d-oci@$m"
ok "dir: (setup) manifest.json's digest is its sha256" \
	test "sha256:$(sha256sum <d-oci/manifest.json | cut -c1-64)" = "$m"
ifails "dir: DIR@DIGEST that is not manifest.json's -> exit 1, naming the one it has" \
	"no manifest with digest.*$(hex12 "$m")" d-oci "d-oci@$(dig d-oci image config)"
same "dir: DIR@DIGEST, sha512 (manifest.json's sha512)" r123.tar "d-512@$(dig d-512 image manifest)"
ifails "dir: DIR:TAG -> exit 1 (a dir: layout names no tag)" \
	"no image tagged v1.*names no tag.*the input has: \(sha256:$(hex12 "$m")" d-oci d-oci:v1

# an index in manifest.json (skopeo copy --all): HEX.manifest.json below it
mkimage dir d-all <<'EOF'
index top
image amd l1.tar l2.tar platform=linux/amd64 in=top
image arm l1.tar l3.tar platform=linux/arm64/v8 in=top compress=plain
EOF
ok "dir --all: (setup) the manifests are HEX.manifest.json" \
	test -f "d-all/$(dig d-all arm manifest | cut -d: -f2).manifest.json"
same "dir --all: --platform linux/arm64/v8" r13.tar --platform linux/arm64/v8 d-all
same "dir --all: --platform linux/amd64" r12.tar --platform linux/amd64 d-all
case $hostp in
linux/amd64) same "dir --all: no --platform picks this machine's ($hostp)" r12.tar d-all ;;
linux/arm64/v8) same "dir --all: no --platform picks this machine's ($hostp)" r13.tar d-all ;;
*) skip "dir --all: no --platform picks this machine's" "unknown machine $(uname -m)" ;;
esac
same "dir --all: DIR@DIGEST of a manifest the index names" r13.tar "d-all@$(dig d-all arm manifest)"
same "dir --all: DIR@DIGEST of manifest.json (the index) and --platform" r13.tar \
	--platform linux/arm64 "d-all@$(dig d-all top index)"
ifails "dir --all: a platform none has -> exit 1 naming both" \
	"no image for platform linux/s390x; the input has: .*linux/amd64.*linux/arm64/v8" \
	d-all --platform linux/s390x d-all
ifails "dir --all: a digest none has -> exit 1 listing the manifests" \
	"no manifest with digest.*the input has: .*$(hex12 "$(dig d-all amd manifest)")" \
	d-all "d-all@$(dig d-all amd config)"

# --platform against the config: the same rule as an OCI manifest's
mkimage dir d-arm l1.tar l3.tar cplatform=linux/arm64
mkimage oci-dir o-arm l1.tar l3.tar cplatform=linux/arm64
for f in d-arm o-arm; do
	same "$f (config linux/arm64, no index): no --platform -> read, as an OCI manifest is" r13.tar $f
	same "$f: --platform linux/arm64" r13.tar --platform linux/arm64 $f
	same "$f: --platform linux/arm64/v8 (arm64 without a variant is v8)" r13.tar \
		--platform linux/arm64/v8 $f
	ifails "$f: --platform linux/amd64 -> exit 1" "the image is for linux/arm64, not --platform linux/amd64" \
		$f --platform linux/amd64 $f
	ifails "$f: --platform linux/arm64/v7 -> exit 1" "linux/arm64.*linux/arm64/v7" \
		$f --platform linux/arm64/v7 $f
done

# ---- dir: layouts that must be refused ----------------------------------
# bad NAME DESC RE MKIMAGE-OPTS...: NAME, built with OPTS, refused with RE
bad() {
	_name=$1 _desc=$2 _re=$3; shift 3
	mkimage dir $_name l1.tar l2.tar "$@" || return 1
	_re=${_re//@L2/$(hex12 "$(dig $_name image layers 2)")}
	_re=${_re//@C/$(hex12 "$(dig $_name image config)")}
	ifails "dir: $_desc" "$_re" $_name $_name
}
bad b-ldig "a layer whose bytes do not match its digest" "layer 2 \(sha256:@L2.*digest" \
	tamper=layer-digest:2
bad b-ldigp "a plain Docker layer whose bytes do not match its digest" "layer 2.*digest" \
	types=docker compress=plain tamper=layer-digest:2
bad b-lsize "a layer one byte longer than its descriptor says" \
	"[0-9a-f]{64}: wrong size: .* bytes, the descriptor says" tamper=layer-size:2:-1
bad b-lmiss "a layer missing" "manifest\.json: layer 2: blob sha256:@L2.* is missing" \
	tamper=layer-missing:2
bad b-cdig "a config whose bytes do not match its digest" "config sha256:@C.*digest mismatch" \
	tamper=config-digest
bad b-cmiss "the config missing" "config sha256:@C.*missing" tamper=config-missing
bad b-mtype "an unknown layer media type" "manifest\.json: layer 2: .*application/vnd\.example\.squashfs" \
	mediatype=2:application/vnd.example.squashfs
mkimage dir b-all <<'EOF'
index top
image amd l1.tar l2.tar platform=linux/amd64 in=top tamper=manifest-digest
EOF
ifails "dir --all: a HEX.manifest.json whose bytes do not match its digest" \
	"manifest $(dig b-all amd manifest).*digest mismatch" b-all --platform linux/amd64 b-all
cp -r d-oci b-json && printf '{"schemaVersion":2,"config":' >b-json/manifest.json
ifails "dir: manifest.json that does not parse: the message names the file" \
	"^tarflat: b-json: manifest\.json: offset [0-9]+: " b-json b-json
cp -r d-oci b-nomt && printf '{"schemaVersion":2}' >b-nomt/manifest.json
ifails "dir: manifest.json neither a manifest nor an index" "manifest\.json: .*does not read" \
	b-nomt b-nomt
cp -r d-oci b-v1 && printf '{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}' >b-v1/manifest.json
ifails "dir: a Docker schema 1 manifest: refused, saying how to convert it" \
	"manifest\.json: .*schema 1.*skopeo copy --format v2s2" b-v1 b-v1
cp -r d-oci b-ver && printf 'Directory Transport Version: 1.0\n' >b-ver/version
ifails "dir: version 1.0 (blobs HEX.tar): refused, naming the version" \
	"^tarflat: b-ver: version: .*1\.0.*1\.1" b-ver b-ver
cp -r d-oci b-ver2 && printf 'Directory Transport\033[2J Version: 9\n' >b-ver2/version
ifails "dir: a version file with a terminal escape: shown up to it" \
	"^tarflat: b-ver2: version: \"Directory Transport\": not a dir: layout" b-ver2 b-ver2
cp -r d-oci b-array && printf '[{"Config":"x.json","Layers":[]}]' >b-array/manifest.json
ifails "dir: manifest.json an array (an unpacked docker save): says to archive it" \
	"manifest\.json: .*docker save.*tar -cf" b-array b-array
cp -r d-oci b-nomanifest && rm b-nomanifest/manifest.json
ifails "a directory with version and blobs but no manifest.json: neither layout" \
	"no oci-layout.*no manifest\.json" b-nomanifest b-nomanifest
mkdir b-emptydir
ifails "an empty directory: neither layout" "no oci-layout.*no manifest\.json" \
	b-emptydir b-emptydir

# ---- blobs stay inside their layout ---------------------------------------
# A file outside every layout, 4242 bytes: no message may tell its size.
mkdir outside && head -c 4242 /dev/zero | tr '\0' s >outside/secret
SECRET=$T/outside/secret

# escape LAYOUT REL TARGET: a copy of LAYOUT (named by what is done) with
# REL a symlink to TARGET; prints the copy's name
n_esc=0
escape() {
	n_esc=$((n_esc + 1))
	_c=esc$n_esc
	rm -rf $_c && cp -r "$1" $_c && rm -rf "$_c/$2" && ln -s "$3" "$_c/$2"
	echo $_c
}
# a layer blob of each layout, as a path inside it
L2o=blobs/sha256/$(dig o image layers 2 | cut -d: -f2)
L2d=$(dig d-oci image layers 2 | cut -d: -f2)
Co=blobs/sha256/$(dig o image config | cut -d: -f2)
Cd=$(dig d-oci image config | cut -d: -f2)
OUT='leads out of the layout directory'

# refused DESC LAYOUT REL TARGET: with REL a symlink to TARGET, LAYOUT is
# refused saying OUT, and nothing says 4242 -- with openat2 and without
refused() {
	_l=$(escape "$2" "$3" "$4")
	for _m in "" 1; do
		_how=openat2
		[ -n "$_m" ] && _how="no openat2"
		TARFLAT_TEST_NO_OPENAT2=$_m ifails "$1 ($_how)" "$3[^ ]*: .*$OUT" $_l $_l
		ok "$1 ($_how): the message tells nothing of the outside file" eval '! grep -q 4242 .ferr'
	done
}
# accepted DESC LAYOUT WANT: LAYOUT, as it is, gives WANT, both ways
accepted() {
	for _m in "" 1; do
		_how=openat2
		[ -n "$_m" ] && _how="no openat2"
		TARFLAT_TEST_NO_OPENAT2=$_m same "$1 ($_how)" "$3" "$2"
	done
}

# the outside file is a copy of the real blob, so only where it is is wrong
cp "o/$L2o" outside/l2o && cp "d-oci/$L2d" outside/l2d
refused "OCI layout: a layer blob symlinked to an absolute path outside" o "$L2o" "$SECRET"
refused "OCI layout: a layer blob symlinked up and out (../..)" o "$L2o" "../../../outside/secret"
refused "OCI layout: a layer blob symlinked out to a copy of itself" o "$L2o" "$T/outside/l2o"
refused "OCI layout: the config blob symlinked out" o "$Co" "../../../outside/secret"
refused "OCI layout: index.json symlinked out" o index.json "$SECRET"
refused "OCI layout: oci-layout symlinked out" o oci-layout "../outside/secret"
refused "dir: layout: a layer blob symlinked to an absolute path outside" d-oci "$L2d" "$SECRET"
refused "dir: layout: a layer blob symlinked up and out" d-oci "$L2d" "../outside/secret"
refused "dir: layout: a layer blob symlinked out to a copy of itself" d-oci "$L2d" "../outside/l2d"
refused "dir: layout: the config symlinked out" d-oci "$Cd" "../outside/secret"
refused "dir: layout: manifest.json symlinked out" d-oci manifest.json "$SECRET"
mkdir -p outside/blobs && cp -r o/blobs/sha256 outside/blobs/
refused "OCI layout: the blobs directory symlinked out (its blobs all right)" o blobs "../outside/blobs"
# a symlink inside that climbs out through '..' after a detour inside
l=$(escape o "$L2o" "../sha256/../../../outside/l2o")
TARFLAT_TEST_NO_OPENAT2=1 ifails "OCI layout: .. after a detour inside, out (no openat2)" "$OUT" $l $l
ifails "OCI layout: .. after a detour inside, out (openat2)" "$OUT" $l $l
# an absolute symlink is refused even when it names a place inside: what it
# means depends on where the layout lies
l=$(escape o "$L2o" "$T/o/$L2o")
TARFLAT_TEST_NO_OPENAT2=1 ifails "OCI layout: an absolute symlink into the layout itself (no openat2)" "$OUT" $l $l
ifails "OCI layout: an absolute symlink into the layout itself (openat2)" "$OUT" $l $l
l=$(escape o "$L2o" "loop")
ln -s "$(basename "$L2o")" "$l/blobs/sha256/loop"
for m in "" 1; do
	TARFLAT_TEST_NO_OPENAT2=$m ifails "OCI layout: a symlink loop (${m:+no }openat2)" \
		"loop|too many" $l $l
done

# symlinks that stay inside keep working
mkdir -p in-o && cp -r o/. in-o/ && mkdir in-o/store && mv "in-o/$L2o" in-o/store/l2 &&
	ln -s ../../store/l2 "in-o/$L2o"
accepted "OCI layout: a layer blob symlinked to ../../store/l2 inside" in-o r123.tar
mkdir -p in-o2 && cp -r o/. in-o2/ && mv in-o2/blobs/sha256 in-o2/shared &&
	ln -s ../shared in-o2/blobs/sha256 && mv "in-o2/shared/$(basename "$L2o")" in-o2/shared/x &&
	ln -s x "in-o2/shared/$(basename "$L2o")" && mv in-o2/index.json in-o2/idx &&
	ln -s ./idx in-o2/index.json
accepted "OCI layout: blobs/sha256 a symlink to ../shared, a blob to its neighbour, index.json to ./idx" \
	in-o2 r123.tar
mkdir -p in-d && cp -r d-oci/. in-d/ && mkdir in-d/sub && mv "in-d/$L2d" in-d/sub/ &&
	ln -s "sub/../sub/$L2d" "in-d/$L2d" && mv in-d/manifest.json in-d/sub/m && ln -s sub/m in-d/manifest.json
accepted "dir: layout: a blob and manifest.json symlinked into sub/ (through sub/../sub)" in-d r123.tar
# the layout directory itself may be reached through a symlink: it is the user's path
ln -s d-oci d-link
accepted "dir: layout named through a symlink to it" d-link r123.tar

# the two ways are really taken: strace shows openat2 called, or not
if command -v strace >/dev/null && strace -f -qq -e trace=none true 2>/dev/null; then
	strace -f -qq -e trace=openat2 -o st1 "$TARFLAT" o >/dev/null 2>&1
	ok "openat2: tarflat opens the layout's files with openat2 and RESOLVE_BENEATH" \
		grep -q 'openat2(.*RESOLVE_BENEATH' st1
	TARFLAT_TEST_NO_OPENAT2=1 strace -f -qq -e trace=openat2 -o st2 "$TARFLAT" o >/dev/null 2>&1
	ok "TARFLAT_TEST_NO_OPENAT2: no openat2 call" eval '! grep -q openat2 st2'
else
	skip "openat2 is called, or not" "strace not installed or not allowed"
fi

# ---- skopeo's dir: transport ----------------------------------------------
if command -v skopeo >/dev/null; then
	mkimage oci-dir src l1.tar l2.tar l3.tar tag=v1 compress=gzip,plain,gzip
	skopeo copy -q oci:src:v1 dir:sk-oci >/dev/null 2>&1
	ok "skopeo dir: (setup) skopeo wrote a dir: layout with an OCI manifest" \
		eval 'grep -qx "Directory Transport Version: 1.1" sk-oci/version &&
			grep -q "oci.image.manifest.v1+json" sk-oci/manifest.json'
	form sk-oci "skopeo copy oci: dir:"
	skopeo copy -q --format v2s2 oci:src:v1 dir:sk-v2s2 >/dev/null 2>&1
	ok "skopeo dir: (setup) --format v2s2 wrote a Docker schema 2 manifest" \
		grep -q 'distribution.manifest.v2+json' sk-v2s2/manifest.json
	form sk-v2s2 "skopeo copy --format v2s2 oci: dir:"
	skopeo copy -q --dest-decompress oci:src:v1 dir:sk-plain >/dev/null 2>&1
	ok "skopeo dir: (setup) --dest-decompress left no gzip layer" \
		eval '! grep -q "tar+gzip" sk-plain/manifest.json && grep -q "layer.v1.tar\"" sk-plain/manifest.json'
	form sk-plain "skopeo copy --dest-decompress oci: dir:"
	skopeo copy -q --dest-compress oci:src:v1 dir:sk-gz >/dev/null 2>&1
	ok "skopeo dir: (setup) --dest-compress gzipped every layer" \
		test "$(grep -o 'tar+gzip' sk-gz/manifest.json | wc -l)" = 3
	form sk-gz "skopeo copy --dest-compress oci: dir:"
	same "skopeo dir: DIR@DIGEST, the digest skopeo reports" r123.tar \
		"sk-oci@$(skopeo inspect --format '{{.Digest}}' dir:sk-oci 2>/dev/null)"
	mkimage oci-dir multi <<'EOF'
index top tag=multi
image amd l1.tar l2.tar platform=linux/amd64 in=top
image arm l1.tar l3.tar platform=linux/arm64/v8 in=top
EOF
	skopeo copy -q --all oci:multi:multi dir:sk-all >/dev/null 2>&1
	ok "skopeo dir: (setup) --all wrote the index as manifest.json, the manifests as HEX.manifest.json" \
		eval 'grep -q "image.index.v1+json" sk-all/manifest.json &&
			test -f "sk-all/$(dig multi arm manifest | cut -d: -f2).manifest.json"'
	same "skopeo copy --all: --platform linux/arm64/v8" r13.tar --platform linux/arm64/v8 sk-all
	same "skopeo copy --all: --platform linux/amd64" r12.tar --platform linux/amd64 sk-all
	skopeo copy -q --override-arch arm64 oci:multi:multi dir:sk-arm >/dev/null 2>&1
	same "skopeo copy --override-arch arm64 (one image, config arm64)" r13.tar sk-arm
	ifails "skopeo copy --override-arch arm64, --platform linux/amd64 -> exit 1" \
		"the image is for linux/arm64" sk-arm --platform linux/amd64 sk-arm
	# the reference reader reads t/mkimage.py's layouts: they are what skopeo
	# reads (not d-512: skopeo 1.9 writes every blob it copies as sha256)
	for f in d-oci d-v2s2 d-all; do
		rm -rf back
		ok "skopeo reads t/mkimage.py's $f (copy --all dir:$f oci:back)" \
			skopeo copy -q --all dir:$f oci:back:x
	done
	same "skopeo copy dir:d-v2s2 oci: gives the same bytes again" r123.tar \
		"$(rm -rf back && skopeo copy -q dir:d-v2s2 oci:back:x >/dev/null 2>&1; echo back)"
else
	skip "skopeo's dir: transport" "skopeo not installed"
fi

# ---- podman save --format docker-dir ---------------------------------------
# podman with its own storage in $T (vfs, no daemon); skip where it cannot run
mkdir -p pm
cat >pm/storage.conf <<EOF
[storage]
driver = "vfs"
runroot = "$T/pm/run"
graphroot = "$T/pm/graph"
EOF
cat >pm/containers.conf <<'EOF'
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_STORAGE_CONF=$T/pm/storage.conf CONTAINERS_CONF=$T/pm/containers.conf
mkimage oci-archive pin.tar l1.tar l2.tar l3.tar tag=app:1 compress=gzip,plain,gzip
if command -v podman >/dev/null && podman load -q -i pin.tar >pm/load.out 2>&1; then
	ok "podman: (setup) podman stored app:1 as localhost/app:1" grep -q 'localhost/app:1' pm/load.out
	podman save -q --format docker-dir -o pd app:1 >/dev/null 2>&1
	ok "podman docker-dir: (setup) a Docker schema 2 manifest, uncompressed layers" \
		eval 'grep -q "distribution.manifest.v2+json" pd/manifest.json &&
			grep -q "rootfs.diff.tar\"" pd/manifest.json && test -f pd/version'
	form pd "podman save --format docker-dir"
	podman save -q --compress --format docker-dir -o pdz app:1 >/dev/null 2>&1
	ok "podman docker-dir --compress: (setup) gzip layers" \
		test "$(grep -o 'diff.tar.gzip' pdz/manifest.json | wc -l)" = 3
	form pdz "podman save --compress --format docker-dir"
	podman save -q --format oci-dir -o po app:1 >/dev/null 2>&1
	same "podman save --format oci-dir (an OCI layout)" r123.tar po
	podman save -q --format docker-archive -o pda.tar app:1 >/dev/null 2>&1
	same "podman docker-archive, by podman's name without localhost/ (pda.tar:app:1)" r123.tar pda.tar:app:1
	podman save -q --format oci-archive -o poa.tar app:1 >/dev/null 2>&1
	same "podman oci-archive, by podman's name without localhost/ (poa.tar:app:1)" r123.tar poa.tar:app:1
	same "podman oci-archive, by podman's full name (poa.tar:localhost/app:1)" r123.tar poa.tar:localhost/app:1
else
	skip "podman save --format docker-dir" "podman not installed or cannot run here: $(head -n 1 pm/load.out 2>/dev/null)"
fi

done_testing
