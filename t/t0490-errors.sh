#!/bin/bash
# tarflat.1 EXIT STATUS and LIMITS Errors: a malformed input or an inconsistent layer is reported as
# `tarflat: FILE: offset N: what is wrong` (N = offset of the member header in
# the uncompressed stream), exit status 1, and nothing at all on stdout.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"

# a ustar layer with known offsets: a@0 (data 512), b@1024 (empty),
# c@1536 (data 2048), d@2560 (5000 bytes of data 3072..8072), end@8192
mklayer base.tar --format ustar <<'EOF'
file a data=0123456789
file b
file c data=cc
file d size=5000
EOF
is "5 errors: (setup) the base layer has its members where the test says" \
	"$(python3 -c '
import sys, tarfile
print(" ".join("%s@%d" % (m.name, m.offset) for m in tarfile.open(sys.argv[1])))' base.tar) $(wc -c <base.tar)" \
	"a@0 b@1024 c@1536 d@2560 10240"
mklayer good.tar <<'EOF'
file ok data=ok
EOF

# patch FILE OFFSET BYTES...: overwrite bytes (hex) at OFFSET in place
patch() {
	python3 - "$@" <<'EOF'
import sys
f, off, bs = sys.argv[1], int(sys.argv[2]), bytes.fromhex("".join(sys.argv[3:]))
with open(f, "r+b") as fh:
    fh.seek(off); fh.write(bs)
EOF
}
# flip FILE OFFSET N: invert N bytes at OFFSET (negative: from the end)
flip() {
	python3 - "$@" <<'EOF'
import sys
f, off, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
b = bytearray(open(f, "rb").read())
if off < 0:
    off += len(b)
for i in range(off, off + n):
    b[i] ^= 0xFF
open(f, "wb").write(b)
EOF
}

# bad header checksum in the third member: offset 1536, plain and gzip
cp base.tar badsum.tar
patch badsum.tar 1536 78
fails "5 errors: bad header checksum" "checksum" badsum.tar
ok "5 errors: bad checksum in the 3rd member is reported at its offset 1536" \
	grep -q '^tarflat: badsum\.tar: offset 1536: ' .ferr
gzip -c badsum.tar >badsum.tar.gz
fails "5 errors: bad header checksum inside gzip" "checksum" badsum.tar.gz
ok "5 errors: ... at the uncompressed offset 1536" grep -q '^tarflat: badsum\.tar\.gz: offset 1536: ' .ferr
BAD=badsum.tar fails "5 errors: a bad second layer -> nothing written at all" "checksum" \
	good.tar badsum.tar good.tar

# truncated member: in the content, in the header
head -c 3172 base.tar >trunc-data.tar
fails "5 errors: truncated member content" "trunc|short|end|EOF|unexpected" trunc-data.tar
ok "5 errors: truncated content reported at the member's header, offset 2560" \
	grep -q '^tarflat: trunc-data\.tar: offset 2560: ' .ferr
head -c 2660 base.tar >trunc-hdr.tar
fails "5 errors: truncated member header" "trunc|short|end|EOF|unexpected" trunc-hdr.tar
ok "5 errors: truncated header reported at offset 2560" grep -q '^tarflat: trunc-hdr\.tar: offset 2560: ' .ferr
gzip -c trunc-data.tar >trunc-data.tar.gz
fails "5 errors: truncated member inside a complete gzip" . trunc-data.tar.gz

# gzip damage
gzip -c base.tar >gz.tar.gz
sz=$(wc -c <gz.tar.gz)
head -c $((sz - 6)) gz.tar.gz >gz-trailer.tar.gz
fails "5 errors: truncated gzip (trailer cut)" . gz-trailer.tar.gz
head -c $((sz / 2)) gz.tar.gz >gz-half.tar.gz
fails "5 errors: truncated gzip (stream cut in the middle)" . gz-half.tar.gz
cp gz.tar.gz gz-body.tar.gz
flip gz-body.tar.gz $((sz / 2)) 16
fails "5 errors: corrupt gzip body (bytes flipped in the middle)" . gz-body.tar.gz
cp gz.tar.gz gz-crc.tar.gz
flip gz-crc.tar.gz -8 1
fails "5 errors: gzip CRC mismatch" "crc|CRC|check" gz-crc.tar.gz
cp gz.tar.gz gz-len.tar.gz
flip gz-len.tar.gz -4 1
fails "5 errors: gzip length mismatch" "length|size|ISIZE" gz-len.tar.gz

# not a tar at all
python3 -c '
import hashlib
open("garbage.bin", "wb").write(b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(400)))'
fails "5 errors: garbage file" . garbage.bin
printf 'just some text, not an archive\n%.0s' $(seq 1 100) >text.txt
fails "5 errors: a text file" . text.txt

# zstd, xz and bzip2 are decompressed by the program of that name from PATH,
# and without it refused, naming what to install; lz4 is refused by magic,
# with a way to decompress
"$TARFLAT" base.tar >base.flat 2>/dev/null
# a PATH without the decompressors, but with what a wrapper around tarflat
# (make valgrind's t/valgrind-tarflat) needs
mkdir -p nobin
for t in valgrind dirname; do
	p=$(command -v "$t") &&
		printf '#!/bin/sh\nexec %s "$@"\n' "$p" >"nobin/$t" && chmod +x "nobin/$t"
done
for c in zstd:zst xz:xz bzip2:bz2; do
	tool=${c%%:*} ext=${c#*:}
	if command -v "$tool" >/dev/null 2>&1; then
		"$tool" -c base.tar >base.tar.$ext 2>/dev/null
		"$TARFLAT" base.tar.$ext >base.$ext.flat 2>base.$ext.err
		is "4 inputs: a $tool layer is read through $tool -dc: the plain layer's bytes" \
			"$?:$(cmp base.flat base.$ext.flat 2>&1)" "0:"
		PATH=$T/nobin "$TARFLAT" base.tar.$ext >nox.out 2>nox.err
		is "4/5 errors: a $tool layer without $tool on PATH -> exit 1, nothing written" \
			"$?:$(wc -c <nox.out)" "1:0"
		ok "4/5 errors: ... and the message names $tool and what to install" \
			grep -Eq "^tarflat: base.tar.$ext: offset 0: $tool-compressed layer.*install.*$tool" nox.err
	else
		skip "4 inputs: a $tool layer" "$tool not installed"
	fi
done
if command -v lz4 >/dev/null 2>&1; then
	lz4 -c base.tar >base.tar.lz4 2>/dev/null
	fails "4/5 errors: lz4 input refused, names lz4 and how to decompress" \
		"lz4.*(lz4 -d|decompress|unlz4)" base.tar.lz4
else
	skip "4/5 errors: lz4 input refused" "lz4 not installed"
fi
printf '\x1f\x9d\x90tar bytes would follow' >base.tar.Z
fails "4/5 errors: compress(1) input refused" "compress" base.tar.Z

# malformed pax records
# paxlayer NAME RECORD: a pax x header with RECORD (printf format) + a file
paxlayer() {
	python3 - "$@" <<'EOF'
import io, sys, tarfile
name, data = sys.argv[1], sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
with tarfile.open(name, "w", format=tarfile.USTAR_FORMAT) as tf:
    x = tarfile.TarInfo("PaxHeaders/f")
    x.type, x.size = tarfile.XHDTYPE, len(data)
    tf.addfile(x, io.BytesIO(data))
    f = tarfile.TarInfo("f")
    f.size = 2
    tf.addfile(f, io.BytesIO(b"ff"))
EOF
}
paxlayer pax-ok.tar '13 path=good\n'
flatten_x out pax-ok.tar
is "5 errors: (reference) a well-formed record is accepted" "$(lst out --fields path,detail)" "good $(h ff)"
paxlayer pax-long.tar '99 path=x\n'
fails "5 errors: pax record longer than the header" "pax|record" pax-long.tar
paxlayer pax-short.tar '5 path=abcdef\n'
fails "5 errors: pax record length too short" "pax|record" pax-short.tar
paxlayer pax-noeq.tar '10 pathxy\n'
fails "5 errors: pax record without '='" "pax|record" pax-noeq.tar
paxlayer pax-nonum.tar 'ab path=x\n'
fails "5 errors: pax record length not a number" "pax|record" pax-nonum.tar
paxlayer pax-nonl.tar '11 path=xyz'
fails "5 errors: pax record not ended by a newline" "pax|record" pax-nonl.tar
paxlayer pax-size.tar '29 size=99999999999999999999\n'
fails "5 errors: pax size that overflows" . pax-size.tar

# a size that overflows when rounded up to 512 (base-256)
python3 - <<'EOF'
import tarfile
ti = tarfile.TarInfo("huge")
ti.size = 0
b = bytearray(ti.tobuf(format=tarfile.GNU_FORMAT))
b[124:136] = b"\x80" + b"\x00\x00\x00" + (2**64 - 1).to_bytes(8, "big")
b[148:156] = b"        "
b[148:156] = b"%06o\0 " % sum(b)
open("huge.tar", "wb").write(bytes(b) + bytes(1024))
EOF
fails "5 errors: member size that overflows when rounded to 512" . huge.tar

# hostile input: memory stays bounded (a long name, a pax header, a chain of
# extension headers, each declared huge or many) - exit 1, small RSS
python3 - <<'EOF'
import io, tarfile
def hdr(name, typ, size):
    ti = tarfile.TarInfo(name)
    ti.type, ti.size = typ, size
    return ti.tobuf(format=tarfile.GNU_FORMAT if typ == b"L" else tarfile.USTAR_FORMAT)
G = 1 << 30
for fname, typ in (("bigname.tar", b"L"), ("bigpax.tar", tarfile.XHDTYPE)):
    with open(fname, "wb") as f:
        f.write(hdr("././@LongLink" if typ == b"L" else "PaxHeaders/x", typ, G))
        f.truncate(512 + G + 1024)      # sparse: costs no disk
with open("chain.tar", "wb") as f:
    rec = b"15 comment=abc\n"
    for i in range(10000):
        f.write(hdr("PaxHeaders/%d" % i, tarfile.XHDTYPE, len(rec)))
        f.write(rec + bytes(512 - len(rec)))
    f.write(hdr("f", tarfile.REGTYPE, 0) + bytes(1024))
EOF
# small_rss DESC FILE: tarflat FILE exits 1, prints nothing, peak RSS < 64 MiB
small_rss() {
	/usr/bin/time -f %M -o rss.txt "$TARFLAT" "$2" >rss.out 2>rss.err
	_rc=$?
	is "$1" "$_rc $(wc -c <rss.out) $(test "$(tail -n 1 rss.txt)" -lt 65536 && echo small)" "1 0 small" ||
		sed 's/^/# /' rss.err rss.txt
}
if [ -x /usr/bin/time ]; then
	small_rss "5 hostile: a 1 GiB GNU long name is refused in bounded memory" bigname.tar
	small_rss "5 hostile: a 1 GiB pax header is refused in bounded memory" bigpax.tar
	small_rss "5 hostile: 10000 chained extension headers are refused" chain.tar
else
	skip "5 hostile: bounded memory" "/usr/bin/time not installed"
fi

# inconsistent layers
mklayer dang.tar --format ustar <<'EOF'
file a data=A
hardlink b nothere
EOF
fails "5 errors: dangling hardlink" "link|not found" dang.tar
ok "5 errors: dangling hardlink reported at the link's header, offset 1024" \
	grep -q '^tarflat: dang\.tar: offset 1024: ' .ferr
mklayer ldir.tar --format ustar <<'EOF'
dir d
hardlink l d
EOF
fails "5 errors: hardlink to a directory" "director" ldir.tar
mklayer fdir.tar --format ustar <<'EOF'
file a
file a/b data=b
EOF
fails "5 errors: file used as a directory" . fdir.tar
ok "5 errors: file used as a directory reported at offset 512" \
	grep -q '^tarflat: fdir\.tar: offset 512: ' .ferr
mklayer loop.tar --format ustar <<'EOF'
symlink a b
symlink b a
file a/x data=x
EOF
fails "5 errors: symlink loop" . loop.tar
ok "5 errors: symlink loop reported at the entry that hit it, offset 1024" \
	grep -q '^tarflat: loop\.tar: offset 1024: ' .ferr

# a whiteout's name as a directory would put a whiteout into the output
mklayer whdir.tar <<'EOF'
dir a
file a/.wh.b/c data=x
EOF
fails "3 output: a whiteout name used as a directory -> error" "whiteout name used as a directory" whdir.tar
mklayer whlink.tar <<'EOF'
symlink l .wh.b
file l/c data=x
EOF
fails "3 output: a whiteout name reached through a symlink -> error" "whiteout name used as a directory" whlink.tar
mklayer plnk.tar <<'EOF'
file .wh..wh.plnk/1.2 data=x
hardlink f .wh..wh.plnk/1.2
EOF
flatten_x plnk plnk.tar
is "2.3 AUFS: a .wh..wh.* directory is no whiteout; its files stay hidden" "$(tree plnk --fields path,type)" "f	f"

# a zero-byte operand is no layer (the file a failed `ctr export` leaves,
# the stdin of `docker save no-such-image | tarflat -`): an error, as GNU
# tar's; an image blob of 0 bytes that its digest names stays an empty
# layer (t0450)
: >zero.tar
empty_input() { # DESC WHO CMD...: exit 1, nothing on stdout, WHO: empty input
	_ed=$1 _ew=$2; shift 2
	"$@" >"$T/.eout" 2>"$T/.eerr"
	is "$_ed" "$? $(wc -c <"$T/.eout") $(cat "$T/.eerr")" \
		"1 0 tarflat: $_ew: empty input (0 bytes): neither a layer nor an image"
}
empty_input "4 inputs: a zero-byte file is an error, nothing written" zero.tar \
	"$TARFLAT" good.tar zero.tar
empty_input "4 inputs: zero bytes on standard input (a pipe) is an error" "standard input" \
	sh -c ': | "$1" -' sh "$TARFLAT"
empty_input "4 inputs: zero bytes on standard input (a file) is an error" "standard input" \
	sh -c '"$1" - <zero.tar' sh "$TARFLAT"
empty_input "4 inputs: --layers: a zero-byte file is still an error" zero.tar \
	"$TARFLAT" --layers zero.tar

done_testing
