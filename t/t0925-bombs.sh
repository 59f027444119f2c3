#!/bin/bash
# tarflat.1 LIMITS, bounds: no input makes the output larger than the
# manual's bound, and each bomb ends in seconds and bounded memory.
#  - Path-depth bomb: a gzip layer of a few KB, a directory 30 000 deep and
#    39 chained symlinks each leading to the bottom, below which the next
#    30 000 levels are made: its output would grow with the square of the
#    depth (names of 2.4 MB, about 1.4 TB). A name of PATH_MAX (4096)
#    bytes or more in the tree is an error, at the entry that needs it.
#  - Sparse bomb: a 3.5 KB plain layer whose pax sparse 1.0 member has a
#    real size of 1 PiB: written sparse (pax 1.0), a few KB.
. "$(dirname "$0")/lib.sh"
need timeout

hpy() { PYTHONPATH=$TDIR $PY - "$@"; }
LIMIT=${HOSTILE_TIMEOUT:-30}    # seconds; valgrind and sanitizers are slow
[ -z "${TARFLAT_SANITIZED:-}${TARFLAT_SLOW:-}" ] || LIMIT=${HOSTILE_TIMEOUT:-300}

# run DESC WANT_RC CMD...: under timeout $LIMIT, peak RSS measured; the
# status must be WANT_RC; stdout in out, stderr in err, peak RSS (KiB) in $rss
run() {
	_d=$1 _want=$2; shift 2
	timeout $LIMIT /usr/bin/time -f %M -o rss "$@" >out 2>err
	_rc=$?
	rss=$(tail -n 1 rss)    # after time's "Command exited with ..." line
	is "$_d: exit $_want within ${LIMIT}s" "$_rc" "$_want"
}

# bomb OUT DEPTH LINKS: the path-depth bomb, gzip -9
bomb() {
	hpy "$@" <<'PY'
import gzip, sys
from hostile import hdr, rec, ext, member, EOF
out, depth, links = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def pax_member(name, typ, linkname=b""):
    recs = rec("path", name) + (rec("linkpath", linkname) if linkname else b"")
    return ext("x", recs, "PaxHeaders/x") + hdr("x", typ, linkname=b"l" if linkname else b"")
seg = lambda c: "/".join([c] * depth)
b = bytearray(member("ok", data=b"fine"))
b += pax_member(seg("d"), "5")
prev = seg("d")
for i in range(1, links + 1):
    b += pax_member("l%d" % i, "2", prev)           # to the bottom so far
    b += pax_member("l%d/" % i + seg("e"), "5")     # DEPTH levels below it
    prev = "l%d/" % i + seg("e")
b += EOF
with gzip.GzipFile(out, "wb", 9, mtime=0) as f:
    f.write(bytes(b))
PY
}
[ -x /usr/bin/time ] || { skip_all "needs /usr/bin/time (apt-get install time)"; }

bomb depth.tar.gz 30000 39
is "path-depth bomb: the layer is a few KB" "$(($(wc -c <depth.tar.gz) < 16384))" 1
run "path-depth bomb" 1 "$TARFLAT" depth.tar.gz
is "path-depth bomb: nothing written" "$(wc -c <out)" 0
ok "path-depth bomb: the error names the entry, its first bytes and PATH_MAX" \
	grep -Eq '^tarflat: depth\.tar\.gz: offset 1024: (d/){90}.*: a name of [0-9]+ bytes or more in the tree, past PATH_MAX \(4096\)' err
if [ -z "${TARFLAT_SANITIZED:-}${TARFLAT_SLOW:-}" ]; then
	is "path-depth bomb: peak RSS under 256 MiB ($rss KiB)" "$((rss < 262144))" 1
else
	skip "path-depth bomb: peak RSS under 256 MiB" "a sanitizer or valgrind build ($rss KiB)"
fi
run "path-depth bomb, -t" 1 "$TARFLAT" -t depth.tar.gz
is "path-depth bomb, -t: nothing written" "$(wc -c <out)" 0

# a bottom within PATH_MAX, the symlinks taking the next levels past it:
# the entry that would cross it is the error
bomb chain.tar.gz 1000 39
run "symlink chain past PATH_MAX" 1 "$TARFLAT" chain.tar.gz
is "symlink chain past PATH_MAX: nothing written" "$(wc -c <out)" 0
ok "symlink chain past PATH_MAX: refused at the second level through l2" \
	grep -Eq '^tarflat: chain\.tar\.gz: offset [0-9]+: l2/(e/){90}.*: a name of [0-9]+ bytes or more in the tree, past PATH_MAX' err
# one level through a symlink stays within it and is written
bomb chain1.tar.gz 1000 1
run "one level through a symlink, 3999-byte names" 0 "$TARFLAT" chain1.tar.gz
is "3999-byte names: all 2002 entries written, the longest 3999 bytes (and its /)" \
	"$(tar -tf out | awk '{ if (length($0) > m) m = length($0) } END { print NR, m }')" \
	"2002 4000"

# the sparse bomb: a pax sparse 1.0 member of 1 PiB with one 512-byte region
hpy sparse.tar <<'PY'
import sys
from hostile import hdr, rec, ext, EOF, pad
real = 1 << 50
recs = (rec("GNU.sparse.major", "1") + rec("GNU.sparse.minor", "0") +
        rec("GNU.sparse.name", "var/log/huge") + rec("GNU.sparse.realsize", str(real)))
m = b"1\n%d\n512\n" % (real - 512)
data = pad(m) + b"z" * 512
b = (ext("x", recs, "PaxHeaders/huge") + hdr("GNUSparseFile.0/huge", "0", size=len(data)) +
     data + EOF)
open(sys.argv[1], "wb").write(b + bytes(3584 - len(b)) if len(b) < 3584 else b)
PY
is "sparse bomb: the layer is 3.5 KB" "$(wc -c <sparse.tar)" 3584
run "sparse bomb" 0 "$TARFLAT" sparse.tar
is "sparse bomb: the output is a few KB ($(wc -c <out) bytes)" "$(($(wc -c <out) < 8192))" 1
is "sparse bomb: kept sparse, 1 PiB with its one region, as tarfile reads it" \
	"$(python3 -c '
import sys, tarfile
for m in tarfile.open(sys.argv[1]):
    if m.isfile():
        print(m.name, m.size, m.sparse)' out)" \
	"var/log/huge 1125899906842624 [(1125899906842112, 512)]"
is "sparse bomb: GNU tar lists it at its size" \
	"$(tar -tvf out | awk '{ print $3, $6 }')" "$(printf '0 var/\n0 var/log/\n1125899906842624 var/log/huge')"
run "sparse bomb, -t" 0 "$TARFLAT" -t sparse.tar
ok "sparse bomb, -t: listed at its size" grep -q ' 1125899906842624 .* var/log/huge$' out

done_testing
