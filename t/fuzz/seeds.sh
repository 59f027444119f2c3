#!/bin/bash
# t/fuzz/seeds.sh [OUTDIR] - build the fuzz targets' seed directories.
#
# Writes OUTDIR/fuzz_header, OUTDIR/fuzz_gzip and OUTDIR/fuzz_flatten
# (default t/fuzz/work/seeds, which git ignores) from
#  - ../shared/corpus: every plain tar (fuzz_header; fuzz_flatten as the
#    second layer of an image whose first is empty) and every gzip file
#    (fuzz_gzip; fuzz_flatten likewise), when the corpus is there;
#  - layers made here with t/mklayer.py (Python tarfile), GNU tar and bsdtar:
#    whiteouts, opaque markers, hardlinks, sparse files, pax records, long
#    names, several gzip members, a gzip stream long enough for access
#    points; and seeded random stacks from t/genstack.py, taken in pairs;
# and OUTDIR/fuzz_image and OUTDIR/fuzz_json from the hand-written seeds in
# t/fuzz/seeds-image and t/fuzz/seeds-json (their inputs are lists of JSON
# parts, or JSON, not tars: see fuzz_image.c), with, for fuzz_image, the
# metadata of images t/mkimage.py writes, in its parts format.
# A fuzz_flatten input is: 2 bytes (big-endian) = length of layer 1, then
# layer 1, then layer 2 (see fuzz_flatten.c). Bigger files are left out:
# the fuzzers run with -max_len 65536 or less.
set -eu
export LC_ALL=C TZ=UTC
umask 022

FUZZ=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$FUZZ/../.." && pwd)
OUT=${1:-$FUZZ/work/seeds}
CORPUS=$TOP/../shared/corpus
PY=$(python3 -c 'import sys; print(sys.executable)')
MAX=65536

rm -rf "$OUT"
mkdir -p "$OUT/fuzz_header" "$OUT/fuzz_gzip" "$OUT/fuzz_flatten" "$OUT/fuzz_image" \
	"$OUT/fuzz_json"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# pair OUT L1 [L2]: a fuzz_flatten input (L2 empty when not given).
pair() {
	"$PY" -S - "$@" <<'PY'
import sys
out, l1 = sys.argv[1], open(sys.argv[2], "rb").read()
l2 = open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else b""
if len(l1) > 0xffff:
    sys.exit("pair: first layer too big: " + sys.argv[2])
with open(out, "wb") as f:
    f.write(bytes([len(l1) >> 8, len(l1) & 0xff]) + l1 + l2)
PY
}

size() { wc -c <"$1" | tr -d ' '; }

is_gzip() { [ "$(head -c 2 "$1" | od -An -tx1 | tr -d ' \n')" = 1f8b ]; }

# add NAME FILE: files it into the seed sets its kind and size suit.
add() {
	local name=$1 f=$2 n
	n=$(size "$f")
	[ "$n" -le $MAX ] || return 0
	if is_gzip "$f"; then
		cp "$f" "$OUT/fuzz_gzip/$name"
	else
		cp "$f" "$OUT/fuzz_header/$name"
	fi
	# As the second layer after an empty first one: no size limit there
	# but -max_len's.
	printf '\0\0' | cat - "$f" >"$OUT/fuzz_flatten/$name"
}

# ---- the shared corpus ------------------------------------------------
if [ -d "$CORPUS" ]; then
	find "$CORPUS" -type f ! -name MANIFEST.tsv ! -name '*.md' | sort |
	while read -r f; do
		magic=$(head -c 6 "$f" | od -An -tx1 | tr -d ' \n')
		case $magic in
		1f8b*) ;;                       # gzip
		28b52ffd*|fd377a585a00*|425a68*|04224d18*|4c5a4950*|1f9d*|377abcaf271c*|5d0000*)
			continue ;;             # compressions tarflat refuses
		esac
		name=corpus-$(printf '%s' "${f#$CORPUS/}" | tr '/' '_')
		add "$name" "$f"
	done
else
	echo "seeds.sh: $CORPUS not found; generated seeds only" >&2
fi

# ---- layers made with Python tarfile (t/mklayer.py) -------------------
mk() { # NAME [mklayer options] < SPEC
	local name=$1; shift
	"$PY" -S "$TOP/t/mklayer.py" "$@" "$TMP/$name"
}

mk base <<'S'
dir etc mode=0755
file etc/passwd data=root:x:0:0
file etc/hosts size=300 mtime=1234567890
dir usr
dir usr/bin
file usr/bin/sh size=2000 mode=0755
hardlink usr/bin/bash usr/bin/sh
symlink bin usr/bin
symlink lib /usr/lib
dir opt uid=1000 gid=1000 uname=user gname=group
file opt/x xattr.user.k=v pax.SCHILY.xattr.security.capability=caps
fifo run.fifo
char dev/null 1 3
block dev/sda 8 0
S
mk upper <<'S'
whiteout etc/hosts
opaque opt
file opt/new data=new
dir usr/bin
whiteout bin
dir bin
file bin/ls size=100 mode=04755
hardlink usr/bin/sh2 usr/bin/bash
file .wh..wh.plnk/1234.5 data=aufs
hardlink usr/bin/aufs .wh..wh.plnk/1234.5
S
mk links <<'S'
hardlink a/late b
file b data=late-target
hardlink c b
hardlink d c
file b data=replaced
symlink loop1 loop2
symlink loop2 loop1
file loop1/x data=through-a-loop
S
mk longnames --format gnu <<'S'
dir aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
file aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb data=long
symlink s cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
file big uid=99999999 gid=99999999 mtime=99999999999
S
mk paxlong --format pax <<'S'
file dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/e data=pax-path
hardlink f dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/e
file g pax.mtime=1234567890.123456789 pax.comment=hi pax.atime=1
file h uname=averyveryveryveryverylongusername123 mode=07777
raw i 7 data=contiguous
raw j V
raw k x
S
mk ustar --format ustar <<'S'
dir ./x/
file ./x/y data=ustar
file /abs data=absolute
file x//z/../w data=dots
whiteout x/y
S
mk v7 --format v7 <<'S'
file a data=v7
dir b
S
for f in base upper links longnames paxlong ustar v7; do
	add "mk-$f" "$TMP/$f"
done

# ---- GNU tar and bsdtar ------------------------------------------------
src=$TMP/src
mkdir -p "$src/d/e" "$src/long"
printf 'hello\n' >"$src/d/f"
ln "$src/d/f" "$src/d/hard"
ln -s ../d/f "$src/d/e/sym"
truncate -s 1M "$src/sparse"
printf 'middle' | dd of="$src/sparse" bs=1 seek=300000 conv=notrunc status=none
printf 'end' | dd of="$src/sparse" bs=1 seek=1048000 conv=notrunc status=none
long=$src/long/$(printf 'n%.0s' $(seq 1 120))
mkdir -p "$long" && printf 'x' >"$long/$(printf 'm%.0s' $(seq 1 150))"
touch -d @1000000000 "$src" "$src"/* "$src"/d/* 2>/dev/null || true
if command -v tar >/dev/null; then
	for fmt in gnu posix ustar oldgnu; do
		tar -C "$src" --format=$fmt --sparse -cf "$TMP/gnutar-$fmt" . 2>/dev/null || continue
		add "gnutar-$fmt" "$TMP/gnutar-$fmt"
	done
	for v in 0.0 0.1 1.0; do
		tar -C "$src" --format=posix --sparse --sparse-version=$v -cf "$TMP/gnutar-sparse$v" sparse
		add "gnutar-sparse$v" "$TMP/gnutar-sparse$v"
	done
	tar -C "$src" --format=posix --sparse -czf "$TMP/gnutar.tgz" .
	add gnutar-tgz "$TMP/gnutar.tgz"
fi
if command -v bsdtar >/dev/null; then
	for fmt in pax ustar gnutar v7 cpio; do
		bsdtar -C "$src" --format=$fmt -cf "$TMP/bsdtar-$fmt" . 2>/dev/null || continue
		[ $fmt = cpio ] || add "bsdtar-$fmt" "$TMP/bsdtar-$fmt"
	done
	bsdtar -C "$src" --format=pax --read-sparse -czf "$TMP/bsdtar.tgz" . 2>/dev/null &&
		add bsdtar-tgz "$TMP/bsdtar.tgz"
fi

# ---- gzip shapes -------------------------------------------------------
# Several members, a member per entry, an empty member, trailing zeros, and
# a stream whose output passes access points (TAR_SPAN is 2 MiB; fuzz_gzip
# skips inputs that inflate to more than 9 MiB).
gzip -9n <"$TMP/base" >"$TMP/g1"
gzip -1n <"$TMP/upper" >>"$TMP/g1"
cp "$TMP/g1" "$OUT/fuzz_gzip/multi-member"
head -c 2048 "$TMP/base" | gzip -n >"$TMP/g2"
tail -c +2049 "$TMP/base" | gzip -n >>"$TMP/g2"
printf '' | gzip -n >>"$TMP/g2"
cp "$TMP/g2" "$OUT/fuzz_gzip/split-member"
gzip -n <"$TMP/links" >"$TMP/g3" && head -c 1024 /dev/zero >>"$TMP/g3"
cp "$TMP/g3" "$OUT/fuzz_gzip/trailing-zeros"
"$PY" -S - "$TMP/spans.gz" <<'PY'
import gzip, io, sys, tarfile
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
    for name, size in (("a", 1000), ("big", 5 << 20), ("b", 70000), ("c", 3 << 20)):
        ti = tarfile.TarInfo(name)
        ti.size = size
        tf.addfile(ti, io.BytesIO(bytes(size)))
open(sys.argv[1], "wb").write(gzip.compress(buf.getvalue(), 9, mtime=0))
PY
cp "$TMP/spans.gz" "$OUT/fuzz_gzip/access-points"

# ---- fuzz_flatten pairs -----------------------------------------------
pair "$OUT/fuzz_flatten/mk-base-upper" "$TMP/base" "$TMP/upper"
pair "$OUT/fuzz_flatten/mk-upper-links" "$TMP/upper" "$TMP/links"
pair "$OUT/fuzz_flatten/mk-links-ustar" "$TMP/links" "$TMP/ustar"
pair "$OUT/fuzz_flatten/mk-base-gz" "$TMP/base" "$TMP/g1"
for seed in 1 2 3 4 5 6 7 8 9 10 11 12; do
	d=$TMP/stack$seed
	mkdir -p "$d"
	"$PY" -S "$TOP/t/genstack.py" --seed $seed "$d" >"$d/list"
	mapfile -t ls <"$d/list"
	for ((i = 0; i + 1 < ${#ls[@]}; i++)); do
		[ "$(size "${ls[i]}")" -le 65535 ] || continue
		pair "$OUT/fuzz_flatten/genstack$seed-$i" "${ls[i]}" "${ls[i+1]}"
	done
	add "genstack$seed" "${ls[0]}"
done

# ---- fuzz_image and fuzz_json -------------------------------------------
cp "$FUZZ"/seeds-image/* "$OUT/fuzz_image/"
cp "$FUZZ"/seeds-json/* "$OUT/fuzz_json/"
# layouts t/mkimage.py writes, as fuzz_image's parts: index.json or
# manifest.json first, then every blob (the parts' names are their digests,
# so the descriptors still find them)
printf 'file a data=x\n' | "$PY" -S "$TOP/t/mklayer.py" "$TMP/ml.tar"
for form in oci-dir dir; do
	for opts in "" "types=docker compress=plain"; do
		name=mk-$form-$(printf '%s' "${opts:-gzip}" | tr ' =' '-.')
		"$PY" -S "$TOP/t/mkimage.py" $form "$TMP/$name" "$TMP/ml.tar" "$TMP/ml.tar" $opts >/dev/null
		"$PY" -S - "$TMP/$name" "$OUT/fuzz_image/$name" <<'PY'
import os, sys
d, out = sys.argv[1], sys.argv[2]
first = "manifest.json" if os.path.exists(os.path.join(d, "manifest.json")) else "index.json"
parts = [open(os.path.join(d, first), "rb").read()]
for root, _, files in sorted(os.walk(d)):
    for f in sorted(files):
        data = open(os.path.join(root, f), "rb").read()
        if f not in (first, "oci-layout", "version"):
            parts.append(data)
with open(out, "wb") as o:
    o.write((b"dir:" if first == "manifest.json" else b"") + b"\n--\n".join(parts))
PY
	done
done

for t in fuzz_header fuzz_gzip fuzz_flatten fuzz_image fuzz_json; do
	echo "seeds.sh: $t: $(ls "$OUT/$t" | wc -l) seeds in $OUT/$t"
done
