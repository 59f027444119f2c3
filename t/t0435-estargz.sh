#!/bin/bash
# eStargz layers (issue 15; containerd/stargz-snapshotter docs/estargz.md):
# a layer that ends with an eStargz (51 bytes), legacy stargz (47) or
# external-TOC (46) footer is read as the gzip tar it is, and its
# stargz.index.json, .prefetch.landmark and .no.prefetch.landmark at the
# top never reach the output; the same names anywhere else, or in a layer
# without the footer, are ordinary files.
#
# No real eStargz writer (ctr-remote, nerdctl, BuildKit, crane, all Go) is
# installed here and the machine is offline, so the layers come from
# t/mkestargz.py, written after the spec and the Go writer
# (estargz/build.go, estargz.go, gzip.go; google/crfs for the legacy
# form), and checked by its --verify reader (footer, TOC, every chunk at
# its offset against its digest). The reference for every tree is the same
# layers written as plain gzip.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
export TAR_OPTIONS=--warning=no-timestamp

esgz() { # [OPTION...] IN OUT
	$PY "$TDIR/mkestargz.py" "$@" >/dev/null
}

# three layers; files above 4096 bytes go out in chunks (--chunk-size 4096)
mklayer l1.tar <<'EOF'
dir etc mtime=100
file etc/passwd data=root:x:0:0 mtime=101
dir usr mtime=110
dir usr/bin mtime=111
file usr/bin/busybox size=20000 mode=0755 mtime=112
hardlink usr/bin/sh usr/bin/busybox
symlink bin usr/bin mtime=113
file empty mtime=114
dir data mtime=120
file data/stargz.index.json data=mine mtime=121
file data/.prefetch.landmark data=x mtime=122
file data/.no.prefetch.landmark data=y mtime=123
EOF
mklayer l2.tar <<'EOF'
file etc/motd data=hello mtime=200
whiteout etc/passwd
file usr/bin/tool size=5000 mode=0755 mtime=201
EOF
mklayer l3.tar <<'EOF'
file etc/hosts data=127.0.0.1 mtime=300
dir opt mode=0700 mtime=301
file opt/big size=9000 mtime=302
EOF
for l in l1 l2 l3; do
	gzip -n -c $l.tar >$l.tgz
done

want1=$(cat <<EOF
bin l 0777 0:0 113 ->usr/bin - -
data d 0755 0:0 120 - - -
data/.no.prefetch.landmark f 0644 0:0 123 $(h y) - -
data/.prefetch.landmark f 0644 0:0 122 $(h x) - -
data/stargz.index.json f 0644 0:0 121 $(h mine) - -
empty f 0644 0:0 114 $(h '') - -
etc d 0755 0:0 100 - - -
etc/passwd f 0644 0:0 101 $(h root:x:0:0) - -
usr d 0755 0:0 110 - - -
usr/bin d 0755 0:0 111 - - -
usr/bin/busybox f 0755 0:0 112 $(hsz 20000) =usr/bin/busybox -
usr/bin/sh f 0755 0:0 112 $(hsz 20000) =usr/bin/busybox -
EOF
)
extract l1.tar ref1
is "estargz: (reference) GNU tar extracting layer 1 agrees with the expectation" \
	"$(lst ref1)" "$want1"
flatten_x plain1 l1.tgz
is "estargz: (reference) layer 1 as plain gzip" "$(lst plain1)" "$want1"

# --- one eStargz layer, as Build() writes it: .no.prefetch.landmark first ---
esgz --chunk-size 4096 l1.tar e1.tgz
is "estargz: (writer) the layer reads back as eStargz, its files in chunks" \
	"$($PY "$TDIR/mkestargz.py" --verify e1.tgz | sed 's/ toc=[0-9]*//')" \
	"estargz entries=17 chunks=10"
is "estargz: (writer) the layer holds the TOC and the landmark at its top" \
	"$(tar -tzf e1.tgz | grep -Ex 'stargz.index.json|\.(no\.)?prefetch\.landmark')" \
	".no.prefetch.landmark
stargz.index.json"
# FILE N: the last N bytes in hex, the 16 hex digits at AT (bytes) as "<off>"
footer() {
	_h=$(tail -c "$2" "$1" | od -An -v -tx1 | tr -d ' \n')
	printf '%s<off>%s' "${_h:0:$(($3 * 2))}" "${_h:$(($3 * 2 + 32))}"
}
is "estargz: (writer) the footer: an empty gzip member of 51 bytes, extra S G 22 %016xSTARGZ" \
	"$(footer e1.tgz 51 16)" \
	"1f8b08040000000000ff1a0053471600<off>5354415247""5a010000ffff0000000000000000"

# NAME DESC LAYER...: flatten LAYERs (an eStargz among them) into tree NAME,
# which must be the tree of WANT (a variable) with nothing on stderr
same_tree() {
	_sn=$1 _sd=$2 _sw=$3; shift 3
	if ! flatten "$_sn.tar" "$@" 2>"$_sn.err"; then
		_report 1 "$_sd"; sed 's/^/# /' "$_sn.err"; return 1
	fi
	extract "$_sn.tar" "$_sn" &&
		is "$_sd" "$(lst "$_sn"; sed 's/^/stderr: /' "$_sn.err")" "$_sw"
}
# LAYER...: the names tarflat -t lists, only those of eStargz metadata
meta_listed() {
	"$TARFLAT" -t "$@" 2>/dev/null | awk '{ print $NF }' |
		grep -E '(^|/)(stargz\.index\.json|\.(no\.)?prefetch\.landmark)$'
}

same_tree e1 "estargz: one eStargz layer gives the tree of its plain gzip" "$want1" e1.tgz
is "estargz: -t lists the TOC and landmark names only below the top" "$(meta_listed e1.tgz)" \
	"data/stargz.index.json
data/.prefetch.landmark
data/.no.prefetch.landmark"
"$TARFLAT" e1.tgz | tar -tf - >e1.list
is "estargz: the output holds no top-level stargz.index.json or landmark" \
	"$(grep -Ex '(\./)?(stargz\.index\.json|\.(no\.)?prefetch\.landmark)' e1.list)" ""

# prioritized files first, then .prefetch.landmark (ctr-remote optimize)
esgz --chunk-size 4096 --prioritize usr/bin/busybox --prioritize etc/passwd l1.tar p1.tgz
is "estargz: (writer) the prefetch landmark after the prioritized files" \
	"$(tar -tzf p1.tgz | head -n 6)" \
	"usr/
usr/bin/
usr/bin/busybox
etc/
etc/passwd
.prefetch.landmark"
same_tree p1 "estargz: a layer with the prefetch landmark gives the same tree" "$want1" p1.tgz

# legacy stargz (google/crfs): 47-byte footer, no landmark; and with one
esgz --legacy l1.tar s1.tgz
is "estargz: (writer) legacy stargz reads back, footer of 47 bytes" \
	"$($PY "$TDIR/mkestargz.py" --verify s1.tgz | cut -d' ' -f1) $(footer s1.tgz 47 12)" \
	"legacy 1f8b08040000000000ff1600<off>5354415247""5a010000ffff0000000000000000"
same_tree s1 "estargz: a legacy stargz layer gives the same tree" "$want1" s1.tgz
esgz --legacy --landmark prefetch --prioritize etc/passwd l1.tar s2.tgz
same_tree s2 "estargz: legacy stargz with a prefetch landmark, the same tree" "$want1" s2.tgz

# AppendTarLossLess (BuildKit's compression=estargz): the input's own
# end-of-archive comes before the TOC member
esgz --lossless l1.tar ll1.tgz
is "estargz: (writer) lossless: the tar ends before the TOC, which follows" \
	"$(tar -tzf ll1.tgz | tail -n 1) $(gzip -dc ll1.tgz | $PY -c '
import sys
b = sys.stdin.buffer.read()
at = [i for i in range(0, len(b), 512) if b[i:i + 18] == b"stargz.index.json\0"]
print(len(at), b[at[0] - 1024:at[0]] == bytes(1024))')" \
	"data/.no.prefetch.landmark 1 True"
same_tree ll1 "estargz: a lossless eStargz layer gives the same tree" "$want1" ll1.tgz

# the external-TOC footer: no TOC in the layer, nor an end-of-archive
esgz --external-toc l1.tar x1.tgz
is "estargz: (writer) external TOC: a 46-byte footer, STARGZEXTERNALTOC" \
	"$(tail -c 46 x1.tgz | od -An -v -tx1 | tr -d ' \n')" \
	"1f8b08040000000000ff15005347110053544152475a45585445524e414c544f43010000ffff0000000000000000"
same_tree x1 "estargz: an external-TOC layer: landmark hidden, same tree" "$want1" x1.tgz

# standard input (spooled) and a one-byte chunk size
esgz --chunk-size 1000 l1.tar c1.tgz
"$TARFLAT" - <c1.tgz >c1.tar 2>c1.err
extract c1.tar c1
is "estargz: from standard input, in 1000-byte chunks" "$(lst c1; cat c1.err)" "$want1"

# --- stacks: eStargz and plain gzip mixed, against all plain gzip ---
flatten_x plain123 l1.tgz l2.tgz l3.tgz
want123=$(lst plain123)
is "estargz: (reference) the three layers as plain gzip" \
	"$(printf '%s\n' "$want123" | cut -d' ' -f1 | tr '\n' ' ')" \
	"bin data data/.no.prefetch.landmark data/.prefetch.landmark data/stargz.index.json empty etc etc/hosts etc/motd opt opt/big usr usr/bin usr/bin/busybox usr/bin/sh usr/bin/tool "
esgz --chunk-size 4096 --prioritize usr/bin/tool l2.tar e2.tgz
esgz --legacy l3.tar s3.tgz
same_tree m1 "estargz: eStargz, plain gzip, legacy stargz" "$want123" e1.tgz l2.tgz s3.tgz
same_tree m2 "estargz: plain gzip, eStargz (prefetch), plain gzip" "$want123" l1.tgz e2.tgz l3.tgz
esgz --lossless l3.tar ll3.tgz
same_tree m3 "estargz: three eStargz layers of three forms" "$want123" p1.tgz e2.tgz ll3.tgz
is "estargz: -t on the stack lists no top-level TOC or landmark" \
	"$(meta_listed e1.tgz e2.tgz s3.tgz | grep -v '^data/')" ""

# --- the names without the footer, or not at the top, are files ---
mklayer own.tar <<'EOF'
file stargz.index.json data=my-own-toc mtime=400
file .prefetch.landmark data=p mtime=401
file .no.prefetch.landmark data=n mtime=402
dir sub mtime=403
file sub/stargz.index.json data=sub mtime=404
EOF
gzip -n -c own.tar >own.tgz
want_own=$(cat <<EOF
.no.prefetch.landmark f 0644 0:0 402 $(h n) - -
.prefetch.landmark f 0644 0:0 401 $(h p) - -
stargz.index.json f 0644 0:0 400 $(h my-own-toc) - -
sub d 0755 0:0 403 - - -
sub/stargz.index.json f 0644 0:0 404 $(h sub) - -
EOF
)
same_tree own "estargz: a plain gzip layer keeps its own stargz.index.json and landmarks" \
	"$want_own" own.tgz
same_tree ownp "estargz: a plain tar layer keeps them too" "$want_own" own.tar
is "estargz: -t lists them for a layer without the footer" "$(meta_listed own.tgz | sort)" \
	".no.prefetch.landmark
.prefetch.landmark
stargz.index.json
sub/stargz.index.json"
# under an eStargz layer they stay: its TOC and landmark are not changes
mklayer top.tar <<'EOF'
file new data=new mtime=500
EOF
esgz top.tar top.tgz
same_tree ownu "estargz: a lower layer's files of those names survive an eStargz layer" \
	"$(printf '%s\n' "$want_own" "new f 0644 0:0 500 $(h new) - -" | sort)" own.tgz top.tgz
# an eStargz layer whose members are named so below the top keeps them
mklayer subs.tar <<'EOF'
dir a mtime=600
dir a/b mtime=601
file a/b/stargz.index.json data=deep mtime=602
file a/.prefetch.landmark data=pl mtime=603
EOF
esgz subs.tar subs.tgz
is "estargz: (writer) the TOC names a/b/stargz.index.json" \
	"$(gzip -dc subs.tgz | tr -d '\0' | grep -c '"name": "a/b/stargz.index.json"')" 1
want_subs=$(cat <<EOF
a d 0755 0:0 600 - - -
a/.prefetch.landmark f 0644 0:0 603 $(h pl) - -
a/b d 0755 0:0 601 - - -
a/b/stargz.index.json f 0644 0:0 602 $(h deep) - -
EOF
)
same_tree subs "estargz: an eStargz layer keeps stargz.index.json and landmarks below its top" \
	"$want_subs" subs.tgz

# --- a footer that does not point at the TOC: a warning, read as plain gzip ---
badw() { # FILE: what tarflat says about FILE
	"$TARFLAT" -t "$1" 2>&1 >/dev/null
}
esgz --toc-offset 999999999 l1.tar bad1.tgz
size=$(wc -c <bad1.tgz)
is "estargz: a TOC offset past the footer: a warning at the footer" "$(badw bad1.tgz)" \
	"tarflat: bad1.tgz: offset $((size - 51)): warning: eStargz footer: no stargz.index.json at the TOC offset 999999999 it gives; read as plain gzip, the TOC and landmarks kept"
is "estargz: ... and the layer's TOC and landmark are kept" "$(meta_listed bad1.tgz | sort)" \
	".no.prefetch.landmark
data/.no.prefetch.landmark
data/.prefetch.landmark
data/stargz.index.json
stargz.index.json"
esgz --toc-offset 0 l1.tar bad2.tgz
esgz --legacy --landmark no-prefetch --toc-offset 0 l1.tar bad3.tgz
is "estargz: a TOC offset at a gzip member that is not the TOC: a warning" \
	"$(badw bad2.tgz | sed 's/offset [0-9]*: //'; badw bad3.tgz | sed 's/offset [0-9]*: //')" \
	"tarflat: bad2.tgz: warning: eStargz footer: no stargz.index.json at the TOC offset 0 it gives; read as plain gzip, the TOC and landmarks kept
tarflat: bad3.tgz: warning: stargz footer: no stargz.index.json at the TOC offset 0 it gives; read as plain gzip, the TOC and landmarks kept"
flatten_x bad2 bad2.tgz
is "estargz: ... the whole tar stream is output, TOC and landmark as files" \
	"$(lst bad2 --fields path,type | grep -Ev '^(data|etc|usr|bin|empty)')" \
	".no.prefetch.landmark f
stargz.index.json f"

# --- in an image: each layer a byte range of an OCI archive ---
$PY - e1.tgz e2.tgz s3.tgz <<'EOF'
import gzip, hashlib, json, os, sys
def put(data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs("img/blobs/sha256", exist_ok=True)
    with open("img/blobs/sha256/" + d, "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
layers, diffs = [], []
for p in sys.argv[1:]:
    blob = open(p, "rb").read()
    layers.append(dict(put(blob), mediaType="application/vnd.oci.image.layer.v1.tar+gzip"))
    diffs.append("sha256:" + hashlib.sha256(gzip.decompress(blob)).hexdigest())
cfg = put(json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": diffs}}).encode())
man = put(json.dumps({"schemaVersion": 2,
                      "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
                      "layers": layers}).encode())
with open("img/index.json", "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [
        dict(man, mediaType="application/vnd.oci.image.manifest.v1+json")]}, f)
with open("img/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion": "1.0.0"}')
EOF
tar -C img -cf oci.tar oci-layout index.json blobs
same_tree imga "estargz: an OCI archive of eStargz and stargz layers (byte ranges)" "$want123" oci.tar
same_tree imgd "estargz: the same image as an OCI layout directory" "$want123" img

# a layer that the image marks eStargz by its descriptor's annotation
# (stargz-snapshotter's containerd.io/snapshot/stargz/toc.digest), though
# it has no footer: the three names at its top are left out all the same;
# the same layer without the annotation keeps them
annotated() { # DIR ANNOTATE: own.tgz as the one layer of an OCI layout
	$PY - "$1" "$2" own.tgz <<'EOF'
import gzip, hashlib, json, os, sys
top, annotate, layer = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
def put(data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(top + "/blobs/sha256", exist_ok=True)
    with open(top + "/blobs/sha256/" + d, "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
blob = open(layer, "rb").read()
desc = dict(put(blob), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
if annotate:
    desc["annotations"] = {"containerd.io/snapshot/stargz/toc.digest": "sha256:" + "0" * 64}
cfg = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
      "diff_ids": ["sha256:" + hashlib.sha256(gzip.decompress(blob)).hexdigest()]}}).encode())
man = put(json.dumps({"schemaVersion": 2,
                      "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
                      "layers": [desc]}).encode())
with open(top + "/index.json", "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [
        dict(man, mediaType="application/vnd.oci.image.manifest.v1+json")]}, f)
with open(top + "/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion": "1.0.0"}')
EOF
}
annotated ann 1
annotated plainann 0
same_tree ann "estargz: the toc.digest annotation marks a layer without a footer" \
	"$(printf '%s\n' "$want_own" | grep -v '^\.no\.prefetch\|^\.prefetch\|^stargz')" ann
same_tree plainann "estargz: without the annotation the same layer keeps them" "$want_own" plainann

done_testing
