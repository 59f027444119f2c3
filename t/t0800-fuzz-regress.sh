#!/bin/bash
# t0800: the fuzz targets over every saved regression input (t/fuzz/regress/
# TARGET-NAME) and over a small fixed seed set made here. An input listed
# in t/fuzz/open-bugs.txt (reported, not fixed yet) that still fails is a
# SKIP naming the bug. Each input must
# run to the end: no crash, no abort from a target's own checks (content
# reads after a clean index, same bytes in any read order, tarflat's output
# flattens to itself), no sanitizer report.
#
# The targets are built here, into $T, with the stub driver and, when the
# compiler supports them, AddressSanitizer and UndefinedBehaviorSanitizer
# (so both `make check` and `make asan` run sanitizer builds). CC picks the
# compiler (default cc).
. "$(dirname "$0")/lib.sh"

CC=${CC:-cc}
need "$CC"
FZ=$TOP/t/fuzz
FLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -I$TOP -DTARFLAT_NO_MAIN"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo 'int main(void) { return 0; }' >san.c
if $CC $SAN -o san san.c 2>/dev/null && ./san; then
	FLAGS="$FLAGS $SAN"
	echo "# targets built with $SAN"
else
	echo "# $CC cannot build sanitizer binaries here: plain targets"
fi

build() { # TARGET SOURCES...
	_t=$1; shift
	$CC $FLAGS -o "$T/$_t" "$FZ/$_t.c" "$FZ/driver.c" "$@" -lz -pthread
}
# Every file of the program but tarflat.c (the Makefile's LIB), which
# fuzz_flatten includes itself.
lib=$(make -s -C "$TOP" --no-print-directory print-lib)
for c in $lib; do
	ok "build ${c%.c}.o" $CC $FLAGS -c -o "${c%.c}.o" "$TOP/$c"
done
ok "build fuzz_header" build fuzz_header tar.o gz.o hlmap.o
ok "build fuzz_gzip" build fuzz_gzip tar.o gz.o hlmap.o
# shellcheck disable=SC2046
ok "build fuzz_flatten" build fuzz_flatten $(printf '%s\n' $lib | sed 's/\.c$/.o/')
ok "build fuzz_image" build fuzz_image image.o json.o sha2.o
ok "build fuzz_json" build fuzz_json json.o

# ---- saved regression inputs -------------------------------------------
for f in "$FZ"/regress/*; do
	[ -f "$f" ] || continue
	name=$(basename "$f")
	target=${name%%-*}
	if [ ! -x "$T/$target" ]; then
		_report 1 "regress $name: no target $target"
		continue
	fi
	bug=$(awk -v n="$name" '$2 == n { print $1 }' "$FZ/open-bugs.txt")
	if [ -n "$bug" ] && ! ("$T/$target" "$f"; exit $?) >/dev/null 2>&1; then
		skip "regress $name" "known open bug $bug (t/fuzz/open-bugs.txt)"
		continue
	fi
	ok "regress $name" "$T/$target" "$f"
done

# ---- a fixed seed set -------------------------------------------------
mklayer base.tar <<'S'
dir etc
file etc/passwd data=root:x:0:0
file etc/hosts size=300
dir usr/bin
file usr/bin/sh size=2000 mode=0755
hardlink usr/bin/bash usr/bin/sh
symlink bin usr/bin
fifo run.fifo
char dev/null 1 3
file opt/x xattr.user.k=v
S
mklayer upper.tar <<'S'
whiteout etc/hosts
whiteout bin
dir bin
hardlink bin/sh2 usr/bin/bash
opaque usr
file usr/new data=new
file .wh..wh.plnk/1.2 data=aufs
hardlink aufs .wh..wh.plnk/1.2
hardlink late target
file target data=late
S
mklayer long.tar --format gnu <<S
file $(printf 'a%.0s' $(seq 1 150))/$(printf 'b%.0s' $(seq 1 120)) data=long
symlink s $(printf 'c%.0s' $(seq 1 130))
file big uid=99999999 mtime=99999999999
S
mklayer pax.tar --format pax <<'S'
file g pax.mtime=1234567890.5 pax.comment=hi
file h uname=averyveryveryveryverylongusername123
raw i 7 data=contiguous
S
gzip -n <base.tar >multi.tgz && gzip -n <upper.tar >>multi.tgz
gzip -n <base.tar >upper.tgz
mkdir src && truncate -s 300000 src/sparse &&
	printf 'data' | dd of=src/sparse bs=1 seek=200000 conv=notrunc status=none
tar -C src --format=posix --sparse -cf sparse.tar sparse

pair() { # OUT L1 L2: fuzz_flatten's input, 2 bytes of L1's length first
	local len
	len=$(wc -c <"$2")
	printf "\\x$(printf %02x $((len >> 8)))\\x$(printf %02x $((len & 255)))" >"$1"
	cat "$2" "$3" >>"$1"
}
pair base-upper.in base.tar upper.tar
pair long-pax.in long.tar pax.tar
pair pax-sparse.in pax.tar sparse.tar
pair base-multi.in base.tar multi.tgz

for f in base.tar upper.tar long.tar pax.tar sparse.tar; do
	ok "seed fuzz_header $f" "$T/fuzz_header" "$f"
done
for f in upper.tgz multi.tgz; do
	ok "seed fuzz_gzip $f" "$T/fuzz_gzip" "$f"
done
for f in base-upper.in long-pax.in pax-sparse.in base-multi.in; do
	ok "seed fuzz_flatten $f" env FUZZ_MUST_ACCEPT=1 "$T/fuzz_flatten" "$f"
done
for f in "$FZ"/seeds-image/*; do
	ok "seed fuzz_image $(basename "$f")" "$T/fuzz_image" "$f"
done
for f in "$FZ"/seeds-json/*; do
	ok "seed fuzz_json $(basename "$f")" "$T/fuzz_json" "$f"
done
done_testing
