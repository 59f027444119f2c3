#!/bin/bash
# t0810: what the fuzzers found, checked through the command line: each
# case is a valid layer that tarflat must take, or a bad one it must
# refuse cleanly. The raw fuzz inputs are in t/fuzz/regress/ (t0800).
. "$(dirname "$0")/lib.sh"

# F1 (/work/notes/bugs-fuzz.md): a first member whose name starts like a
# compression magic is still a member. Layers written by Python's tarfile
# (GNU format, so any bytes go through), then flattened and extracted.
$PY - <<'PY'
import io, tarfile
names = {
    "bzip2": b"BZh91AY&SY.txt", "lzip": b"LZIP-notes", "lrzip": b"LRZIfile",
    "grzip": b"GRZipII.txt", "zip": b"PK\x03\x04name", "lz4": b"\x04\x22\x4d\x18lz4",
    "lz4-legacy": b"\x02\x21\x4c\x18lz4", "zstd": b"\x28\xb5\x2f\xfdzstd",
    "xz": b"\xfd7zXZ", "7z": b"7z\xbc\xaf\x27\x1c7z", "lzop": b"\x89LZO",
    "compress": b"\x1f\x9dZ", "gzip": b"\x1f\x8b\x08gz",
}
for kind, name in names.items():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as tf:
        for n, data in ((name, b"first"), (b"second", b"2")):
            ti = tarfile.TarInfo(n.decode("utf-8", "surrogateescape"))
            ti.size, ti.mtime = len(data), 1000000000
            tf.addfile(ti, io.BytesIO(data))
    open("magic-%s.tar" % kind, "wb").write(buf.getvalue())
PY
open=$(awk '$2 == "t0810-magic-names" { print $1 }' "$TDIR/fuzz/open-bugs.txt")
for f in magic-*.tar; do
	kind=${f#magic-}; kind=${kind%.tar}
	desc="F1 first member named like $kind magic: both files"
	if flatten "$T/.flat.tar" "$f" 2>"$T/.err" && extract "$T/.flat.tar" "x-$kind"; then
		is "$desc" "$(find "x-$kind" -type f -exec sh -c 'cat "$1"; echo' sh {} \; | sort | tr -d "\n")" "2first"
	elif [ -n "$open" ]; then
		skip "$desc" "known open bug $open: $(head -c 100 "$T/.err")"
	else
		_report 1 "$desc"
		sed 's/^/# /' "$T/.err"
	fi
done
# F2: a directory component '.wh.', '.wh..' or '.wh...' (a bare whiteout
# name when it is the last component). Whatever tarflat decides, it must
# not write output that it then refuses: either exit 1 with a message and
# nothing on stdout, or output that flattens again to the same bytes.
open=$(awk '$2 == "t0810-wh-dot-dirs" { print $1 }' "$TDIR/fuzz/open-bugs.txt")
for n in .wh. .wh.. .wh... a/.wh..; do
	printf 'file %s/x data=1\n' "$n" | mklayer "whdir.tar"
	desc="F2 a member under '$n/': refused, or output that tarflat takes back"
	flatten out.tar whdir.tar 2>err.txt
	rc=$?
	if [ $rc -ne 0 ]; then
		got="exit $rc, $(wc -c <out.tar) bytes, $(grep -c . err.txt) message"
		want="exit 1, 0 bytes, 1 message"
	else
		flatten again.tar out.tar 2>err.txt
		got="again: exit $?, same bytes: $(cmp -s out.tar again.tar && echo yes || echo no)"
		want="again: exit 0, same bytes: yes"
	fi
	if [ "$got" = "$want" ] || [ -z "$open" ]; then
		is "$desc" "$got" "$want"
	else
		skip "$desc" "known open bug $open: $got"
	fi
done
done_testing
