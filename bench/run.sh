#!/bin/sh
# bench/run.sh - wall time and peak RSS of tarflat on a three-layer gzip stack,
# next to pigz -dc and gzip -dc of the same layers in the same run (the machine
# is shared and noisy: compare the ratios, not the seconds).
#
#   sh bench/run.sh [DIR]      layers are built once in DIR (default
#                              /tmp/tarflat-bench) from this machine's /usr
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/tarflat-bench}
mkdir -p "$dir"
cd "$dir"

# Layer 1: a toolchain tree; layer 2: another, plus files that replace and
# hardlink into layer 1; layer 3: whiteouts of part of layer 1 and a rewrite.
if [ ! -f l3.tar.gz ]; then
	tar -C / -cf - usr/lib/llvm-14 | gzip -6 >l1.tar.gz
	rm -rf stage && mkdir -p stage/usr/lib/llvm-14/bin
	cp -a /usr/lib/llvm-14/bin/clang-14 stage/usr/lib/llvm-14/bin/clang-14
	ln stage/usr/lib/llvm-14/bin/clang-14 stage/usr/lib/llvm-14/bin/clang-copy
	tar -C / -cf - usr/lib/gcc usr/share/doc >l2.tar
	tar -C stage -rf l2.tar usr
	gzip -6 <l2.tar >l2.tar.gz && rm l2.tar
	rm -rf stage && mkdir -p stage/usr/lib/llvm-14/lib stage/usr/share
	touch stage/usr/lib/llvm-14/lib/.wh.clang stage/usr/share/.wh.doc
	tar -C / -cf - usr/lib/python3 >l3.tar
	tar -C stage -rf l3.tar usr
	gzip -6 <l3.tar >l3.tar.gz && rm -rf l3.tar stage
fi
ls -l l1.tar.gz l2.tar.gz l3.tar.gz
echo "uncompressed: $(gzip -dc l1.tar.gz l2.tar.gz l3.tar.gz | wc -c) bytes"

# Output goes through a pipe, as in real use (and so that nothing can
# special-case /dev/null).
hyperfine -w 1 -r "${RUNS:-5}" -N --output=pipe \
	"gzip -dc l1.tar.gz l2.tar.gz l3.tar.gz" \
	"pigz -dc l1.tar.gz l2.tar.gz l3.tar.gz" \
	"$top/tarflat l1.tar.gz l2.tar.gz l3.tar.gz" 2>&1 |
	sed "s|$top/||"
for cmd in "pigz -dc l1.tar.gz l2.tar.gz l3.tar.gz" \
	"$top/tarflat l1.tar.gz l2.tar.gz l3.tar.gz"; do
	/usr/bin/time -f "peak RSS %M KiB, %e s: ${cmd#$top/}" sh -c "$cmd | cat >/dev/null"
done
