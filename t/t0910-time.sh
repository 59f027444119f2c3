#!/bin/bash
# Issue 3 "Hostile input: time": no input makes tarflat loop or crawl.
# Symlink cycles in parent resolution, thousands of chained extension
# headers, deeply nested paths, a 100 000-link hardlink group. Every run is
# under `timeout 30` and must complete (a timeout is status 124, a crash
# 128+N: both fail); where the input is valid the result is checked.
. "$(dirname "$0")/lib.sh"
need timeout

hpy() { PYTHONPATH=$TDIR $PY - "$@"; }
LIMIT=${HOSTILE_TIMEOUT:-30}   # seconds; raise it for valgrind or slow machines

# trun FILE...: timeout $LIMIT tarflat FILE... >out.tar 2>err; sets rc, secs
trun() {
	_t0=$(date +%s%N)
	# in a subshell whose stderr is dropped: bash's own "Segmentation
	# fault" notice is noise, the status says it
	(timeout $LIMIT "$TARFLAT" "$@" >out.tar 2>err; exit $?) 2>/dev/null
	rc=$?
	# a sanitizer build exits 1 on its own errors too: count them as crashes
	grep -Eq 'Sanitizer|runtime error:' err && rc=99
	secs=$(( ($(date +%s%N) - _t0) / 10000000 ))
	secs="$((secs / 100)).$(printf %02d $((secs % 100)))"
}

# loops DESC BAD FILE...: refused as a symlink loop: exit 1, no output,
# `tarflat: BAD: offset N: ` and "symbolic link" or "loop" in the message
loops() {
	_d=$1 _bad=$2; shift 2
	trun "$@"
	_why=""
	[ $rc -eq 1 ] || _why="exit status $rc, want 1 (124: timed out after ${LIMIT}s)"
	[ -s out.tar ] && _why="$_why; $(wc -c <out.tar) bytes on stdout"
	grep -Eq 'Sanitizer|runtime error:' err && _why="$_why; a sanitizer report on stderr"
	grep -Eq "^tarflat: $_bad: offset [0-9]+: .*(symbolic link|loop)" err ||
		_why="$_why; no 'tarflat: $_bad: offset N: ...symbolic link/loop' message"
	if [ -z "$_why" ]; then
		_report 0 "$_d (${secs}s)"
	else
		_report 1 "$_d"
		echo "# $_why"
		head -c 400 err | sed 's/^/# stderr: /'
	fi
}

# members: name type linkname of out.tar, one a line (nothing if unreadable)
members() {
	hpy <<'EOF'
import os, sys, tarfile
if os.path.getsize("out.tar") == 0:
    sys.exit()
with tarfile.open("out.tar") as tf:
    for m in tf:
        print(m.name, m.type.decode(), m.linkname or "-")
EOF
}

# ---- symlink cycles in parent resolution ---------------------------------
hpy <<'EOF'
from hostile import *
def w(name, *m):
    open(name, "wb").write(b"".join(m) + EOF)
x = member("a/x", data="x")
w("cyc2.tar", member("a", "2", linkname="b"), member("b", "2", linkname="a"), x)
w("cyc1.tar", member("a", "2", linkname="a"), x)
w("cyc-abs.tar", member("a", "2", linkname="/a/"), x)
w("cyc-dot.tar", member("a", "2", linkname="./a/."), x)
w("cyc-dotdot.tar", member("d/", "5"), member("a", "2", linkname="d/../a"), x)
w("cyc3.tar", member("a", "2", linkname="b/c"), member("b", "2", linkname="c"),
  member("c", "2", linkname="a"), x)
# across layers
w("cl1.tar", member("a", "2", linkname="b"))
w("cl2.tar", member("b", "2", linkname="a"))
w("cl3.tar", x)
# a hardlink target through a cycle
w("cyc-hl.tar", member("a", "2", linkname="b"), member("b", "2", linkname="a"),
  member("h", "1", linkname="a/x"))
# a -> . : every 'a/' is one hop; 40 are allowed, 41 are not (Linux's count)
dots = member("a", "2", linkname=".")
w("dot40.tar", dots, ext("x", rec("path", "a/" * 40 + "x")), member("p", data="x"))
w("dot41.tar", dots, ext("x", rec("path", "a/" * 41 + "x")), member("p", data="x"))
w("dot10000.tar", dots, ext("x", rec("path", "a/" * 10000 + "x")), member("p", data="x"))
# a chain of 40 symlinks to a directory, and of 41
def chain(n):
    return [member("s%d" % i, "2", linkname="s%d" % (i + 1)) for i in range(1, n)] + \
           [member("s%d" % n, "2", linkname="d"), member("d/", "5"), member("s1/x", data="x")]
w("chain40.tar", *chain(40))
w("chain41.tar", *chain(41))
# exponential: s_i -> s_{i-1}/s_{i-1}, s0 -> . : naive expansion 2^31 hops
w("expo.tar", member("s0", "2", linkname="."),
  *[member("s%d" % i, "2", linkname="s%d/s%d" % (i - 1, i - 1)) for i in range(1, 31)],
  member("s30/x", data="x"))
# the same shape ending at a directory: at most 40 hops are needed... but 2^30
# are described; refused or resolved, it must end
w("expo-dir.tar", member("s0/", "5"),
  *[member("s%d" % i, "2", linkname="s%d/s%d" % (i - 1, i - 1)) for i in range(1, 31)],
  member("s30/x", data="x"))
EOF
loops "time: a -> b, b -> a, then a/x" cyc2.tar cyc2.tar
loops "time: a -> a, then a/x" cyc1.tar cyc1.tar
loops "time: a -> /a/, then a/x" cyc-abs.tar cyc-abs.tar
loops "time: a -> ./a/., then a/x" cyc-dot.tar cyc-dot.tar
loops "time: a -> d/../a, then a/x" cyc-dotdot.tar cyc-dotdot.tar
loops "time: a -> b/c, b -> c, c -> a, then a/x" cyc3.tar cyc3.tar
loops "time: a cycle built across three layers" cl3.tar cl1.tar cl2.tar cl3.tar
loops "time: a hardlink whose target passes through a cycle" cyc-hl.tar cyc-hl.tar
loops "time: a -> ., then a/ x 41 + x" dot41.tar dot41.tar
loops "time: a -> ., then a/ x 10 000 + x" dot10000.tar dot10000.tar
loops "time: 41 chained symlinks" chain41.tar chain41.tar
loops "time: s_i -> s_{i-1}/s_{i-1} (2^31 hops described), s0 -> ." expo.tar expo.tar

trun dot40.tar
is "time: a -> ., then a/ x 40 + x: 40 hops are followed (x at the root)" \
	"$rc $(members | tr '\n' ' ')" "0 a 2 . x 0 - "
trun chain40.tar
is "time: 40 chained symlinks are followed" "$rc $(members | grep x)" "0 d/x 0 -"
trun expo-dir.tar
ok "time: s_i -> s_{i-1}/s_{i-1} ending at a directory ends (status 0 or 1, ${secs}s)" \
	test $rc -eq 0 -o $rc -eq 1
# the kernel agrees on 40 and 41 (a check of the test's own expectation)
mkdir -p kern && ln -s . kern/a
p40=kern/$(printf 'a/%.0s' $(seq 40))x
p41=kern/$(printf 'a/%.0s' $(seq 41))x
ok "time: (kernel) 40 hops through a -> . resolve" touch "$p40"
ok "time: (kernel) 41 hops through a -> . are ELOOP" sh -c "! touch '$p41' 2>/dev/null"

# ---- chained extension headers -----------------------------------------
hpy <<'EOF'
from hostile import *
# 500 members, each behind 64 chained headers (the cap): 63 x, then an L
with open("chain-cap.tar", "wb") as f:
    one = b"".join(ext("x", rec("comment", "c%d" % i)) for i in range(63))
    for i in range(500):
        f.write(one + ext("L", b"m%04d\0" % i) + member("placeholder", data="%d" % i))
    f.write(EOF)
# 100 000 chained x and L headers before one member
with open("chain-100k.tar", "wb") as f:
    x, L = ext("x", rec("comment", "c")), ext("L", b"n\0")
    f.write((x + L) * 50000 + member("f", data="F") + EOF)
# a g-header storm: 120 000 global records (the 1 MiB of globals), then
# 64 g headers before each of 64 members, each g changing one record:
# a reader that re-sorts or re-copies every global per g header crawls
recs = [rec(b"k%06d" % i, "v") for i in range(120000)]
out = [ext("g", b"".join(recs[:60000])), ext("g", b"".join(recs[60000:]))]
for b in range(64):
    for j in range(62 if b == 0 else 64):
        out.append(ext("g", rec("k000000", "w%d_%d" % (b, j))))
    out.append(member("f%02d" % b))
open("gstorm.tar", "wb").write(b"".join(out) + EOF)
EOF
trun chain-cap.tar
is "time: 500 members behind 64 chained headers each (${secs}s)" \
	"$rc $(members | awk '$1 ~ /^m[0-9]+$/ && $2 == "0"' | wc -l)" "0 500"
trun chain-100k.tar
is "time: 100 000 chained x and L headers are refused at the cap (${secs}s)" \
	"$rc $(wc -c <out.tar) $(grep -c '^tarflat: chain-100k.tar: offset 0: .*\(extension\|too many\)' err)" "1 0 1"
trun gstorm.tar
_gwhy=""
case $rc in
0) [ "$(members | grep -c '^f[0-9]* 0 -$')" = 64 ] || _gwhy="exit 0 but not the 64 files" ;;
1) [ -s out.tar ] && _gwhy="exit 1 with output"
   grep -q '^tarflat: gstorm.tar: offset [0-9]*: ' err || _gwhy="exit 1 without a message" ;;
*) _gwhy="exit status $rc (124: timed out after ${LIMIT}s)" ;;
esac
is "time: 4096 g headers over 120 000 global records end (status $rc, ${secs}s)" "$_gwhy" ""

# ---- deeply nested paths -------------------------------------------------
# A name in the tree is at most 4095 bytes (PATH_MAX, tarflat.1 LIMITS):
# 2047 nested directories from one name of 4095 bytes are written, each
# before what it holds (GNU tar -t lists them, fast); 10 000 and 300 000
# components are refused at once, at the entry, and nothing is written.
$PY -c 'print("".join("d/" * i + "\n" for i in range(1, 2048)) + "d/" * 2047 + "f")' >deep.want
hpy <<'EOF'
from hostile import *
def w(name, *m):
    open(name, "wb").write(b"".join(m) + EOF)
# 2048 components: a pax path and a GNU long name of 4095 bytes
w("deep-pax.tar", ext("x", rec("path", "d/" * 2047 + "f")), member("p", data="x"))
w("deep-gnu.tar", ext("L", b"d/" * 2047 + b"f\0"), member("p", data="x"))
# 10 000 and 300 000 components: names of 20 000 and 600 000 bytes
w("deep10k.tar", ext("x", rec("path", "d/" * 9999 + "f")), member("p", data="x"))
w("deep10k-gnu.tar", ext("L", b"d/" * 9999 + b"f\0"), member("p", data="x"))
w("deep300k.tar", ext("x", rec("path", "d/" * 299999 + "f")), member("p", data="x"))
w("wh-d.tar", member(".wh.d"))
w("file-d.tar", member("d", data="file"))
EOF
for v in pax gnu; do
	_t0=$(date +%s%N)
	timeout $LIMIT "$TARFLAT" deep-$v.tar 2>err | tar -tf - >deep.got 2>&1
	st="${PIPESTATUS[*]}"
	secs=$(( ($(date +%s%N) - _t0) / 1000000 ))
	is "time: 2047 nested directories from one $v name of 4095 bytes: done (${secs}ms for both)" \
		"$st" "0 0"
	is "time: 2047 nested directories from one $v name, parents first" \
		"$(wc -l <deep.got) $(sha256sum <deep.got)" "$(wc -l <deep.want) $(sha256sum <deep.want)"
done
for f in deep10k.tar deep10k-gnu.tar deep300k.tar; do
	trun $f
	is "time: $f, a name past PATH_MAX, refused at once (${secs}s)" \
		"$rc $(wc -c <out.tar) $(grep -c "^tarflat: $f: offset 0: d/d/.*: a name of [0-9]* bytes or more in the tree, past PATH_MAX" err)" \
		"1 0 1"
done
# deleting or replacing the tree goes leaves first, without recursion
trun deep-pax.tar wh-d.tar
is "time: 2047 nested directories whited out by the next layer (${secs}s)" \
	"$rc $(wc -c <out.tar)" "0 1024"
trun deep-pax.tar file-d.tar
is "time: 2047 nested directories replaced by a file (${secs}s)" \
	"$rc $(members | tr '\n' ' ')" "0 d 0 - "
# alone its output is about 6 MB (every directory spells its whole path):
# the first MiB must come out, and a closed pipe must end it, not a crash
timeout $LIMIT "$TARFLAT" deep-pax.tar 2>err | head -c 1048576 >head.out
st="${PIPESTATUS[0]}"
is "time: 2047 nested directories: writing starts, SIGPIPE ends it (status $st)" \
	"$st $(wc -c <head.out) $(head -c 2 head.out)" "141 1048576 d/"

# ---- a 100 000-link hardlink group -------------------------------------
N=100000
hpy $N <<'EOF'
import sys
from hostile import *
N = int(sys.argv[1])
def links(target):
    return b"".join(hdr("l/%06d" % i, "1", linkname=target) for i in range(N))
def w(name, *m):
    open(name, "wb").write(b"".join(m) + EOF)
t, l = member("t", data="target\n"), member("l/", "5")
w("hl-one.tar", t, l, links("t"))                       # one layer
w("hl-t.tar", t)
w("hl-links-wh.tar", l, links("t"), member(".wh.t"))   # links, target deleted
w("hl-wh-t.tar", member(".wh.t"))
# every link but the last deleted, oldest first and newest first
w("hl-wh-fwd.tar", *[member("l/.wh.%06d" % i) for i in range(N - 1)])
w("hl-wh-rev.tar", *[member("l/.wh.%06d" % i) for i in reversed(range(N - 1))])
# a chain of links each naming the next, the file itself last (all pending)
w("hl-pending.tar", *[hdr("c%06d" % i, "1", linkname="c%06d" % (i + 1)) for i in range(N)],
  member("c%06d" % N, data="target\n"))
EOF
# group WANT-CARRIER WANT-N: out.tar holds WANT-CARRIER as the one file with
# content "target\n" and WANT-N - 1 hardlinks to it, all after it; prints
# "ok" or what is wrong
group() {
	hpy "$1" "$2" <<'EOF'
import sys, tarfile
carrier, n = sys.argv[1], int(sys.argv[2])
seen = None
links = bad = 0
with tarfile.open("out.tar") as tf:
    for m in tf:
        if m.isfile():
            if seen is not None or m.name != carrier:
                sys.exit("unexpected file %s (carrier %s)" % (m.name, seen))
            seen = m.name
            if tf.extractfile(m).read() != b"target\n":
                sys.exit("carrier %s: wrong content" % m.name)
        elif m.islnk():
            if seen is None or m.linkname != seen:
                bad += 1
            links += 1
if bad or links != n - 1:
    sys.exit("%d links (want %d), %d not to the carrier %s before them" % (links, n - 1, bad, seen))
print("ok")
EOF
}
trun hl-one.tar
is "time: 100 000 links to one file in one layer (${secs}s)" "$rc $(group t $((N + 1)) 2>&1)" "0 ok"
# tmpfs takes 100 001 links (ext4 stops at 65 000): check the inode
shm=""
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	shm=$(mktemp -d /dev/shm/t0910.XXXXXX)
fi
if [ -n "$shm" ] && [ $rc -eq 0 ]; then
	tar -xf out.tar -C "$shm" 2>tar.err
	is "time: 100 000 links: GNU tar extracts one inode with 100 001 names" \
		"$(stat -c %h "$shm/t" 2>&1) $(find "$shm/l" -samefile "$shm/t" | wc -l)" "$((N + 1)) $N"
	rm -rf "$shm"
else
	skip "time: 100 000 links: extracted" "no writable tmpfs at /dev/shm (or tarflat failed)"
fi
trun hl-t.tar hl-links-wh.tar
is "time: 100 000 links across two layers, their target whited out (${secs}s)" \
	"$rc $(group l/000000 $N 2>&1)" "0 ok"
trun hl-one.tar hl-wh-t.tar
is "time: 100 000 links in one layer, the target whited out by the next (${secs}s)" \
	"$rc $(group l/000000 $N 2>&1)" "0 ok"
trun hl-one.tar hl-wh-rev.tar
is "time: 99 999 of 100 000 links whited out, newest first (${secs}s)" \
	"$rc $(members | tr '\n' ' ')" "0 t 0 - l 5 - l/099999 1 t "
trun hl-one.tar hl-wh-fwd.tar
is "time: 99 999 of 100 000 links whited out, oldest first (${secs}s)" \
	"$rc $(members | tr '\n' ' ')" "0 t 0 - l 5 - l/099999 1 t "
trun hl-pending.tar
is "time: a chain of 100 000 links each waiting for the next (${secs}s)" \
	"$rc $(group c000000 $((N + 1)) 2>&1)" "0 ok"

# ---- whiteouts repeated in one layer ------------------------------------
# 50 000 files in d; the next layer repeats d's opaque marker (or .wh.d)
# 50 000 times and adds 50 000 new files: each marker is one removal, not
# one walk of everything the layer put in d
N=50000
hpy $N <<'EOF'
import sys
from hostile import *
N = int(sys.argv[1])
def layer(name, names):
    with open(name, "wb") as f:
        r = Fast(f)
        for n in names:
            r.add(n)
        r.flush()
        f.write(EOF)
with open("wo-lower.tar", "wb") as f:
    f.write(member("d/", "5"))
    r = Fast(f)
    for i in range(N):
        r.add(b"d/f%06d" % i)
    r.flush()
    f.write(EOF)
new = [b"d/g%06d" % i for i in range(N)]
layer("wo-opq-mixed.tar", [x for i in range(N) for x in (b"d/.wh..wh..opq", new[i])])
layer("wo-opq-first.tar", [b"d/.wh..wh..opq"] * N + new)
layer("wo-dir-mixed.tar", [x for i in range(N) for x in (b".wh.d", new[i])])
EOF
# d and exactly the N new files in it: "DIRS FILES OTHERS"
dcheck() {
	members | awk '
		$1 == "d" && $2 == "5" { d++; next }
		$1 ~ /^d\/g[0-9]+$/ && $2 == "0" { g++; next }
		{ other++ }
		END { printf "%d %d %d", d, g, other }'
}
for l in wo-opq-mixed wo-opq-first wo-dir-mixed; do
	trun wo-lower.tar $l.tar
	is "time: $l: $N repeated whiteouts of d, $N new files in d (${secs}s)" \
		"$rc $(dcheck)" "0 1 $N 0"
done

done_testing
