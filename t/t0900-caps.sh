#!/bin/bash
# tarflat.1 EXIT STATUS and LIMITS, issue 3 "Hostile input: memory": one pax header (TAR_MAX_PAX,
# 1 MiB), one GNU long name or link target (TAR_MAX_NAME, 64 KiB) and a chain
# of extension headers before one member (TAR_MAX_EXT, 64) are capped; a
# header that claims a huge size on a short file is an error, not an
# allocation. Each refusal: exit 1, `tarflat: FILE: offset N: ...` with N the
# offset of the member's first header, zero bytes on stdout, peak RSS under
# 64 MiB, all within `timeout 30`. Each cap is also shown to be the cap: the
# largest accepted value flattens to the right result.
# The inputs are raw headers written by t/hostile.py (tarfile will not lie
# about sizes or chain 65 headers).
. "$(dirname "$0")/lib.sh"
need timeout gzip

MAX_NAME=65536 MAX_PAX=1048576 MAX_EXT=64
# the caps this file tests are the caps tar.h states
for c in "TAR_MAX_NAME:(64 * 1024)" "TAR_MAX_PAX:(1024 * 1024)" "TAR_MAX_EXT:64"; do
	v=$(sed -n "s|^#define ${c%%:*}[[:space:]]*||p" "$TOP/tar.h" | sed 's|[[:space:]]*/\*.*||')
	[ "$v" = "${c#*:}" ] ||
		echo "# note: tar.h says #define ${c%%:*} $v, not ${c#*:}; the boundaries below assume the latter"
done

hpy() { PYTHONPATH=$TDIR $PY - "$@"; }

RSS_MAX=65536   # KiB
# peak RSS means something only for a plain build: ASan keeps freed blocks
# in quarantine and maps shadow memory, a wrapper script (valgrind) is not
# tarflat; then only the status, message and output are checked
if [ ! -x /usr/bin/time ]; then
	HAVE_TIME=0
	echo "# /usr/bin/time not installed: peak RSS not checked"
elif [ "$(head -c 4 "$TARFLAT" | od -An -c | tr -d ' ')" != 177ELF ] ||
	grep -qa __asan_init "$TARFLAT"; then
	HAVE_TIME=0
	echo "# $TARFLAT is a sanitizer build or a wrapper: peak RSS not checked"
else
	HAVE_TIME=1
fi

# run FILE...: tarflat FILE... under timeout 30 (and /usr/bin/time); sets rc,
# rss (KiB, or 0 without /usr/bin/time); leaves out.tar and err
run() {
	if [ $HAVE_TIME = 1 ]; then
		timeout 30 /usr/bin/time -f %M -o rss.txt "$TARFLAT" "$@" >out.tar 2>err
		rc=$?
		rss=$(tail -n 1 rss.txt)
		case $rss in ''|*[!0-9]*) rss=0 ;; esac
	else
		timeout 30 "$TARFLAT" "$@" >out.tar 2>err
		rc=$?
		rss=0
	fi
}

# refused DESC FILE OFFSET RE: exit 1 (not a timeout, not a signal), nothing
# on stdout, `tarflat: FILE: offset OFFSET: ` matching RE, small RSS
refused() {
	_d=$1 _f=$2 _o=$3 _re=$4
	run "$_f"
	_why=""
	[ $rc -eq 1 ] || _why="exit status $rc, want 1"
	[ -s out.tar ] && _why="$_why; $(wc -c <out.tar) bytes on stdout, want 0"
	grep -q "^tarflat: $_f: offset $_o: " err ||
		_why="$_why; no 'tarflat: $_f: offset $_o: ' message"
	grep -Eq -- "$_re" err || _why="$_why; message does not match /$_re/"
	[ "$rss" -lt $RSS_MAX ] || _why="$_why; peak RSS $rss KiB, want < $RSS_MAX"
	# a sanitizer build exits 1 on its own errors too: look for its report
	grep -Eq 'Sanitizer|runtime error:' err && _why="$_why; a sanitizer report on stderr"
	if [ -z "$_why" ]; then
		_report 0 "$_d"
	else
		_report 1 "$_d"
		echo "# $_why"
		head -c 600 err | sed 's/^/# stderr: /'
	fi
}

# accepted DESC WANT FILE...: exit 0, small RSS, and the members of the
# output (name type size linkname-length, Python tarfile) are WANT
accepted() {
	_d=$1 _w=$2; shift 2
	run "$@"
	_got=$(hpy <<'EOF' 2>&1
import tarfile
with tarfile.open("out.tar") as tf:
    for m in tf:
        print(m.name if len(m.name) < 80 else "%s...(%d)" % (m.name[:8], len(m.name)),
              m.type.decode(), m.size, len(m.linkname))
EOF
)
	grep -Eq 'Sanitizer|runtime error:' err && rc="$rc (sanitizer report)"
	is "$_d" "rc=$rc small=$([ "$rss" -lt $RSS_MAX ] && echo yes || echo "no ($rss KiB)")
$_got" "rc=0 small=yes
$_w" || head -c 600 err | sed 's/^/# stderr: /'
}

# ---- pax headers: TAR_MAX_PAX bytes ------------------------------------
hpy $MAX_PAX <<'EOF'
import gzip, sys
from hostile import *
M = int(sys.argv[1])
a = member("a", data="A")                    # 1024 bytes: the pax header is at 1024
def w(name, body):
    open(name, "wb").write(body)
w("pax-at-cap.tar", a + ext("x", rec_exact("junk", M)) + member("f", data="F") + EOF)
w("pax-over.tar", a + ext("x", rec_exact("junk", M + 1)) + member("f", data="F") + EOF)
w("pax-over.tar.gz", gzip.compress(open("pax-over.tar", "rb").read(), mtime=0))
# many records, none long, the header one byte over
w("pax-many-over.tar", a + ext("x", junk(M + 1)) + member("f", data="F") + EOF)
# the size field lies: 2^62 (base-256) on a short file, plain and gzip
big = a + hdr("PaxHeaders/f", "x", size=1 << 62) + pad(rec("path", "zz")) + member("f") + EOF
w("pax-huge.tar", big)
w("pax-huge.tar.gz", gzip.compress(big, mtime=0))
# one byte over the cap, and the file ends right after the header
w("pax-short.tar", a + hdr("PaxHeaders/f", "x", size=M + 1))
# a record that says it is 2^62 bytes long, in a small header
w("pax-rec-huge.tar", a + ext("x", b"4611686018427387904 junk=x\n") + member("f") + EOF)
# a record longer than the cap, in a header within it
w("pax-rec-over.tar", a + ext("x", b"%d junk=x\n" % (M + 1)) + member("f") + EOF)
EOF
accepted "5 caps: a pax header of exactly TAR_MAX_PAX bytes (one record) is accepted" \
	"a 0 1 0
f 0 1 0" pax-at-cap.tar
refused "5 caps: a pax header of TAR_MAX_PAX + 1 bytes (one record) is refused" \
	pax-over.tar 1024 "pax|too large"
refused "5 caps: the same, gzip" pax-over.tar.gz 1024 "pax|too large"
refused "5 caps: a pax header of TAR_MAX_PAX + 1 bytes of short records is refused" \
	pax-many-over.tar 1024 "pax|too large"
refused "5 caps: a pax header claiming 2^62 bytes on a short plain file" \
	pax-huge.tar 1024 "pax|too large"
refused "5 caps: a pax header claiming 2^62 bytes on a gzip layer" \
	pax-huge.tar.gz 1024 "pax|too large"
refused "5 caps: a pax header of TAR_MAX_PAX + 1 bytes cut off by the end of the file" \
	pax-short.tar 1024 "pax|too large|truncated"
refused "5 caps: a pax record claiming 2^62 bytes inside a small header" \
	pax-rec-huge.tar 1024 "pax|record"
refused "5 caps: a pax record claiming TAR_MAX_PAX + 1 bytes inside a small header" \
	pax-rec-over.tar 1024 "pax|record"

# ---- GNU long names and link targets: TAR_MAX_NAME bytes ----------------
# the body holds the name and its NUL: TAR_MAX_NAME - 1 name bytes fit
hpy $MAX_NAME <<'EOF'
import gzip, sys
from hostile import *
N = int(sys.argv[1])
a = member("a", data="A")
def w(name, body):
    open(name, "wb").write(body)
w("L-at-cap.tar", a + ext("L", b"n" * (N - 1) + b"\0") + member("x", data="F") + EOF)
w("L-over.tar", a + ext("L", b"n" * N + b"\0") + member("x", data="F") + EOF)
w("K-at-cap.tar", a + ext("K", b"t" * (N - 1) + b"\0") + member("s", "2") + EOF)
w("K-over.tar", a + ext("K", b"t" * N + b"\0") + member("s", "2") + EOF)
# a hardlink's long target over the cap
w("K-hl-over.tar", a + ext("K", b"a" + b"/" * N + b"\0") + member("h", "1") + EOF)
big = a + hdr("././@LongLink", "L", size=1 << 62, gnu=True) + pad(b"name\0") + member("x") + EOF
w("L-huge.tar", big)
w("L-huge.tar.gz", gzip.compress(big, mtime=0))
big = a + hdr("././@LongLink", "K", size=1 << 62, gnu=True) + pad(b"t\0") + member("s", "2") + EOF
w("K-huge.tar", big)
w("K-huge.tar.gz", gzip.compress(big, mtime=0))
# a long name in a pax path record is bounded by the pax cap, not this one
w("paxpath-long.tar", a + ext("x", rec("path", "p" * (4 * N))) + member("x", data="F") + EOF)
EOF
# a name at the cap is read whole: then the name, past PATH_MAX, is the error
refused "5 caps: a GNU long name of TAR_MAX_NAME bytes (NUL included) is read, refused past PATH_MAX" \
	L-at-cap.tar 1024 "PATH_MAX"
refused "5 caps: a GNU long name of TAR_MAX_NAME + 1 bytes is refused" L-over.tar 1024 "name|too large"
accepted "5 caps: a GNU long link target of TAR_MAX_NAME bytes (NUL included) is accepted" \
	"a 0 1 0
s 2 0 $((MAX_NAME - 1))" K-at-cap.tar
refused "5 caps: a GNU long link target of TAR_MAX_NAME + 1 bytes is refused" K-over.tar 1024 "link|too large"
refused "5 caps: a hardlink's GNU long target of TAR_MAX_NAME + 1 bytes is refused" \
	K-hl-over.tar 1024 "link|too large"
refused "5 caps: a GNU long name claiming 2^62 bytes, plain" L-huge.tar 1024 "name|too large"
refused "5 caps: a GNU long name claiming 2^62 bytes, gzip" L-huge.tar.gz 1024 "name|too large"
refused "5 caps: a GNU long link claiming 2^62 bytes, plain" K-huge.tar 1024 "link|too large"
refused "5 caps: a GNU long link claiming 2^62 bytes, gzip" K-huge.tar.gz 1024 "link|too large"
refused "5 caps: a pax path of 4 * TAR_MAX_NAME bytes is within TAR_MAX_PAX: read, refused past PATH_MAX" \
	paxpath-long.tar 1024 "PATH_MAX"

# ---- chains of extension headers: TAR_MAX_EXT per member ----------------
hpy $MAX_EXT <<'EOF'
import sys
from hostile import *
E = int(sys.argv[1])
a = member("a", data="A")
def w(name, body):
    open(name, "wb").write(body)
def xs(n):
    return b"".join(ext("x", rec("comment", "c%d" % i)) for i in range(n))
def mixed(n):
    kinds = [lambda i: ext("x", rec("comment", "c%d" % i)),
             lambda i: ext("L", b"long%d\0" % i),
             lambda i: ext("K", b"link%d\0" % i)]
    return b"".join(kinds[i % 3](i) for i in range(n))
w("x-at-cap.tar", a + xs(E) + member("f", data="F") + EOF)
w("x-over.tar", a + xs(E + 1) + member("f", data="F") + EOF)
# L, K and x in turn; the last L names the member
w("mix-at-cap.tar", a + mixed(E) + member("f", data="F") + EOF)
w("mix-over.tar", a + mixed(E + 1) + member("f", data="F") + EOF)
# thousands: refused at the cap, not read to the end
w("x-10000.tar", a + xs(10000) + member("f", data="F") + EOF)
# 65 chained headers each of TAR_MAX_PAX: memory stays one header's worth
M = 1 << 20
w("x-big-chain.tar", a + b"".join(ext("x", rec_exact("junk%d" % i, M)) for i in range(E + 1))
  + member("f", data="F") + EOF)
EOF
last_long=$(( MAX_EXT - 1 - (MAX_EXT - 2) % 3 ))   # the last i < 64 with i % 3 == 1: 61
accepted "5 caps: TAR_MAX_EXT chained x headers are accepted" "a 0 1 0
f 0 1 0" x-at-cap.tar
refused "5 caps: TAR_MAX_EXT + 1 chained x headers are refused" x-over.tar 1024 "extension|too many"
accepted "5 caps: TAR_MAX_EXT chained x/L/K headers are accepted (the last L names it)" \
	"a 0 1 0
long$last_long 0 1 0" mix-at-cap.tar
refused "5 caps: TAR_MAX_EXT + 1 chained x/L/K headers are refused" mix-over.tar 1024 "extension|too many"
refused "5 caps: 10 000 chained x headers are refused" x-10000.tar 1024 "extension|too many"
refused "5 caps: TAR_MAX_EXT + 1 chained x headers of TAR_MAX_PAX bytes each" \
	x-big-chain.tar 1024 "extension|too many"

# ---- member sizes --------------------------------------------------------
hpy <<'EOF'
import gzip
from hostile import *
a = member("a", data="A")
def w(name, body):
    open(name, "wb").write(body)
def both(name, body):
    w(name + ".tar", body)
    w(name + ".tar.gz", gzip.compress(body, mtime=0))
# 2^62 bytes claimed, 5 present
both("size-huge", a + hdr("f", size=1 << 62) + pad(b"short") + EOF)
# the largest base-256 values: overflow when rounded up to 512
both("size-max63", a + hdr("f", size_field=b"\x80\0\0\0" + ((1 << 63) - 1).to_bytes(8, "big")) + EOF)
both("size-max64", a + hdr("f", size_field=b"\x80\0\0\0" + ((1 << 64) - 1).to_bytes(8, "big")) + EOF)
# a negative base-256 size (0xff...: -1)
both("size-neg", a + hdr("f", size_field=b"\xff" * 12) + EOF)
# a pax size record of 2^62 on a short file
both("size-pax", a + ext("x", rec("size", str(1 << 62))) + hdr("f") + pad(b"short") + EOF)
# skipped headers (GNU volume label V, Solaris A) claiming 2^62 bytes
both("size-V", a + hdr("label", "V", size=1 << 62) + EOF)
# typeflags 1-6 have no content whatever the size says: a lying size on
# a directory, symlink and hardlink is read past, not skipped over
w("size-nocontent.tar", a + hdr("d/", "5", size=1 << 62) + hdr("s", "2", size=1 << 62, linkname="a")
  + hdr("h", "1", size=1 << 62, linkname="a") + member("z", data="Z") + EOF)
EOF
for z in tar tar.gz; do
	refused "5 caps: a member claiming 2^62 bytes on a short file ($z)" size-huge.$z 1024 "truncat|size|short"
	refused "5 caps: a base-256 size of 2^63-1 ($z)" size-max63.$z 1024 "size|truncat"
	refused "5 caps: a base-256 size of 2^64-1 ($z)" size-max64.$z 1024 "size|truncat"
	refused "5 caps: a negative base-256 size ($z)" size-neg.$z 1024 "size"
	refused "5 caps: a pax size record of 2^62 on a short file ($z)" size-pax.$z 1024 "truncat|size|short"
	refused "5 caps: a V header claiming 2^62 bytes ($z)" size-V.$z 1024 "truncat|size|short"
done
accepted "5 caps: sizes of 2^62 on a directory, symlink and hardlink are no content" "a 0 1 0
d 5 0 0
s 2 0 1
h 1 0 1
z 0 1 0" size-nocontent.tar

# ---- gzip members ----------------------------------------------------------
# A gzip layer may be many members back to back (RFC 1952); 2 000 000 empty
# members (20 bytes each, 40 MB) after the archive's own are read to the end
# so their trailers are checked, but cost no memory each: memory follows the
# entries (tarflat.1 LIMITS), and there is one here.
hpy <<'EOF'
import gzip
from hostile import *
empty = gzip.compress(b"", mtime=0)
with open("gz-members.tar.gz", "wb") as f:
    f.write(gzip.compress(member("a", data="A") + EOF, mtime=0))
    blob = empty * 100000
    for _ in range(20):
        f.write(blob)
EOF
accepted "5 caps: 2 000 000 empty gzip members after the archive, in bounded memory" \
	"a 0 1 0" gz-members.tar.gz

# More than 65534 layers (a node keeps 1 + a layer in 16 bits) is refused
# before any is read: exit 1, a message, nothing written. 65535 operands
# naming one small layer fit in an argument list (xargs would split them).
hpy <<'EOF'
from hostile import *
with open("one.tar", "wb") as f:
    f.write(member("a", data="A") + EOF)
EOF
"$TARFLAT" $(yes one.tar | head -n 65535) >many.out 2>many.err
is "5 caps: 65535 layers refused" "$? $(wc -c <many.out) $(cat many.err)" \
	"1 0 tarflat: more than 65534 layers"

done_testing
