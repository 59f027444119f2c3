#!/bin/bash
# The emit's plan (ahead.c): gzip content is inflated by jobs, one pass of
# one span each, that also serve parts the output comes back for, and
# whose bytes are held until used, within a bound. Stacks whose output
# order jumps back and forth in every layer of several spans: a later
# layer's overwrites stand after the earlier layer's subdirectories, new
# hardlinks pull an earlier layer's bytes ahead of their place, and a
# whited-out carrier leaves its bytes to a name written much later. The
# output must not depend on -j, and extracted it must be the tree an
# independent model (below) predicts, bytes and hardlink groups. The
# second stack holds more than the plan's 64 MiB: every span of its first
# layer is first needed at the start, and read again where it lies. The
# last is one deflate block of 256 MiB, read in bounded memory.
. "$(dirname "$0")/lib.sh"
need gzip

# Writes the layers and the tree they must give (treedump.py's
# path,type,detail,link lines) to expect.STACK.
python3 - <<'EOF2'
import hashlib, io, random, tarfile

def text(r, n):
    # words of a small alphabet: Huffman blocks that inflate at speed
    w = [bytes(r.choice(b"abcdefgh") for _ in range(r.randrange(2, 9))) for _ in range(64)]
    out = bytearray()
    while len(out) < n:
        out += r.choice(w) + b" "
    return bytes(out[:n])

class Stack:
    def __init__(self, name):
        self.name, self.files, self.dirs, self.layers = name, {}, set(), []

    def layer(self):
        self.cur = []
        self.layers.append(self.cur)

    def dir(self, p):
        self.cur.append(("5", p, None))
        self.dirs.add(p)

    def file(self, p, data):
        self.cur.append(("0", p, data))
        self.files[p] = [data]          # a new inode

    def link(self, p, target):
        self.cur.append(("1", p, target))
        self.files[p] = self.files[target]

    def whiteout(self, p):
        d, _, b = p.rpartition("/")
        self.cur.append(("0", (d + "/" if d else "") + ".wh." + b, b""))
        del self.files[p]

    def write(self, gz):
        for i, ents in enumerate(self.layers):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
                for typ, p, x in ents:
                    ti = tarfile.TarInfo(p)
                    ti.mtime = 1000
                    if typ == "5":
                        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                        tf.addfile(ti)
                    elif typ == "1":
                        ti.type, ti.linkname = tarfile.LNKTYPE, x
                        tf.addfile(ti)
                    else:
                        ti.size = len(x)
                        tf.addfile(ti, io.BytesIO(x))
            open("%s.l%d.tar" % (self.name, i + 1), "wb").write(buf.getvalue())
        lines = ["%s\td\t-\t-" % d for d in self.dirs]
        first = {}
        for p in sorted(self.files):
            first.setdefault(id(self.files[p]), p)
        for p, ino in self.files.items():
            n = sum(1 for q in self.files.values() if q is ino)
            data = ino[0]
            link = "=" + first[id(ino)] if n > 1 else "-"
            lines.append("%s\tf\t%d:%s\t%s" % (p, len(data), hashlib.sha256(data).hexdigest()[:16], link))
        open("expect." + self.name, "w").write("".join(l + "\n" for l in sorted(lines)))

# Stack "jumps": three layers of several spans each, the third plain.
r = random.Random(428)
s = Stack("jumps")
s.layer()
tops = ["a", "m", "z"]
for t in tops:
    s.dir(t)
    s.file(t + "/f0", text(r, r.randrange(300000, 2000000)))
    for k in range(3):
        d = "%s/s%d" % (t, k)
        s.dir(d)
        for j in range(4):
            s.file("%s/g%d" % (d, j), text(r, r.randrange(200000, 1500000)))
    s.file(t + "/y", text(r, 900000))
s.link("z/yy", "a/y")            # a group whose carrier a/y goes below
s.layer()                        # depth-first in path order, as docker writes
for t in tops:
    s.dir(t)
    s.file(t + "/f0", text(r, r.randrange(500000, 1500000)))     # after t's subdirectories
    s.file(t + "/b", text(r, 700000))                            # new, ahead of s0 in the layer
    if t == "a":
        s.link("a/hz", "z/s2/g3")    # pulls the first layer's last bytes ahead
        s.whiteout("a/y")            # z/yy now carries a/y's bytes
    for k in range(3):
        d = "%s/s%d" % (t, k)
        s.dir(d)
        s.file(d + "/g1", text(r, r.randrange(300000, 1200000)))
        s.file(d + "/n", text(r, r.randrange(300000, 1200000)))
s.layer()
for t in ("a", "z"):
    s.dir(t)
    s.file(t + "/b", text(r, 1200000))
    s.dir(t + "/s1")
    s.file(t + "/s1/n", text(r, 2500000))
    s.link(t + "/s1/hb", "m/b")
s.write(None)

# Stack "hold": 100 MiB in the first layer's z/, each fourth file linked
# from a/ by the second layer, so each span of z/ is first needed at the
# start of the output and the rest of it at its end.
s = Stack("hold")
s.layer()
s.dir("a")
s.dir("z")
for i in range(100):
    s.file("z/f%03d" % i, hashlib.sha256(b"%d" % i).digest() + text(r, 4096) + bytes((1 << 20) - 4128))
s.layer()
s.dir("a")
for i in range(0, 100, 4):
    s.link("a/l%03d" % i, "z/f%03d" % i)
s.write(None)
EOF2
for f in jumps.l1.tar jumps.l2.tar hold.l1.tar hold.l2.tar; do gzip -1 -n "$f"; done

for s in jumps hold; do
	case $s in
	jumps) set -- jumps.l1.tar.gz jumps.l2.tar.gz jumps.l3.tar ;;
	hold) set -- hold.l1.tar.gz hold.l2.tar.gz ;;
	esac
	for j in 1 2 3 8; do
		"$TARFLAT" -j $j "$@" >"$s.j$j.tar" 2>"$s.j$j.err"
		ok "$s -j $j: exit 0, stderr empty" test $? -eq 0 -a ! -s "$s.j$j.err"
	done
	for j in 2 3 8; do
		ok "$s -j $j: the same bytes as -j 1" cmp -s "$s.j1.tar" "$s.j$j.tar"
	done
	extract "$s.j2.tar" "$s.x"
	is "$s: the tree the model predicts (paths, types, bytes, hardlink groups)" \
		"$(tree "$s.x" --fields path,type,detail,link)" "$(cat "expect.$s")"
done
# the stacks do read back: the output's order is not the layers' order
is "jumps: z/yy carries a/y's bytes, a/hz is the carrier of z/s2/g3" \
	"$(tar -tvf jumps.j1.tar | awk '$1 ~ /^h/ || $6 == "a/hz" || $6 == "z/yy" { print $1, $6, $7, $8 }' |
	   grep -E 'a/hz|z/yy|z/s2/g3')" \
"-rw-r--r-- a/hz  
-rw-r--r-- z/yy  
hrw-r--r-- z/s2/g3 link to"

# One deflate block that makes 256 MiB of output (a bomb: gzip and zlib
# cut blocks far smaller, but nothing in the format does): its span is
# 256 MiB, and the jobs reading it must not grow with it.
python3 - <<'EOF2'
import struct, tarfile, zlib
size = 256 << 20
ti = tarfile.TarInfo("zeros")
ti.size, ti.mtime = size, 1000
head = ti.tobuf(tarfile.USTAR_FORMAT)
tail = bytes(1024)                        # SIZE is a multiple of 512
out, acc, nacc = bytearray(), 0, 0
def put(v, n):                            # deflate's bit order, LSB first
    global acc, nacc
    acc |= v << nacc
    nacc += n
    while nacc >= 8:
        out.append(acc & 255)
        acc >>= 8
        nacc -= 8
def code(c, n):                           # Huffman codes go MSB first
    put(int(format(c, "0%db" % n)[::-1], 2), n)
def lit(x):                               # the fixed literal codes
    code(0x30 + x, 8) if x < 144 else code(0x190 + x - 144, 9)
put(1, 1); put(1, 2)                      # the last block, fixed codes
for x in head:
    lit(x)
lit(0)
run = int(format(0xC5, "08b")[::-1], 2)   # length 258 (code 285), then
for _ in range((size - 1) // 258):        # distance 1 (code 0, 5 bits)
    put(run, 13)
for _ in range((size - 1) % 258):
    lit(0)
for x in tail:
    lit(x)
code(0, 7)                                # end of block
if nacc:
    out.append(acc)
data = head + bytes(size) + tail
open("bomb.tar.gz", "wb").write(b"\x1f\x8b\x08\0\0\0\0\0\0\xff" + bytes(out) +
                                struct.pack("<II", zlib.crc32(data), len(data) & 0xffffffff))
EOF2
# (a sanitizer's shadow memory and quarantine are not tarflat's: make asan
# and make tsan set TARFLAT_SANITIZED, and only the content is checked)
rss=yes
[ -x /usr/bin/time ] || rss="/usr/bin/time not installed"
[ -z "${TARFLAT_SANITIZED:-}" ] || rss="a sanitizer build"
for j in 1 2; do
	if [ "$rss" = yes ]; then
		/usr/bin/time -f %M -o bomb.rss "$TARFLAT" -j $j bomb.tar.gz >bomb.tar 2>bomb.err
	else
		"$TARFLAT" -j $j bomb.tar.gz >bomb.tar 2>bomb.err
	fi
	is "a 256 MiB span -j $j: exit 0, stderr empty" "$? $(wc -c <bomb.err)" "0 0"
	if [ "$rss" = yes ]; then
		ok "a 256 MiB span -j $j: peak RSS under 64 MiB ($(tail -n 1 bomb.rss) KiB)" \
			test "$(tail -n 1 bomb.rss)" -lt 65536
	else
		skip "a 256 MiB span -j $j: peak RSS" "$rss"
	fi
	is "a 256 MiB span -j $j: the content, 256 MiB of zeros" \
		"$(tar -xOf bomb.tar zeros | python3 -c 'import sys; b = sys.stdin.buffer.read(); print(len(b), b.count(0))')" \
		"268435456 268435456"
done
rm -f bomb.tar

done_testing
