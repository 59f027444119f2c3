#!/bin/bash
# t/hostile-measure.sh - peak RSS and wall time of tarflat on hostile-sized
# layers, next to GNU tar -tf and bsdtar -tf on the same files in the same
# run (issue 3 "Hostile input: memory"). Not part of `make check`: it writes
# ~3.5 GB of layers and takes minutes.
#
# usage: t/hostile-measure.sh [DIR]     (default t/trash/hostile-measure;
#        KEEP=1 keeps the layers; TARFLAT=... picks the binary)
#
# Layers (built by t/hostile.py with raw headers):
#   million      one layer of 1 000 000 empty files in 1000 directories
#   million.gz   the same, gzip (pigz -1 if installed)
#   paxjunk      1100 files, each behind an x header of ~1 MiB of junk
#                records (1.1 GiB of pax headers in all)
#   gjunk-each   1100 g headers of ~1 MiB of junk, each followed by one file
#                (the same keys every time: each g replaces the last)
#   gjunk-1k     one ~1 MiB g header, then 1000 empty files
#   gjunk-10k    one ~1 MiB g header, then 10 000 empty files
# For each: tarflat FILE >/dev/null, tar -tf FILE, bsdtar -tf FILE under
# /usr/bin/time -f '%e %M' (wall seconds, peak RSS KiB); prints a table with
# the ratios tarflat/tar and tarflat/bsdtar, the exit status and the output
# size.
set -u
export LC_ALL=C
TDIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$TDIR/.." && pwd)
: "${TARFLAT:=$TOP/tarflat}"
D=${1:-$TDIR/trash/hostile-measure}
mkdir -p "$D" && cd "$D" || exit 1
PY=$(python3 -c 'import sys; print(sys.executable)')
export PYTHONPATH=$TDIR

build() { # NAME CMD...: build NAME once
	[ -s "$1" ] && return 0
	echo "# building $1" >&2
	"${@:2}" || { rm -f "$1"; exit 1; }
}
build million.tar $PY -S "$TDIR/hostile.py" million million.tar 1000000 1000
if command -v pigz >/dev/null; then
	build million.tar.gz sh -c 'pigz -1 -c million.tar >million.tar.gz'
else
	build million.tar.gz sh -c 'gzip -1 -c million.tar >million.tar.gz'
fi
build paxjunk.tar $PY -S "$TDIR/hostile.py" paxjunk paxjunk.tar 1100 1024
build gjunk-each.tar $PY -S - <<'EOF'
from hostile import *
g = ext("g", junk(1024 * 1024 - 64, "junk"))    # same keys in every g
with open("gjunk-each.tar", "wb") as f:
    for i in range(1100):
        f.write(g + member("f%04d" % i))
    f.write(EOF)
EOF
for n in 1000 10000; do
	build gjunk-$((n / 1000))k.tar $PY -S "$TDIR/hostile.py" globjunk gjunk-$((n / 1000))k.tar 1 1024 $n
done

# m NAME CMD...: one measurement: "wall rss status outbytes"
m() {
	/usr/bin/time -f '%e %M' -o tm.txt "${@:2}" 2>err.txt | wc -c >bytes.txt
	st=${PIPESTATUS[0]}
	read -r wall rss < <(tail -n 1 tm.txt)
	case $wall in *[!0-9.]*|'') wall=NA rss=NA ;; esac
	echo "$wall $rss $st $(cat bytes.txt)"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "NA") printf "%.2f", a / b; else printf "-" }'; }

printf '| layer | size | tool | wall s | peak RSS MiB | status | stdout bytes | wall ratio | RSS ratio |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for f in million.tar million.tar.gz paxjunk.tar gjunk-each.tar gjunk-1k.tar gjunk-10k.tar; do
	cat "$f" >/dev/null       # warm the page cache: every tool reads it hot
	size=$(du -h --apparent-size "$f" | cut -f1)
	tf=$(m tarflat "$TARFLAT" "$f")
	cp err.txt "$f.tarflat.err"
	gt=$(m tar tar -tf "$f")
	bt=$(m bsdtar bsdtar -tf "$f")
	set -- $tf; tw=$1 tr=$2
	for row in "tarflat|$tf" "GNU tar -tf|$gt" "bsdtar -tf|$bt"; do
		tool=${row%%|*}
		set -- ${row#*|}
		rmib=$(awk -v k="$2" 'BEGIN { if (k == "NA") print "NA"; else printf "%.1f", k / 1024 }')
		if [ "$tool" = tarflat ]; then
			printf '| %s | %s | %s | %s | %s | %s | %s | | |\n' "$f" "$size" "$tool" "$1" "$rmib" "$3" "$4"
		else
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$f" "$size" "$tool" "$1" "$rmib" "$3" "$4" \
				"$(ratio "$tw" "$1")" "$(ratio "$tr" "$2")"
		fi
	done
	[ -s "$f.tarflat.err" ] && sed "s/^/    $f: /" "$f.tarflat.err" | head -n 3 >&2
done
[ "${KEEP:-0}" = 1 ] || rm -f million.tar million.tar.gz paxjunk.tar gjunk-*.tar
