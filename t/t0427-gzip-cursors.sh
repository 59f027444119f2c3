#!/bin/bash
# tar.h cursors (gz.c underneath): several threads read one layer at once,
# each through its own tar_cursor, after indexing. Layers of several 2 MiB
# spans: plain, one gzip member (gzip; pigz, which flushes often), many
# members (with an empty one and zero bytes after the last), regular and
# sparse entries (GNU tar: pax sparse 1.0 and old GNU 'S'). Every entry's
# content, read in a shuffled order, backwards, or cut at the access points
# and shared out, must be what Python's tarfile and `tar -xO` read. A
# cursor that goes back, or skips more than a span, restarts at the access
# point before the bytes (never from the start of the layer); one that
# goes a little ahead inflates on; so after the windows are packed.
# `make tsan` runs this script with
# t/gztest built with ThreadSanitizer.
. "$(dirname "$0")/lib.sh"
: "${GZTEST:=$TDIR/gztest}"
[ -x "$GZTEST" ] || skip_all "t/gztest not built (run make check)"
need gzip
export TAR_OPTIONS=--warning=no-timestamp

# The tree, deterministic: text (Huffman blocks), random bytes (stored
# blocks), zeros (a span of output from a few input bytes), small files,
# and sparse files whose data regions cross access points.
python3 - <<'EOF'
import base64, os, random
r = random.Random(427)
def text(n):
    return base64.b64encode(r.randbytes(n))[:n]
os.makedirs("src/d", exist_ok=True)
os.makedirs("src/small", exist_ok=True)
os.makedirs("src/sparse", exist_ok=True)
open("src/d/big1", "wb").write(text(9 << 20))
open("src/d/big2", "wb").write(r.randbytes(6 << 20))
open("src/d/big3", "wb").write(b"".join(
    text(65536) if i % 2 else bytes(65536) for i in range(80)))
open("src/d/zero", "wb").write(bytes(4 << 20))
open("src/d/empty", "wb").close()
for i in range(60):
    open("src/small/f%03d" % i, "wb").write(text(r.randrange(0, 30000)))
with open("src/sparse/s1", "wb") as f:     # 8 MiB of data in 24 MiB
    for i in range(8):
        f.seek(i * (3 << 20) + 12345)
        f.write(text(1 << 20))
    f.truncate(24 << 20)
with open("src/sparse/s2", "wb") as f:     # small pieces, a hole at the end
    for i in range(40):
        f.seek(i * 100000 + 7)
        f.write(text(5000 + i))
    f.truncate(5 << 20)
EOF
find src -exec touch -d @1000 {} +
tar --format=posix --sparse --sparse-version=1.0 --sort=name --owner=0 --group=0 \
	-cf pax.tar -C src d small sparse
tar --format=gnu --sparse --sort=name --owner=0 --group=0 \
	-cf gnu.tar -C src d small sparse

# what an independent reader sees: one "SHA-256  NAME" line per regular
# entry, and whether the sparse files went in as sparse entries
digests() {
	python3 - "$1" <<'EOF'
import hashlib, sys, tarfile
with tarfile.open(sys.argv[1]) as tf:
    for m in tf:
        if m.isreg():
            print(hashlib.sha256(tf.extractfile(m).read()).hexdigest() + "  " + m.name)
EOF
}
sparse_names() {
	python3 -c '
import sys, tarfile
print(" ".join(m.name for m in tarfile.open(sys.argv[1]) if m.issparse()))' "$1"
}
want_pax=$(digests pax.tar)
want_gnu=$(digests gnu.tar)
is "setup: both layers hold the sparse files as sparse entries" \
	"$(sparse_names pax.tar); $(sparse_names gnu.tar)" \
	"sparse/s1 sparse/s2; sparse/s1 sparse/s2"

# gzip layers: one member; many members cut at odd places, an empty one
# among them and zero bytes after the last
gzip -n -6 -c pax.tar >one.tar.gz
members() { # TAR OUT
	rm -f part.* && split -b 2999999 -a 3 "$1" part. || return 1
	for p in part.*; do
		gzip -n -1 -c "$p"
		[ "$p" = part.aac ] && gzip -n -c </dev/null
	done >"$2"
	head -c 1000 /dev/zero >>"$2"
}
members pax.tar multi.tar.gz
members gnu.tar gnu-multi.tar.gz
layers="pax.tar one.tar.gz multi.tar.gz gnu-multi.tar.gz"
if command -v pigz >/dev/null 2>&1; then
	pigz -n -p 2 -c pax.tar >pigz.tar.gz
	layers="$layers pigz.tar.gz"
else
	skip "pigz layer" "pigz not installed"
fi

# gztest ARGS...: its output, then a line more if it failed (so that a
# sanitizer's report, which leaves the output right, still fails the test);
# its stderr in err
gzt() {
	"$GZTEST" "$@" 2>err
	_s=$?
	[ $_s -eq 0 ] || echo "gztest $* exited $_s"
}

want_for() { # LAYER
	case $1 in gnu*) printf '%s\n' "$want_gnu" ;; *) printf '%s\n' "$want_pax" ;; esac
}

# the layers are larger than several spans; a plain layer is one span
for l in $layers; do
	"$GZTEST" -j 1 -m spans "$l" 2>spans.err >/dev/null
	n=$(sed -n 's/^gztest: [0-9]* entries, \([0-9]*\) spans$/\1/p' spans.err)
	case $l in
	*.gz) ok "$l: more than several spans ($n)" test "${n:-0}" -ge 8 ;;
	*) is "$l: a plain layer is one span" "$n" 1 ;;
	esac
done

# every entry through N concurrent cursors, three ways
for l in $layers; do
	want=$(want_for "$l")
	is "$l: 4 threads, each in its own shuffled order, read what tarfile reads" \
		"$(gzt -j 4 -m shuffle -s 7 "$l")" "$want" || sed 's/^/# /' err | head -n 40
	is "$l: 3 threads, entries last to first, each from its end back" \
		"$(gzt -j 3 -m reverse -s 8 "$l")" "$want" || sed 's/^/# /' err | head -n 40
	is "$l: 4 threads sharing out pieces cut at the access points" \
		"$(gzt -j 4 -m spans -s 9 "$l")" "$want" || sed 's/^/# /' err | head -n 40
done

# GNU tar's own reading of some members (sparse ones expanded), against a
# cursor's
xo() { # LAYER MEMBER
	printf '%s  %s\n' "$(tar -xOf "$1" "$2" | sha256sum | cut -d' ' -f1)" "$2"
}
got=$(gzt -j 2 -m reverse multi.tar.gz)
for m in sparse/s1 sparse/s2 d/big1 d/big3 small/f042; do
	is "multi.tar.gz $m: as tar -xO reads it" "$(printf '%s\n' "$got" | grep "  $m\$")" \
		"$(xo multi.tar.gz "$m")"
done
got=$(gzt -j 2 -m shuffle gnu-multi.tar.gz)
for m in sparse/s1 sparse/s2; do
	is "gnu-multi.tar.gz $m (old GNU sparse): as tar -xO reads it" \
		"$(printf '%s\n' "$got" | grep "  $m\$")" "$(xo gnu-multi.tar.gz "$m")"
done

# a cursor that goes back, or more than a span ahead, restarts at the
# access point before the bytes it reads, never at 0; a little ahead, it
# goes on
for l in $layers; do
	case $l in *.gz) ;; *) continue ;; esac
	out=$(gzt -r "$l")
	is "$l: a cursor restarts at the access point before what it reads, if behind or far ahead" \
		"$(printf '%s\n' "$out" | tail -n 1)" "restart ok" ||
		{ printf '%s\n' "$out"; cat err; } | sed 's/^/# /' | head -n 40
done

# the same after the index is packed (gz_pack deflates the windows, as
# tarflat does while it resolves): restarts inflate a window first
for l in $layers; do
	case $l in *.gz) ;; *) continue ;; esac
	want=$(want_for "$l")
	is "$l, packed: 4 threads, each in its own shuffled order, read what tarfile reads" \
		"$(gzt -p -j 4 -m shuffle -s 10 "$l")" "$want" || sed 's/^/# /' err | head -n 40
	is "$l, packed: 3 threads, entries last to first, each from its end back" \
		"$(gzt -p -j 3 -m reverse -s 11 "$l")" "$want" || sed 's/^/# /' err | head -n 40
	out=$(gzt -p -r "$l")
	is "$l, packed: a cursor restarts at the access point before what it reads" \
		"$(printf '%s\n' "$out" | tail -n 1)" "restart ok" ||
		{ printf '%s\n' "$out"; cat err; } | sed 's/^/# /' | head -n 40
done

done_testing
