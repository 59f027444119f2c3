#!/bin/bash
# tarflat.1 rules 4 and 6, typeflags: contiguous files (7) and unknown typeflags are
# regular files (one warning for unknown ones); pax global headers (g) apply
# to the entries after them in that layer; GNU volume labels (V) are skipped;
# GNU dumpdirs (D) are directories; Solaris X headers are pax x headers.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"

# contiguous files and unknown typeflags
mklayer l1.tar <<'EOF'
raw c 7 data=contig mode=0750 uid=3 mtime=5
raw u1 Z data=zed mode=0600 mtime=6
raw u2 Z data=zed2 mtime=7
raw u3 Q data=queue mtime=8
EOF
flatten_x out l1.tar
is "2.4 types: contiguous (7) and unknown typeflags become regular files" "$(lst out)" "$(cat <<EOF
c f 0750 3:0 5 $(h contig) - -
u1 f 0600 0:0 6 $(h zed) - -
u2 f 0644 0:0 7 $(h zed2) - -
u3 f 0644 0:0 8 $(h queue) - -
EOF
)"
is "2.4 types: unknown typeflags: exit 0, a single warning line" \
	"$(grep -c . .err) $(grep -Ec '^tarflat: l1\.tar: offset [0-9]+: warning: ' .err)" "1 1"
is "2.4 types: the output writes them as type 0" "$(members .flat.tar)" "$(cat <<'EOF'
c 0 -
u1 0 -
u2 0 -
u3 0 -
EOF
)"
mklayer l2.tar <<'EOF'
file plain data=p
raw c 7 data=contig
EOF
flatten .flat.tar l2.tar 2>c.err
is "2.4 types: a contiguous file alone gives no warning" "$(wc -c <c.err)" 0

# GNU volume labels are skipped
mklayer l1.tar --format gnu <<'EOF'
raw MyVolume V
file a data=a
EOF
flatten_x out l1.tar
is "2.6 types: a GNU volume label (V) is skipped" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 $T0 $(h a) - -
EOF
)"

# pax global headers apply to the entries that follow, in that layer only
python3 - <<'EOF'
import io, tarfile
def add(tf, name, data, **kw):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mtime, ti.mode = len(data), kw.pop("mtime", 1000000000), 0o644
    for k, v in kw.items():
        setattr(ti, k, v)
    tf.addfile(ti, io.BytesIO(data))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
    add(tf, "before", b"b")
buf2 = io.BytesIO()
with tarfile.open(fileobj=buf2, mode="w", format=tarfile.PAX_FORMAT,
                  pax_headers={"comment": "0123abcd", "uid": "4242", "gname": "glob"}) as tf:
    add(tf, "a", b"a")
    add(tf, "b", b"b", pax_headers={"uid": "5"})
# layer 1: a plain member, then the global header and two more members
open("g1.tar", "wb").write(buf.getvalue()[:1024] + buf2.getvalue())
with tarfile.open("g2.tar", "w", format=tarfile.PAX_FORMAT) as tf:
    add(tf, "c", b"c")
EOF
flatten_x out g1.tar g2.tar
is "2.6 pax g: records apply to later entries of that layer, x overrides g" \
	"$(lst out --fields path,owner)" "$(printf 'a 4242:0\nb 5:0\nbefore 0:0\nc 0:0')"
is "2.6 pax g: the global comment is not an entry; gname applied" \
	"$(python3 -c '
import sys, tarfile
for m in tarfile.open(sys.argv[1]):
    print(m.name, m.gname or "-")' .flat.tar)" "$(printf 'before -\na glob\nb glob\nc -')"

# a real git archive (pax global header with the commit id)
if command -v git >/dev/null 2>&1; then
	mkdir repo && (
		cd repo && git init -q && mkdir -p src/sub &&
			printf 'hi\n' >README && printf '#!/bin/sh\n' >run.sh && chmod 755 run.sh &&
			printf 'x' >src/sub/x.c &&
			git add . && GIT_AUTHOR_DATE=@1500000000 GIT_COMMITTER_DATE=@1500000000 \
			git -c user.name=t -c user.email=t@t commit -q -m init &&
			git -c tar.umask=022 archive --format=tar HEAD >../git.tar
	)
	flatten_x out git.tar
	is "2.6 pax g: a git archive tarball flattens" "$(lst out)" "$(cat <<EOF
README f 0644 0:0 1500000000 $(h 'hi
') - -
run.sh f 0755 0:0 1500000000 $(h '#!/bin/sh
') - -
src d 0755 0:0 1500000000 - - -
src/sub d 0755 0:0 1500000000 - - -
src/sub/x.c f 0644 0:0 1500000000 $(h x) - -
EOF
)"
else
	skip "2.6 pax g: a git archive tarball flattens" "git not installed"
fi

# GNU incremental dumps store directories as D (dumpdir) members
mkdir -p inc/d/e
printf 'f' >inc/d/f
printf 'g' >inc/d/e/g
touch -d @101 inc/d/f inc/d/e/g
touch -d @102 inc/d/e
chmod 0750 inc/d
touch -d @103 inc/d
tar --format=gnu -g inc.snar -cf inc.tar -C inc d 2>/dev/null
is "2.6 types: (setup) GNU tar -g wrote D members" \
	"$(python3 -c '
import sys, tarfile
print(sorted({m.type.decode() for m in tarfile.open(sys.argv[1])}))' inc.tar)" "['0', 'D']"
flatten_x out inc.tar
is "2.6 types: GNU dumpdir (D) members are directories" "$(lst out)" "$(cat <<EOF
d d 0750 0:0 103 - - -
d/e d 0755 0:0 102 - - -
d/e/g f 0644 0:0 101 $(h g) - -
d/f f 0644 0:0 101 $(h f) - -
EOF
)"

# Solaris X extended headers are read like pax x headers
python3 - <<'EOF'
import io, tarfile
def rec(k, v):
    body = " %s=%s\n" % (k, v)
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n += 1
    return ("%d%s" % (n, body)).encode()
data = rec("path", "solaris/long/" + "s" * 120) + rec("mtime", "4242")
with tarfile.open("x.tar", "w", format=tarfile.USTAR_FORMAT) as tf:
    x = tarfile.TarInfo("X-header")
    x.type, x.size = b"X", len(data)
    tf.addfile(x, io.BytesIO(data))
    f = tarfile.TarInfo("short")
    f.size, f.mtime = 3, 1
    tf.addfile(f, io.BytesIO(b"sol"))
EOF
flatten_x out x.tar
is "2.1/4 types: a Solaris X header supplies path and mtime" "$(lst out --fields path,type,mtime,detail | grep ' f ')" \
	"solaris/long/$(printf 's%.0s' $(seq 1 120)) f 4242 $(h sol)"

done_testing
