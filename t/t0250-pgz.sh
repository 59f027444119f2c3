#!/bin/sh
# pgz.c, the parallel gzip writer (through t/pgztest.c): its output is one
# gzip member that gzip, pigz and Python's gzip module read back to the
# input, at levels 1, 6 and 9, for an empty input, one block, many blocks,
# inputs ending on a block boundary and off it; the same bytes whatever the
# number of workers and however the input is split into writes; a header
# without name or time; the digests and lengths it returns equal
# sha256sum's and wc's; ISIZE mod 2^32 past 4 GiB; a failing sink and a bad
# level reported; memory bounded with a slow sink; valgrind clean. `make
# tsan` runs this script with t/pgztest built with ThreadSanitizer.
. "$(dirname "$0")/lib.sh"
: "${PGZTEST:=$TDIR/pgztest}"
[ -x "$PGZTEST" ] || skip_all "t/pgztest not built (run make check)"
need gzip sha256sum
BLOCK=$("$PGZTEST" -B)

# The inputs, deterministic. Text is words from a small vocabulary (many
# matches, some across block boundaries); random bytes make stored
# blocks; zeros make long matches.
PYTHONPATH=$TDIR $PY - "$BLOCK" <<'EOF'
import gztext, random, sys
B = int(sys.argv[1])
r = random.Random(250)
text = gztext.Text(r)
def write(name, data):
    with open(name, "wb") as f:
        f.write(data)
write("empty", b"")
write("byte", b"x")
write("small", text(100000))
write("block", text(B))                                 # one block, full
write("blocks3", text(B) + r.randbytes(B) + text(B))    # ends on a boundary
write("blocks3+1", text(3 * B + 1))                     # one byte over
mixed = b"".join(text(B // 3 + 1000) + r.randbytes(B // 5) + bytes(B // 4)
                 for _ in range(12))
write("mixed", mixed)                                   # many, cut anywhere
rnd = r.randbytes(B)
write("dict", rnd + rnd[-30000:])                       # only the dictionary
                                                        # compresses block 2
EOF
INPUTS="empty byte small block blocks3 blocks3+1 mixed dict"

# pgz ARGS...: pgztest's stdout; a line more if it failed, so that a
# sanitizer's report (which may leave the output right) fails the test;
# its stderr in err
pgz() {
	"$PGZTEST" "$@" 2>err
	_s=$?
	[ $_s -eq 0 ] || { echo "pgztest $* exited $_s"; sed 's/^/# /' err | head -n 20; }
}

# what pgztest should print for IN and its output OUT
want_result() { # IN OUT
	echo "$(wc -c <"$1" | tr -d ' ') $(wc -c <"$2" | tr -d ' ') sha256:$(sha256sum <"$1" |
		cut -d' ' -f1) sha256:$(sha256sum <"$2" | cut -d' ' -f1)"
}

# Python's reading of each OUT made from IN at LEVEL (args: IN OUT LEVEL
# ...), a line each: the whole stream is one gzip member (nothing after its
# end), the header has no name, time or extra fields, XFL as zlib sets it,
# OS 3; and the gzip module's decompression equals IN.
pycheck() {
	$PY - "$@" <<'EOF'
import gzip, sys, zlib
a = sys.argv[1:]
for i in range(0, len(a), 3):
    src, out = open(a[i], "rb").read(), open(a[i + 1], "rb").read()
    d = zlib.decompressobj(31)
    body = d.decompress(out)
    xfl = {9: 2, 1: 4}.get(int(a[i + 2]), 0)
    print(a[i + 1], "one member:", d.eof and d.unused_data == b"" and body == src,
          "header:", out[:10] == b"\x1f\x8b\x08\x00\0\0\0\0" + bytes([xfl, 3]),
          "gzip module equal:", gzip.decompress(out) == src)
EOF
}

have_pigz=0
command -v pigz >/dev/null 2>&1 && have_pigz=1

# ---- each input, each level: read back by three readers -----------------

pyargs=
for lv in 1 6 9; do
	for f in $INPUTS; do
		got=$(pgz -l "$lv" -j 2 "$f" "$f.$lv.gz")
		is "$f, level $lv: lengths and digests as wc and sha256sum" \
			"$got" "$(want_result "$f" "$f.$lv.gz")"
		g=$(gzip -t "$f.$lv.gz" 2>&1 && gzip -dc "$f.$lv.gz" | cmp - "$f" 2>&1 && echo same)
		is "$f, level $lv: gzip -t passes, gzip -dc gives the input" "$g" same
		if [ $have_pigz = 1 ]; then
			g=$(pigz -t "$f.$lv.gz" 2>&1 && pigz -dc "$f.$lv.gz" | cmp - "$f" 2>&1 && echo same)
			is "$f, level $lv: pigz -t passes, pigz -dc gives the input" "$g" same
		else
			skip "$f, level $lv: pigz reads it" "pigz not installed"
		fi
		pyargs="$pyargs $f $f.$lv.gz $lv"
	done
done
# shellcheck disable=SC2086
pycheck $pyargs >py.out
for lv in 1 6 9; do
	for f in $INPUTS; do
		is "$f, level $lv: one member, no name or time, Python reads the input" \
			"$(grep "^$f\.$lv\.gz " py.out)" \
			"$f.$lv.gz one member: True header: True gzip module equal: True"
	done
done

# the block count: one block, or many
blocks() { echo $((($(wc -c <"$1") + BLOCK - 1) / BLOCK)); }
is "setup: blocks in small, block, blocks3, blocks3+1, mixed" \
	"$(blocks small) $(blocks block) $(blocks blocks3) $(blocks blocks3+1) $(blocks mixed)" \
	"1 1 3 4 10"

# the second block of dict is the end of the first again, at a distance
# within the window: only the dictionary lets deflate find it (without,
# those 30000 random bytes would be stored)
n=$(wc -c <dict.6.gz)
ok "dict: the block after the first refers back into it ($n bytes)" \
	test "$n" -lt $((BLOCK + 2000))

# ---- the same bytes, however run -----------------------------------------

# each worker count with each way of splitting the writes, against -j 2's
for f in empty small blocks3 blocks3+1 mixed; do
	for j in 0 1 2 4; do
		for w in 262144 1 r 4194304; do
			[ "$w" = 1 ] && [ "$f" = mixed ] && [ "$j" -gt 1 ] && continue
			pgz -j "$j" -w "$w" "$f" "$f.j$j.w$w.gz" >/dev/null
			g=$(cmp "$f.j$j.w$w.gz" "$f.6.gz" 2>&1 && echo same)
			is "$f, level 6, $j workers, writes of $w: the same bytes" "$g" same
		done
	done
done
for lv in 1 9; do
	for j in 0 4; do
		pgz -l "$lv" -j "$j" -w r mixed "mixed.$lv.j$j.gz" >/dev/null
		g=$(cmp "mixed.$lv.j$j.gz" "mixed.$lv.gz" 2>&1 && echo same)
		is "mixed, level $lv, $j workers, random writes: the same bytes" "$g" same
	done
done

# ---- ISIZE is the length mod 2^32 ------------------------------------------

if [ -n "${TARFLAT_SANITIZED:-}" ]; then
	skip "4 GiB + 1000 zero bytes: ISIZE 1000, CRC-32 right" "too slow under a sanitizer"
	skip "4 GiB + 1000 zero bytes: gzip -t passes" "too slow under a sanitizer"
else
	n=$((4294967296 + 1000))
	got=$(pgz -l 1 -j 2 -w 4194304 -n "$n" /dev/zero big.gz)
	tail=$($PY - "$n" <<'EOF'
import struct, sys, zlib
n, crc, z = int(sys.argv[1]), 0, bytes(1 << 24)
for _ in range(n >> 24):
    crc = zlib.crc32(z, crc)
crc = zlib.crc32(bytes(n & ((1 << 24) - 1)), crc)
c, isize = struct.unpack("<II", open("big.gz", "rb").read()[-8:])
print(c == crc, isize)
EOF
)
	is "4 GiB + 1000 zero bytes: ISIZE 1000, CRC-32 right, length returned" \
		"$tail $(echo "$got" | cut -d' ' -f1)" "True 1000 $n"
	# gzip -t inflates the 4 GiB again (half a minute): only when asked
	if [ -n "${TARFLAT_SLOW:-}" ]; then
		ok "4 GiB + 1000 zero bytes: gzip -t passes" gzip -t big.gz
	else
		skip "4 GiB + 1000 zero bytes: gzip -t passes" "slow (TARFLAT_SLOW=1 runs it)"
	fi
	rm -f big.gz
fi

# ---- failures -------------------------------------------------------------

# fail ARGS...: pgztest's status and stderr
fail() {
	"$PGZTEST" "$@" >/dev/null 2>err
	echo "exit $?: $(cat err)"
}
ENOSPC="write error: No space left on device (errno: No space left on device)"
# small makes three sink calls (header, block, trailer); mixed, of 10
# blocks, makes 12: the third fails inside a pgz_write, even with 2
# workers (the writer waits for block 1 before it fills block 6)
for j in 0 2; do
	is "$j workers: the sink's first call fails: pgz_finish says so" \
		"$(fail -j $j -f 1 small out)" "exit 1: pgztest: pgz_finish: $ENOSPC"
	is "$j workers: the trailer's write fails: pgz_finish says so" \
		"$(fail -j $j -f 3 small out)" "exit 1: pgztest: pgz_finish: $ENOSPC"
	is "$j workers: a block's write fails: pgz_write says so, and so do later calls" \
		"$(fail -j $j -f 3 mixed out)" "exit 1: pgztest: pgz_write: $ENOSPC"
done
is "mixed: the 12th call, the trailer's, fails in pgz_finish" \
	"$(fail -j 2 -f 12 mixed out)" "exit 1: pgztest: pgz_finish: $ENOSPC"
is "mixed: there is no 13th call" "$(fail -j 2 -f 13 mixed out)" "exit 0: "
is "level 0 is refused" "$(fail -l 0 small out)" "exit 1: pgztest: pgz_new: Invalid argument"
is "level 10 is refused" "$(fail -l 10 small out)" "exit 1: pgztest: pgz_new: Invalid argument"
is "stopping half way (pgz_free before pgz_finish) with 4 workers" \
	"$(fail -j 4 -a 5000000 mixed out)" "exit 0: "

# ---- memory --------------------------------------------------------------

# 64 MiB in with a sink that waits 10 ms a call: the writer waits for
# free blocks instead of holding the input (2 workers: 5 blocks of about
# 2 MiB each, input and output)
if [ -n "${TARFLAT_SANITIZED:-}" ]; then
	skip "a slow sink: memory stays bounded" "a sanitizer's memory"
else
	got=$(pgz -j 2 -s 10 -n 67108864 -m /dev/zero zero.gz | sed -n 's/^maxrss //p')
	ok "a slow sink: 64 MiB in, at most 24 MiB resident (${got:-?} KiB)" \
		test "${got:-999999}" -lt 24576
fi

# ---- valgrind ------------------------------------------------------------

if [ -n "${TARFLAT_SANITIZED:-}" ] || ! command -v valgrind >/dev/null 2>&1; then
	skip "valgrind: no memory errors or leaks" "no valgrind, or a sanitizer build"
else
	vg() { valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite "$PGZTEST" "$@" >/dev/null 2>>vg.err; echo $?; }
	: >vg.err
	got="$(vg -l 1 -j 0 blocks3+1 vg0.gz) $(vg -l 1 -j 2 -w r blocks3+1 vg2.gz)"
	got="$got $(vg -l 1 -j 2 -f 3 blocks3+1 vgf.gz) $(vg -l 1 -j 4 -a 3000000 blocks3+1 vga.gz)"
	got="$got $(cmp vg0.gz blocks3+1.1.gz && cmp vg2.gz blocks3+1.1.gz && echo same)"
	is "valgrind: 0 and 2 workers, a failing sink, a stop half way: clean" \
		"$got" "0 0 1 0 same" || sed 's/^/# /' vg.err | head -n 40
fi

done_testing
