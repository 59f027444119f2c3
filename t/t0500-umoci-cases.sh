#!/bin/bash
# The contract (tarflat.1 LAYER SEMANTICS): the tree extracted from tarflat's output is exactly
# the tree umoci 0.4.7 builds by applying the layers.  The named hard cases of
# issue 2 go through t/diffumoci.sh (umoci unpack vs GNU tar -x of tarflat's
# output, compared with t/treedump.py: paths, types, bytes, modes, owners,
# mtimes, symlink targets, devices, xattrs, hardlink groups).  Every stack
# writes its parent directories explicitly (umoci's implicit parents differ
# by design).  Each differential case also checks that umoci's own tree holds
# the line that makes the case what it claims to be, so a case that silently
# degenerated (both trees empty, say) fails.
#
# Where tarflat.1 LAYER SEMANTICS says umoci 0.4.7 errs, the case gives umoci an equivalent
# stack it can take (-u) or compares tarflat with a written expectation.
. "$(dirname "$0")/lib.sh"
need umoci python3
need_root
export TARFLAT  # for t/diffumoci.sh

T0=1000000000

# h TEXT: the treedump detail column of a file holding exactly TEXT
h() {
	printf '%s:%s' "$(printf '%s' "$1" | wc -c | tr -d ' ')" \
		"$(printf '%s' "$1" | sha256sum | cut -c1-16)"
}

# dif NAME MUST [-u 'LAYERS'] LAYER...: diffumoci.sh in $T/w.NAME, then
# umoci's tree must have a line matching the ERE MUST (tabs read as spaces)
dif() {
	_w=$T/w.$1 _must=$2; shift 2
	bash "$TDIR/diffumoci.sh" -w "$_w" "$@" || return 1
	tr '\t' ' ' <"$_w/umoci.tree" | grep -Eq -- "$_must" || {
		echo "umoci's tree has no line matching /$_must/:"
		tr '\t' ' ' <"$_w/umoci.tree"
		return 1
	}
}

# got DIR: tarflat's extracted tree with tabs as spaces
got() { tree "$1" | tr '\t' ' '; }

# --- issue 977 ---------------------------------------------------------------
mklayer 977a.tar --gzip <<'EOF'
dir usr mtime=100
dir usr/bin mtime=101
file usr/bin/a-first data=first
file usr/bin/git size=70000 mode=0755 mtime=500 uid=3 gid=4
hardlink usr/bin/git-receive-pack usr/bin/git
hardlink usr/bin/git-upload-pack /usr/bin/git
hardlink usr/bin/git-upload-archive ./usr/bin/git
dir usr/libexec mtime=102
hardlink usr/libexec/git-shell usr/bin/git
file usr/bin/zz data=zz
EOF
mklayer 977b.tar <<'EOF'
dir usr mtime=100
dir usr/bin mtime=200
whiteout usr/bin/git
EOF
ok "issue 977: links to a target the next layer deletes" \
	dif 977 '^usr/libexec/git-shell f 0755 3:4 500 70000:.* =usr/bin/git-receive-pack' 977a.tar 977b.tar

mklayer 977c.tar --format gnu <<'EOF'
dir usr mtime=100
dir usr/bin mtime=101
file usr/bin/git size=3000 mode=0755 mtime=500
hardlink usr/bin/git-receive-pack usr/bin/git
EOF
mklayer 977d.tar <<'EOF'
whiteout usr/bin/git
EOF
ok "issue 977: one link, whiteout layer without parent entries" \
	dif 977one '^usr/bin/git-receive-pack f 0755 0:0 500 3000:' 977c.tar 977d.tar

mklayer 977e.tar <<'EOF'
dir usr mtime=100
dir usr/bin mtime=101
file usr/bin/git size=3000 mode=0755 mtime=500
hardlink usr/bin/git-receive-pack usr/bin/git
whiteout usr/bin/nothing
EOF
mklayer 977f.tar <<'EOF'
dir usr mtime=100
dir usr/bin mtime=101
whiteout usr/bin/git
whiteout usr/bin/git-receive-pack
EOF
ok "issue 977: target and all its links deleted" \
	dif 977all '^usr/bin d 0755 0:0 101 ' 977a.tar 977e.tar 977f.tar

# --- overwritten target keeps old bytes -----------------------------------------
mklayer ow1.tar <<'EOF'
dir d mtime=10
file d/t data=old mode=0640 uid=7 gid=8 mtime=11 xattr.user.o=1
hardlink d/l1 d/t
hardlink d/l2 d/l1
EOF
mklayer ow2.tar --format gnu <<'EOF'
dir d mtime=20
file d/t data=new mode=0600 mtime=21
EOF
ok "overwritten target: links keep the old bytes and metadata" \
	dif ow "^d/l2 f 0640 7:8 11 $(h old) =d/l1 user.o=31" ow1.tar ow2.tar

mklayer ow3.tar <<'EOF'
dir d mtime=30
hardlink d/t d/l1
EOF
ok "overwritten target, then the old inode linked back under the target name" \
	dif ow3 "^d/t f 0640 7:8 11 $(h old) =d/l1" ow1.tar ow2.tar ow3.tar

mklayer ow4.tar <<'EOF'
dir d mtime=10
file d/t data=v1 mtime=1
hardlink d/l d/t
file d/t data=v2 mtime=2
hardlink d/m d/t
EOF
ok "target overwritten inside the layer between two links" \
	dif ow4 "^d/m f 0644 0:0 2 $(h v2) =d/m" ow4.tar

# --- chains ---------------------------------------------------------------------
mklayer ch1.tar <<'EOF'
file a data=A mtime=5
EOF
mklayer ch2.tar --gzip <<'EOF'
hardlink b a
EOF
mklayer ch3.tar --format ustar <<'EOF'
hardlink c b
EOF
mklayer ch4.tar <<'EOF'
whiteout b
EOF
ok "chain a<-b<-c across layers with the middle deleted" \
	dif chain "^c f 0644 0:0 5 $(h A) =a" ch1.tar ch2.tar ch3.tar ch4.tar

mklayer ch5.tar <<'EOF'
whiteout a
whiteout b
EOF
mklayer ch6.tar <<'EOF'
file a data=A2 mtime=6
hardlink d c
EOF
ok "chain: head and middle deleted, head name reused" \
	dif chain2 "^d f 0644 0:0 5 $(h A) =c" ch1.tar ch2.tar ch3.tar ch5.tar ch6.tar

mklayer ch7.tar <<'EOF'
dir x mtime=3
file x/a data=A mtime=5
hardlink x/b x/a
hardlink x/c x/b
hardlink x/d x/c
EOF
mklayer ch8.tar <<'EOF'
whiteout x/a
whiteout x/c
file x/b data=B
EOF
ok "chain in one layer, then links deleted and overwritten" \
	dif chain3 "^x/d f 0644 0:0 5 $(h A) -" ch7.tar ch8.tar

# --- cross-layer links ----------------------------------------------------------
mklayer cl1.tar <<'EOF'
dir lib mtime=7
file lib/libc.so data=libc mode=0755 mtime=8
EOF
mklayer cl2.tar --gzip --format gnu <<'EOF'
dir opt mtime=9
dir opt/app mtime=9
hardlink opt/app/libc.so /lib/libc.so
EOF
mklayer cl3.tar <<'EOF'
dir lib mtime=7
file lib/libc.so data=libc2 mode=0755 mtime=10
hardlink lib/old.so opt/app/libc.so
EOF
ok "cross-layer link, then the target replaced and the link re-linked" \
	dif cross "^opt/app/libc.so f 0755 0:0 8 $(h libc) =lib/old.so" cl1.tar cl2.tar cl3.tar

# --- opaque markers -------------------------------------------------------------
mklayer op1.tar <<'EOF'
dir d mtime=10 mode=0750
file d/x data=old-x
file d/y data=old-y
dir d/sub mtime=11
file d/sub/z data=z
symlink d/s x
EOF
mklayer op2.tar <<'EOF'
dir d mtime=20 mode=0755 uid=2
opaque d
file d/x data=new-x
file d/new data=n
EOF
ok "opaque marker before its siblings" \
	dif opq-before "^d d 0755 2:0 20 " op1.tar op2.tar

mklayer op3.tar --format gnu <<'EOF'
dir d mtime=20 mode=0700
file d/x data=new-x
file d/new data=n
dir d/sub2 mtime=21
file d/sub2/q data=q
opaque d
EOF
ok "opaque marker after its siblings" \
	dif opq-after "^d/sub2/q f " op1.tar op3.tar

mklayer op4.tar <<'EOF'
dir d mtime=20
file d/y data=new-y
opaque d
dir d/late mtime=22
EOF
ok "opaque marker between siblings" \
	dif opq-mid "^d/late d 0755 0:0 22 " op1.tar op4.tar

mklayer op5.tar <<'EOF'
opaque d/nothere
opaque d
EOF
mklayer op6.tar <<'EOF'
dir d mtime=30
file d/x data=x3
EOF
ok "opaque marker alone in a layer (no dir entry), missing dir ignored" \
	dif opq-alone "^d/x f 0644 0:0 $T0 $(h x3) -" op1.tar op5.tar op6.tar

# --- .wh.x then x/ in the same layer --------------------------------------------
mklayer wd1.tar <<'EOF'
dir x mtime=10 mode=0700 uid=5
file x/old data=o
dir x/sub mtime=11
file x/sub/deep data=d
hardlink keep x/old
EOF
mklayer wd2.tar <<'EOF'
whiteout x
dir x mtime=20
file x/new data=n
dir x/sub mtime=21
EOF
ok ".wh.x then x/ in the same layer: a new empty x" \
	dif whdir "^x/sub d 0755 0:0 21 " wd1.tar wd2.tar

mklayer wd3.tar --format gnu <<'EOF'
whiteout x
file x data=now-a-file mtime=30
EOF
ok ".wh.x then x as a file in the same layer" \
	dif whfile "^x f 0644 0:0 30 $(h now-a-file)" wd1.tar wd3.tar

mklayer wd4.tar <<'EOF'
whiteout keep
hardlink keep x/old
EOF
ok ".wh.x then x re-linked to the same inode" \
	dif whlink "^keep f 0644 0:0 $T0 $(h o) =keep" wd1.tar wd4.tar

# --- file <-> dir <-> symlink replacements ---------------------------------------
mklayer fd1.tar <<'EOF'
file p data=file mtime=1
dir q mtime=2
file q/inner data=inner
hardlink outer q/inner
symlink r q
EOF
mklayer fd2.tar --gzip <<'EOF'
dir p mtime=3 mode=0711
file p/child data=c
file q data=q-now-file mtime=4
dir r mtime=5
EOF
mklayer fd3.tar --format ustar <<'EOF'
file p data=file-again mtime=6
symlink q p
dir r mtime=7 mode=0700
file r/x data=x
EOF
ok "file -> dir -> file, dir -> file -> symlink, symlink -> dir" \
	dif repl "^outer f 0644 0:0 $T0 $(h inner) -" fd1.tar fd2.tar fd3.tar

# a directory replacing a symlink to a directory gets an opaque marker from
# Docker/BuildKit (overlayfs marks it opaque): the marker is about the new
# directory, not about what the old symlink pointed at
mklayer rs1.tar <<'EOF'
dir a mtime=1
file a/keep data=k
symlink c a
symlink loop loop
EOF
mklayer rs2.tar --gzip <<'EOF'
dir c mtime=2
opaque c
file c/new data=n
dir loop mtime=3
opaque loop
EOF
ok "dir replacing a symlink to a dir, with an opaque marker (docker)" \
	dif symopq "^a/keep f 0644 0:0 $T0 $(h k) -" rs1.tar rs2.tar

mklayer rs3.tar <<'EOF'
dir c mtime=2
file c/new data=n
whiteout c/keep
EOF
ok "dir replacing a symlink to a dir, with a whiteout of a child" \
	dif symwh "^a/keep f 0644 0:0 $T0 $(h k) -" rs1.tar rs3.tar

# the other order: a marker read while c is still the symlink is looked up
# where it stands, through c, and empties a (umoci does the same)
mklayer rs4.tar <<'EOF'
opaque c
dir c mtime=2
file c/new data=n
EOF
ok "opaque marker before the directory that replaces a symlink" \
	dif symopq2 "^c/new f 0644 0:0 $T0 $(h n) -" rs1.tar rs4.tar

# whiteouts written through a symlinked parent
mklayer rs5.tar <<'EOF'
whiteout c/keep
dir a/sub mtime=4
opaque c/sub
file c/sub/x data=x
EOF
ok "whiteout and opaque marker through a symlinked parent" \
	dif symthrough "^a/sub/x f 0644 0:0 $T0 $(h x) -" rs1.tar rs5.tar

# --- /x ./x x mixed ---------------------------------------------------------------
mklayer nm1.tar <<'EOF'
dir /etc mtime=1
file ./etc/passwd data=v1 mtime=2
file /etc/group data=g mtime=3
EOF
mklayer nm2.tar --format gnu <<'EOF'
dir ./etc/ mtime=4
file etc/passwd data=v2 mtime=5
hardlink ./etc/passwd- /etc/passwd
hardlink /etc/group- ./etc/group
EOF
mklayer nm3.tar --gzip <<'EOF'
dir etc mtime=6
file /etc/passwd data=v3 mtime=7
whiteout ./etc/group
hardlink etc/p2 ./etc//passwd-
EOF
ok "names written /x, ./x and x across layers and in link names" \
	dif names "^etc/p2 f 0644 0:0 5 $(h v2) =etc/p2" nm1.tar nm2.tar nm3.tar

# --- merged /usr -------------------------------------------------------------------
mklayer mu1.tar <<'EOF'
dir usr mtime=1
dir usr/bin mtime=2
dir usr/lib mtime=3
symlink bin usr/bin
symlink lib /usr/lib
file usr/bin/sh data=sh mode=0755
EOF
mklayer mu2.tar --gzip <<'EOF'
file bin/tool data=tool mode=0755 mtime=9
hardlink bin/tool2 /bin/tool
file lib/libx.so data=x
dir lib/sub mtime=4
file ./lib/sub/deep data=deep
hardlink usr/bin/sh2 bin/sh
EOF
mklayer mu3.tar <<'EOF'
whiteout usr/bin/tool
EOF
ok "merged-usr: bin -> usr/bin below, bin/tool above" \
	dif usrmerge "^usr/bin/tool2 f 0755 0:0 9 $(h tool) -" mu1.tar mu2.tar mu3.tar

mklayer mu4.tar <<'EOF'
dir bin mtime=8
file bin/own data=own
EOF
ok "merged-usr: a later bin/ entry replaces the symlink (no --keep-dirlinks)" \
	dif usrdir "^bin d 0755 0:0 8 " mu1.tar mu2.tar mu4.tar

# --- dir over dir merge ---------------------------------------------------------------
mklayer dd1.tar <<'EOF'
dir d mode=0755 uid=1 gid=1 mtime=5 xattr.user.a=1 xattr.user.b=2
file d/a data=a
dir d/s mode=0700 mtime=6
file d/s/x data=x
EOF
mklayer dd2.tar --format gnu <<'EOF'
dir d mode=02770 uid=2 gid=3 mtime=7
file d/b data=b
EOF
mklayer dd3.tar <<'EOF'
dir d mode=01777 uid=4 gid=5 mtime=8 xattr.user.c=3
dir d/s mode=0555 mtime=9
EOF
ok "dir over dir: metadata (and xattrs) replaced, children merged" \
	dif dirmerge '^d d 1777 4:5 8 - - user.c=33' dd1.tar dd2.tar dd3.tar

# --- xattrs ------------------------------------------------------------------------------
mklayer xa1.tar <<'EOF'
dir d mtime=1 xattr.user.dir=D
file d/f data=f xattr.user.one=1 xattr.user.two=22 xattr.trusted.t=T
hardlink d/g d/f
file d/plain data=p
EOF
mklayer xa2.tar <<'EOF'
dir d mtime=1 xattr.user.dir=E
file d/plain data=p2 xattr.user.now=here
file d/f data=f2
EOF
ok "xattrs: kept, shared by links, dropped on overwrite, replaced on dirs" \
	dif xattr '^d/g f 0644 0:0 1000000000 1:.* - trusted.t=54,user.one=31,user.two=3232' xa1.tar xa2.tar

# --- more of the layer rules that umoci agrees on ------------------------------------------------
mklayer md1.tar --format gnu <<'EOF'
dir dev mtime=1
char dev/null 1 3 mode=0666
block dev/loop0 7 0 mode=0660 gid=6
fifo dev/fifo mode=0600 uid=9
hardlink dev/null2 dev/null
dir bin mtime=2
file bin/su data=su mode=04755 uid=0
file bin/wall data=wall mode=02755 gid=5
dir tmp mode=01777 mtime=3
file big data=big uid=3000000 gid=123456789 mtime=-1000
file fut data=fut mtime=9000000000
EOF
mklayer md2.tar <<'EOF'
file frac data=frac mtime=1234 pax.mtime=1234.75
file negfrac data=negfrac pax.mtime=-3.5
symlink lnk frac mtime=77 uid=5 gid=6
hardlink lnk2 lnk
dir ./ mode=0700
EOF
ok "devices, fifo, setuid/setgid/sticky, big ids, negative/fractional mtimes" \
	dif meta '^dev/null2 c 0666 0:0 1000000000 1,3 =dev/null' md1.tar md2.tar

mklayer sy1.tar <<'EOF'
dir a mtime=1
dir a/b mtime=2
symlink a/up ../../..
symlink a/abs /a/b
symlink top a/up/a
EOF
mklayer sy2.tar <<'EOF'
file a/up/a/b/f1 data=1
file top/abs/f2 data=2
hardlink a/abs/f3 /top/up/a/b/f1
EOF
ok "parent symlinks: relative climbing above the root, absolute, chained" \
	dif symparent "^a/b/f3 f 0644 0:0 $T0 $(h 1) =a/b/f1" sy1.tar sy2.tar

mklayer du1.tar <<'EOF'
file f data=one mtime=1
hardlink h f
file f data=two mtime=2
dir d mtime=3
dir d mode=0700 mtime=4
symlink s f
symlink s d
EOF
ok "a path twice in one layer: the later entry wins" \
	dif dup "^d d 0700 0:0 4 " du1.tar

mklayer au1.tar <<'EOF'
dir d
file d/x data=x
file d/y data=y
EOF
mklayer au2.tar <<'EOF'
raw d/.wh.x 1
whiteout d/nothere
EOF
python3 - au2.tar <<'EOF'
import sys, tarfile, io
# make the AUFS-style hardlink whiteout point somewhere, as AUFS layers do
src = tarfile.open(sys.argv[1]); members = src.getmembers(); src.close()
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tf:
    for m in members:
        if m.type == tarfile.LNKTYPE:
            m.linkname = ".wh..wh.plnk/1.2"
        tf.addfile(m, io.BytesIO(b"") if m.isreg() else None)
EOF
ok "AUFS whiteout stored as a hardlink; whiteout of a missing path" \
	dif aufswh "^d/y f " au1.tar au2.tar

# 40 symlink hops is the most both allow (Linux's limit)
{
	echo "dir d mtime=1"
	for i in $(seq 1 39); do echo "symlink s$i s$((i + 1))"; done
	echo "symlink s40 d"
} | mklayer hop1.tar
printf 'file s1/f data=deep\n' | mklayer hop2.tar
ok "a parent behind 40 symlink hops" dif hops40 "^d/f f 0644 0:0 $T0 $(h deep)" hop1.tar hop2.tar

# pax sparse files (GNU tar --sparse, formats 0.0, 0.1, 1.0): umoci reads them
if command -v truncate >/dev/null; then
	truncate -s 3000000 sparse
	printf 'data in the middle' | dd of=sparse bs=1 seek=1500000 conv=notrunc 2>/dev/null
	printf 'tail' >>sparse
	for v in 0.0 0.1 1.0; do
		tar --format=posix --sparse --sparse-version=$v -cf sp$v.tar sparse
	done
	ok "pax sparse files 0.0, 0.1, 1.0" \
		dif sparse "^sparse f 0644 0:0 [0-9]+ 3000004:$(sha256sum <sparse | cut -c1-16) -" \
		sp0.0.tar sp0.1.tar sp1.0.tar
fi

# --- umoci mis-handles these: written expectations or an equivalent stack --------------
# a link before its target in the same layer: umoci refuses; give it the
# layer with the two members swapped
mklayer lb.tar <<'EOF'
dir d mtime=1
hardlink d/l d/t
file d/t data=T mode=0600 mtime=2
hardlink d/m d/l
EOF
mklayer lb-u.tar <<'EOF'
dir d mtime=1
file d/t data=T mode=0600 mtime=2
hardlink d/l d/t
hardlink d/m d/l
EOF
ok "link before its target (umoci: target first)" \
	dif linkbefore "^d/m f 0600 0:0 2 $(h T) =d/l" -u lb-u.tar lb.tar

# pax global headers: a real `git archive` layer, and one whose g header sets
# uid/gname for what follows; umoci gets the records applied by hand
if command -v git >/dev/null; then
	rm -rf repo && mkdir -p repo/src && printf 'hello\n' >repo/src/hello.c &&
		printf '#!/bin/sh\n' >repo/run.sh && chmod 755 repo/run.sh &&
		git -C repo init -q && git -C repo add . &&
		GIT_COMMITTER_DATE='@1500000000 +0000' GIT_AUTHOR_DATE='@1500000000 +0000' \
			git -C repo -c user.name=t -c user.email=t@t commit -qm x &&
		git -C repo archive --format=tar HEAD >git.tar
	python3 - git.tar git-u.tar <<'EOF'
import sys, tarfile
src = tarfile.open(sys.argv[1])
assert src.pax_headers.get("comment"), "git archive wrote no pax global header"
with tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT) as out:
    for m in src:
        out.addfile(m, src.extractfile(m) if m.isreg() else None)
EOF
	ok "pax global header (git archive): umoci given it without" \
		dif gitarchive '^run.sh f 07[57]5 0:0 1500000000 ' -u git-u.tar git.tar
fi
python3 - g.tar g-u.tar <<'EOF'
import io, sys, tarfile
def members(tf, glob):
    for name, kind in (("gdir/", tarfile.DIRTYPE), ("gdir/f", tarfile.REGTYPE)):
        ti = tarfile.TarInfo(name); ti.type = kind; ti.mtime = 5
        ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
        data = b"g" if kind == tarfile.REGTYPE else None
        if glob:
            ti.uid, ti.gid = 42, 43
        ti.size = len(data or b"")
        tf.addfile(ti, io.BytesIO(data) if data else None)
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT,
                  pax_headers={"uid": "42", "gid": "43", "comment": "global"}) as tf:
    members(tf, False)
with tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT) as tf:
    members(tf, True)
EOF
ok "pax global header with uid/gid records applies to what follows" \
	dif gsets '^gdir/f f 0644 42:43 5 ' -u g-u.tar g.tar

# '7' contiguous, unknown typeflags, GNU 'V' volume label: as regular files /
# skipped; umoci gets '0' members and no label
mklayer ty.tar <<'EOF'
raw vol V
dir d mtime=1
raw d/contig 7 data=contiguous mode=0755
raw d/odd Q data=unknown-type
EOF
mklayer ty-u.tar <<'EOF'
dir d mtime=1
file d/contig data=contiguous mode=0755
file d/odd data=unknown-type
EOF
ok "'7', unknown typeflag and 'V' (umoci: '0' members, no label)" \
	dif types "^d/contig f 0755 0:0 $T0 $(h contiguous)" -u ty-u.tar ty.tar

# old GNU sparse 'S' (oldgnu and gnu formats): umoci gets the same file unsparse
if [ -f sparse ]; then
	tar --format=oldgnu --sparse -cf sp-old.tar sparse
	tar --format=gnu --sparse -cf sp-gnu.tar sparse
	tar --format=gnu -cf sp-u.tar sparse
	ok "GNU 'S' sparse members (umoci: the plain file)" \
		dif sparseS "^sparse f 0644 0:0 [0-9]+ 3000004:" -u "sp-u.tar sp-u.tar" sp-old.tar sp-gnu.tar
fi

# AUFS metadata: umoci shows .wh..wh.plnk/ and friends; tarflat hides them and
# a link into .wh..wh.plnk keeps the bytes: umoci gets the file itself
mklayer pl.tar <<'EOF'
dir .wh..wh.plnk mode=0700
file .wh..wh.plnk/1234.5678 data=plinked mode=0750 uid=3 mtime=44
dir .wh..wh.orph
file .wh..wh.aufs
dir d mtime=1
hardlink d/x .wh..wh.plnk/1234.5678
hardlink d/y /.wh..wh.plnk/1234.5678
EOF
mklayer pl-u.tar <<'EOF'
dir d mtime=1
file d/x data=plinked mode=0750 uid=3 mtime=44
hardlink d/y d/x
EOF
ok "AUFS .wh..wh.plnk hidden, links into it keep the bytes" \
	dif plnk "^d/y f 0750 3:0 44 $(h plinked) =d/x" -u pl-u.tar pl.tar

# implicit parents: umoci makes them 0777-umask, its own owner, the current
# time; tarflat.1 rule 2: 0755 0:0 and the mtime of the entry that needed them
mklayer ip.tar <<'EOF'
file x/y/z data=z mtime=555 uid=7
dir p/q mtime=9 mode=0700
EOF
mklayer ip-u.tar <<'EOF'
dir x mtime=555
dir x/y mtime=555
file x/y/z data=z mtime=555 uid=7
dir p mtime=9
dir p/q mtime=9 mode=0700
EOF
ok "implicit parents: 0755 0:0, mtime of the entry (umoci: explicit ones)" \
	dif implicit '^x/y d 0755 0:0 555 ' -u ip-u.tar ip.tar

# a dangling symlink as a parent: both create its target (umoci as an
# implicit parent: give it the directory explicitly)
mklayer dg.tar <<'EOF'
dir d mtime=1
symlink d/a ../nowhere
file d/a/f data=f mtime=66
EOF
mklayer dg-u.tar <<'EOF'
dir d mtime=1
symlink d/a ../nowhere
dir nowhere mtime=66
file d/a/f data=f mtime=66
EOF
ok "dangling symlink parent: its target is created (umoci: explicitly)" \
	dif dangling "^nowhere/f f 0644 0:0 66 $(h f) -" -u dg-u.tar dg.tar

# a whiteout of a directory that this layer passed through: kept with its
# lower metadata, only lower children go; umoci restamps it with the current
# time. When the whiteout comes first it removes a and a/b before a/b/new
# needs them: new implicit parents (umoci's are stamped with the current time)
mklayer pt1.tar <<'EOF'
dir a mode=0700 uid=7 mtime=10
dir a/b mode=0750 uid=8 mtime=11
file a/b/old data=o
file a/old2 data=o2
EOF
mklayer pt2.tar <<'EOF'
file a/b/new data=n
whiteout a
EOF
mklayer pt3.tar <<'EOF'
whiteout a
file a/b/new data=n
EOF
want=$(cat <<EOF
a d 0700 7:0 10 - - -
a/b d 0750 8:0 11 - - -
a/b/new f 0644 0:0 $T0 $(h n) - -
EOF
)
flatten_x pt2 pt1.tar pt2.tar; is "whiteout after an entry passing through it (written)" "$(got pt2)" "$want"
want=$(cat <<EOF
a d 0755 0:0 $T0 - - -
a/b d 0755 0:0 $T0 - - -
a/b/new f 0644 0:0 $T0 $(h n) - -
EOF
)
flatten_x pt3 pt1.tar pt3.tar; is "whiteout before an entry passing through it (written)" "$(got pt3)" "$want"

# an opaque marker after a subdirectory this layer wrote: the subdirectory
# keeps the entry's mtime (umoci restamps it)
mklayer os2.tar <<'EOF'
dir d mtime=20
dir d/sub mtime=21
file d/sub/new data=n
opaque d
EOF
flatten_x os op1.tar os2.tar; is "opaque marker after a written subdirectory (written)" "$(got os)" "$(cat <<EOF
d d 0755 0:0 20 - - -
d/sub d 0755 0:0 21 - - -
d/sub/new f 0644 0:0 $T0 $(h n) - -
EOF
)"

# x/ and x/new, then .wh.x: x is the layer's own (umoci restamps it)
mklayer wa2.tar <<'EOF'
dir x mtime=20 mode=0711
file x/new data=n
whiteout x
EOF
flatten_x wa wd1.tar wa2.tar; is "x/ then .wh.x in one layer spares x (written)" "$(got wa)" "$(cat <<EOF
keep f 0644 0:0 $T0 $(h o) - -
x d 0711 0:0 20 - - -
x/new f 0644 0:0 $T0 $(h n) - -
EOF
)"

# mtimes umoci wraps (after 2262, before 1678).  ext4 cannot store times
# before 1901, so the early one is read back from the output with tarfile
mklayer mt.tar --format gnu <<'EOF'
dir d mtime=9300000000
file d/late data=l mtime=9300000000
file d/early data=e mtime=-9300000000
EOF
flatten_x mt mt.tar 2>/dev/null
is "mtimes after 2262 (written)" "$(got mt | grep -v early)" "$(cat <<EOF
d d 0755 0:0 9300000000 - - -
d/late f 0644 0:0 9300000000 $(h l) - -
EOF
)"
is "mtimes before 1678 (written, read back with tarfile)" "$(python3 -c '
import sys, tarfile
print(int(tarfile.open(sys.argv[1]).getmember("d/early").mtime))' .flat.tar)" "-9300000000"

# 41 hops: Linux and tarflat stop (umoci goes on to 255)
{
	echo "dir d mtime=1"
	for i in $(seq 1 40); do echo "symlink s$i s$((i + 1))"; done
	echo "symlink s41 d"
} | mklayer hop3.tar
printf 'file s1/f data=deep\n' | mklayer hop4.tar
"$TARFLAT" hop3.tar hop4.tar >hop.out 2>hop.err
is "41 symlink hops: exit 1, nothing written (umoci follows)" "$? $(wc -c <hop.out)" "1 0"

# bare .wh. and .wh..: errors (umoci deletes the directory, then fails)
mklayer bw1.tar <<'EOF'
dir a
file a/f data=1
EOF
for n in '.wh.' '.wh..'; do
	printf 'file a/%s\n' "$n" | mklayer bw2.tar
	"$TARFLAT" bw1.tar bw2.tar >bw.out 2>bw.err
	is "a/$n: exit 1, nothing written" "$? $(wc -c <bw.out)" "1 0"
done

done_testing
