#!/bin/bash
# bench/imgout.sh - issue 16's figures: an image written by tarflat against
# tarflat's tar through pigz, and pigz alone on the flattened tar.
#
#   bash bench/imgout.sh TARFLAT IMAGE [ROUNDS] [JOBS]
#
# Runs, in turns, ROUNDS times (default 5), printing "X wall user sys
# maxrss-KiB" per run:
#   A  TARFLAT --format oci-archive -j JOBS -o X.tar IMAGE
#   B  TARFLAT IMAGE | pigz -6 -p JOBS > X.gz
#   C  pigz -6 -p JOBS -c flat.tar (the flattened tar, from the page cache)
#   D  TARFLAT IMAGE > flat.tar (the flatten alone)
# then the size of A's layer blob against B's pigz output. JOBS defaults
# to the number of cores. Work files go to ${TMPDIR:-/tmp}/tarflat-imgout.
set -u
tf=$1 img=$2 rounds=${3:-5} jobs=${4:-$(nproc)}
w=${TMPDIR:-/tmp}/tarflat-imgout
rm -rf "$w" && mkdir -p "$w" || exit 1
"$tf" "$img" >"$w/flat.tar" || exit 1
run() { # NAME COMMAND
	/usr/bin/time -f "$1 %e %U %S %M" -o "$w/time" sh -c "$2" >/dev/null 2>&1
	cat "$w/time"
}
for _ in $(seq "$rounds"); do
	rm -f "$w/X.tar"
	run A "'$tf' --format oci-archive -j $jobs -o '$w/X.tar' '$img'"
	run B "'$tf' '$img' | pigz -6 -p $jobs >'$w/X.gz'"
	run C "pigz -6 -p $jobs -c '$w/flat.tar' >'$w/Y.gz'"
	run D "'$tf' '$img' >'$w/flat2.tar'"
done
python3 - "$w/X.tar" "$w/X.gz" <<'PY'
import json, os, sys, tarfile
t = tarfile.open(sys.argv[1])
index = json.load(t.extractfile("index.json"))
manifest = json.load(t.extractfile("blobs/" + index["manifests"][0]["digest"].replace(":", "/")))
blob, pigz = manifest["layers"][-1]["size"], os.path.getsize(sys.argv[2])
print("layer blob %d bytes, pigz -6 %d bytes: %.5f" % (blob, pigz, blob / pigz))
PY
