#!/bin/bash
# tarflat.1 LIMITS, temporary space: standard input and other pipes are
# spooled, and zstd, xz and bzip2 layers decompressed, into $TMPDIR. When
# the room there runs out (a full file system, or the file size limit of
# ulimit -f), tarflat says which directory, how much it had written, and
# that TMPDIR picks another; exit 1, nothing on stdout.
. "$(dirname "$0")/lib.sh"

python3 - <<'PY'
import io, os, random, tarfile
random.seed(7)
with tarfile.open("big.tar", "w", format=tarfile.PAX_FORMAT) as t:
    for i in range(3):
        data = random.randbytes(1 << 20)
        m = tarfile.TarInfo("f%d" % i)
        m.size, m.mtime = len(data), 100
        t.addfile(m, io.BytesIO(data))
PY
room_msg() { # FILE DIR WHY: the message tarflat must give
	echo "tarflat: $1: offset 0: the temporary file in $2 $3 after [0-9]+ bytes: set TMPDIR to a directory with more room"
}
full() { # DESC RE CMD...: exit 1, nothing on stdout, stderr matches RE (ERE)
	_d=$1 _re=$2; shift 2
	"$@" >"$T/.out1" 2>"$T/.err1"
	_s=$?
	if [ $_s -eq 1 ] && [ ! -s "$T/.out1" ] && grep -Eq "^$_re\$" "$T/.err1"; then
		_report 0 "$_d"
	else
		_report 1 "$_d"
		echo "# exit $_s, $(wc -c <"$T/.out1") bytes out; want /$_re/"
		sed 's/^/# stderr: /' "$T/.err1"
	fi
}
mkdir -p tmp

# ulimit -f counts 1024-byte blocks; 1 MiB lets less than big.tar through
full "TMPDIR: standard input spooled past ulimit -f: where, how much, what to do" \
	"$(room_msg - "$T/tmp" 'reached the file size limit \(ulimit -f\)')" \
	bash -c 'ulimit -f 1024; cat big.tar | TMPDIR=$1 "$2" -' sh "$T/tmp" "$TARFLAT"
if command -v zstd >/dev/null 2>&1; then
	zstd -q -c big.tar >big.tar.zst
	full "TMPDIR: a zstd layer decompressed past ulimit -f: the same message" \
		"$(room_msg big.tar.zst "$T/tmp" 'reached the file size limit \(ulimit -f\)')" \
		bash -c 'ulimit -f 1024; TMPDIR=$1 "$2" big.tar.zst' sh "$T/tmp" "$TARFLAT"
else
	skip "TMPDIR: a zstd layer decompressed past ulimit -f" "zstd not installed"
fi
is "TMPDIR: nothing left behind in TMPDIR" "$(ls -A tmp)" ""

# a full file system: a 1 MiB tmpfs (root only)
if [ "$(id -u)" -eq 0 ] && mkdir -p small && mount -t tmpfs -o size=1m tarflat-t0496 small 2>/dev/null; then
	full "TMPDIR: standard input spooled into a full tmpfs: ran out of room" \
		"$(room_msg - "$T/small" 'ran out of room')" \
		sh -c 'cat big.tar | TMPDIR=$1 "$2" -' sh "$T/small" "$TARFLAT"
	if [ -f big.tar.zst ]; then
		full "TMPDIR: a zstd layer decompressed into a full tmpfs: ran out of room" \
			"$(room_msg big.tar.zst "$T/small" 'ran out of room')" \
			sh -c 'TMPDIR=$1 "$2" big.tar.zst' sh "$T/small" "$TARFLAT"
	fi
	is "TMPDIR: the tmpfs is left empty" "$(ls -A small)" ""
	umount small
else
	skip "TMPDIR: a full file system" "needs root and mount -t tmpfs"
fi
ok "TMPDIR: with room, the same input flattens" \
	sh -c 'cat big.tar | TMPDIR=$1 "$2" - | tar -t >/dev/null' sh "$T/tmp" "$TARFLAT"

done_testing
