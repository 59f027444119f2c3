#!/bin/bash
# tarflat.1 rule 3, Whiteouts: .wh.NAME and .wh..wh..opq remove only what lower
# layers built; each takes effect where it stands in its layer, and what it
# removed is gone for the layer's later entries; directories the layer wrote
# or passed through before it survive with their metadata; whiteouts never create
# anything, are recognised whatever their typeflag and never emitted; AUFS
# .wh..wh.* metadata is hidden but hardlinks into .wh..wh.plnk get the bytes;
# bare .wh. and .wh.. are errors.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"

base() {
	mklayer base.tar <<'EOF'
dir d mode=0750 mtime=100
file d/f data=f mtime=101
file d/g data=g mtime=102
symlink d/s /d/g mtime=103
dir d/sub mtime=104
dir d/sub/deep mtime=105
file d/sub/deep/x data=x mtime=106
file d/sub/y data=y mtime=107
EOF
}
base

# .wh.NAME removes a file, a symlink (not its target) and a whole subtree
mklayer l2.tar <<'EOF'
whiteout d/f mtime=999
whiteout d/s mtime=999
whiteout d/sub mtime=999
EOF
flatten_x out base.tar l2.tar
is "2.3 whiteouts: .wh.NAME removes the name and its whole subtree" "$(lst out)" "$(cat <<EOF
d d 0750 0:0 100 - - -
d/g f 0644 0:0 102 $(h g) - -
EOF
)"
is "2.3 whiteouts: whiteouts are never emitted" "$(members .flat.tar)" "$(cat <<'EOF'
d 5 -
d/g 0 -
EOF
)"

# a later layer recreating a whited-out directory starts from nothing
mklayer l3.tar <<'EOF'
file d/sub/new data=n mtime=300
EOF
flatten_x out base.tar l2.tar l3.tar
is "2.3 whiteouts: a whited-out dir recreated later has no old children" "$(lst out)" "$(cat <<EOF
d d 0750 0:0 100 - - -
d/g f 0644 0:0 102 $(h g) - -
d/sub d 0755 0:0 300 - - -
d/sub/new f 0644 0:0 300 $(h n) - -
EOF
)"

# opaque marker before the layer's own siblings: the lower d/sub is gone
# when d/sub/z comes, so z gets a new implicit parent
mklayer l2.tar <<'EOF'
dir d mode=0700 mtime=200
opaque d
file d/new data=new mtime=201
file d/g data=G2 mtime=202
file d/sub/z data=z mtime=203
EOF
flatten_x out base.tar l2.tar
is "2.3 whiteouts: opaque marker before siblings keeps this layer's entries" "$(lst out)" "$(cat <<EOF
d d 0700 0:0 200 - - -
d/g f 0644 0:0 202 $(h G2) - -
d/new f 0644 0:0 201 $(h new) - -
d/sub d 0755 0:0 203 - - -
d/sub/z f 0644 0:0 203 $(h z) - -
EOF
)"

# opaque marker after the layer's own siblings: the same result
mklayer l2.tar <<'EOF'
dir d mode=0700 mtime=200
file d/new data=new mtime=201
file d/g data=G2 mtime=202
file d/sub/z data=z mtime=203
opaque d
EOF
flatten_x out base.tar l2.tar
is "2.3 whiteouts: opaque marker after siblings keeps this layer's entries" "$(lst out)" "$(cat <<EOF
d d 0700 0:0 200 - - -
d/g f 0644 0:0 202 $(h G2) - -
d/new f 0644 0:0 201 $(h new) - -
d/sub d 0755 0:0 104 - - -
d/sub/z f 0644 0:0 203 $(h z) - -
EOF
)"

# opaque marker alone: the directory stays with its metadata, empty
mklayer l2.tar <<'EOF'
opaque d mtime=999
EOF
flatten_x out base.tar l2.tar
is "2.3 whiteouts: .wh..wh..opq empties DIR and keeps DIR's metadata" "$(lst out)" "$(cat <<EOF
d d 0750 0:0 100 - - -
EOF
)"

# .wh.x then x/ in the same layer: x is the new directory, no old children
mklayer l1.tar <<'EOF'
dir x mode=0700 mtime=111
file x/old data=old
dir x/olddir
EOF
mklayer l2.tar <<'EOF'
whiteout x
dir x mode=0750 mtime=222
file x/new data=new mtime=223
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: .wh.x then x/ in one layer gives the new x only" "$(lst out)" "$(cat <<EOF
x d 0750 0:0 222 - - -
x/new f 0644 0:0 223 $(h new) - -
EOF
)"
mklayer l2.tar <<'EOF'
dir x mode=0750 mtime=222
whiteout x
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: x/ then .wh.x in one layer gives the new, empty x" "$(lst out)" "$(cat <<EOF
x d 0750 0:0 222 - - -
EOF
)"
mklayer l2.tar <<'EOF'
whiteout x
file x data=F mtime=5
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: .wh.x then file x in one layer gives the file" "$(lst out)" "$(cat <<EOF
x f 0644 0:0 5 $(h F) - -
EOF
)"

# a whiteout of a missing path does nothing and creates nothing
mklayer l2.tar <<'EOF'
whiteout nothere mtime=5
whiteout nodir/a mtime=5
whiteout nodir/sub/b mtime=5
opaque nodir2 mtime=5
opaque d/nodir3 mtime=5
EOF
flatten_x out base.tar l2.tar
is "2.3 whiteouts: whiteout of a missing path does nothing, creates nothing" "$(lst out)" "$(cat <<EOF
d d 0750 0:0 100 - - -
d/f f 0644 0:0 101 $(h f) - -
d/g f 0644 0:0 102 $(h g) - -
d/s l 0777 0:0 103 ->/d/g - -
d/sub d 0755 0:0 104 - - -
d/sub/deep d 0755 0:0 105 - - -
d/sub/deep/x f 0644 0:0 106 $(h x) - -
d/sub/y f 0644 0:0 107 $(h y) - -
EOF
)"

# ... nor under a file, nor through a dangling symlink
mklayer l1.tar <<'EOF'
file f data=x mtime=3
symlink dang nowhere mtime=4
EOF
mklayer l2.tar <<'EOF'
opaque f
whiteout f/x
whiteout dang/y
opaque dang
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: under a file or a dangling symlink: nothing, no error" "$(lst out)" "$(cat <<EOF
dang l 0777 0:0 4 ->nowhere - -
f f 0644 0:0 3 $(h x) - -
EOF
)"

# a whiteout never applies to entries of its own layer
mklayer l1.tar <<'EOF'
file a data=old
file b data=old
EOF
mklayer l2.tar <<'EOF'
file a data=new mtime=5
whiteout a
whiteout b
file b data=new mtime=6
file n data=n mtime=7
whiteout n
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: never apply to same-layer entries, before or after them" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 5 $(h new) - -
b f 0644 0:0 6 $(h new) - -
n f 0644 0:0 7 $(h n) - -
EOF
)"

# whiteout after a same-layer directory holding new files
mklayer l1.tar <<'EOF'
dir d mode=0700 mtime=100
file d/lower data=l
EOF
mklayer l2.tar <<'EOF'
dir d mode=0755 mtime=200
file d/up data=u mtime=201
whiteout d
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: .wh.d after d/ and d/up in one layer keeps the new d" "$(lst out)" "$(cat <<EOF
d d 0755 0:0 200 - - -
d/up f 0644 0:0 201 $(h u) - -
EOF
)"

# .wh.a, then a/b/new: the whiteout removed a and everything under it before
# a/b/new came, so a and a/b are new implicit parents (umoci's order; the
# other order, a/b/new first, keeps them: see "after a/b/new" below)
mklayer l1.tar <<'EOF'
dir a mode=0700 uid=1 gid=1 mtime=100
dir a/b mode=0750 uid=2 gid=2 mtime=200
file a/b/old data=old
file a/other data=other
dir a/c
symlink a/s b
EOF
mklayer l2.tar <<'EOF'
whiteout a
file a/b/new data=new mtime=300
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: a whiteout removes what later entries of its layer pass through" "$(lst out)" "$(cat <<EOF
a d 0755 0:0 300 - - -
a/b d 0755 0:0 300 - - -
a/b/new f 0644 0:0 300 $(h new) - -
EOF
)"
mklayer l2.tar <<'EOF'
file a/b/new data=new mtime=300
opaque a
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: an opaque marker after a/b/new keeps a, a/b and their lower metadata" "$(lst out)" "$(cat <<EOF
a d 0700 1:1 100 - - -
a/b d 0750 2:2 200 - - -
a/b/new f 0644 0:0 300 $(h new) - -
EOF
)"
mklayer l2.tar <<'EOF'
file a/b/new data=new mtime=300
whiteout a
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: .wh.a after a/b/new keeps a, a/b and their lower metadata" "$(lst out)" "$(cat <<EOF
a d 0700 1:1 100 - - -
a/b d 0750 2:2 200 - - -
a/b/new f 0644 0:0 300 $(h new) - -
EOF
)"

# whiteouts are resolved through parent symlinks
mklayer l1.tar <<'EOF'
dir usr
dir usr/bin
file usr/bin/old data=old
file usr/bin/keep data=keep
symlink bin usr/bin
EOF
mklayer l2.tar <<'EOF'
whiteout bin/old
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: bin/.wh.old removes usr/bin/old through bin -> usr/bin" "$(lst out)" "$(cat <<EOF
bin l 0777 0:0 $T0 ->usr/bin - -
usr d 0755 0:0 $T0 - - -
usr/bin d 0755 0:0 $T0 - - -
usr/bin/keep f 0644 0:0 $T0 $(h keep) - -
EOF
)"
mklayer l2.tar <<'EOF'
opaque bin
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: bin/.wh..wh..opq empties usr/bin, keeps the symlink" "$(lst out)" "$(cat <<EOF
bin l 0777 0:0 $T0 ->usr/bin - -
usr d 0755 0:0 $T0 - - -
usr/bin d 0755 0:0 $T0 - - -
EOF
)"

# a whiteout's directory is looked up where the whiteout stands, after the
# layer's earlier entries: a symlink this layer re-pointed before it
# redirects the whiteout to the new target
mklayer l1.tar <<'EOF'
dir one
file one/f data=1
dir two
file two/f data=2
symlink l one
EOF
mklayer l2.tar <<'EOF'
symlink l two
whiteout l/f
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: the directory is looked up after the layer's earlier entries" "$(lst out --fields path,type,detail)" "$(cat <<EOF
l l ->two
one d -
one/f f $(h 1)
two d -
EOF
)"

# old AUFS layers store whiteouts as hardlinks to .wh..wh.aufs
mklayer l1.tar <<'EOF'
dir d
file d/f data=f
file d/g data=g
file d/h data=h
file d/i data=i
file d/j data=j
file top data=t
EOF
mklayer l2.tar <<'EOF'
file .wh..wh.aufs
dir .wh..wh.plnk
hardlink d/.wh.f .wh..wh.aufs
hardlink .wh.top /.wh..wh.aufs
hardlink d/.wh.g nowhere
symlink d/.wh.h whatever
dir d/.wh.i
fifo d/.wh.j
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: recognised by basename whatever the typeflag (AUFS hardlinks)" "$(lst out)" "$(cat <<EOF
d d 0755 0:0 $T0 - - -
EOF
)"

# AUFS metadata is hidden, but hardlinks into .wh..wh.plnk get its content
mklayer l1.tar <<'EOF'
dir usr
dir usr/bin
EOF
mklayer l2.tar <<'EOF'
dir .wh..wh.plnk mode=0700
file .wh..wh.plnk/1234.5678 data=plnk mode=0750 uid=7 gid=8 mtime=55
dir .wh..wh.orph
file .wh..wh.orph/y data=orph
file .wh..wh.aufs
hardlink usr/bin/x .wh..wh.plnk/1234.5678
hardlink usr/bin/y /.wh..wh.plnk/1234.5678
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: .wh..wh.plnk hidden, links into it get its content" "$(lst out)" "$(cat <<EOF
usr d 0755 0:0 $T0 - - -
usr/bin d 0755 0:0 $T0 - - -
usr/bin/x f 0750 7:8 55 $(h plnk) =usr/bin/x -
usr/bin/y f 0750 7:8 55 $(h plnk) =usr/bin/x -
EOF
)"
ok "3 every path once: no .wh. names in the output" \
	sh -c "! tar -tf .flat.tar | grep -q '\.wh\.'"

# an opaque marker at the root empties the lower image
mklayer l1.tar <<'EOF'
file a data=a
dir b
file b/c data=c
EOF
mklayer l2.tar <<'EOF'
raw .wh..wh..opq 0
file c data=new mtime=5
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: an opaque marker at the root keeps only this layer" "$(lst out)" "$(cat <<EOF
c f 0644 0:0 5 $(h new) - -
EOF
)"

# an opaque marker on a directory this layer creates changes nothing
mklayer l2.tar <<'EOF'
dir new mtime=6
file new/x data=x mtime=7
opaque new
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: opaque marker on a directory new in this layer" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 $T0 $(h a) - -
b d 0755 0:0 $T0 - - -
b/c f 0644 0:0 $T0 $(h c) - -
new d 0755 0:0 6 - - -
new/x f 0644 0:0 7 $(h x) - -
EOF
)"

# the whiteout's directory replaced in the same layer
mklayer l1.tar <<'EOF'
dir d
file d/f data=old
file d/g data=g
EOF
mklayer l2.tar <<'EOF'
file d data=x mtime=5
whiteout d/f
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: under a directory this layer replaces by a file" "$(lst out)" "$(cat <<EOF
d f 0644 0:0 5 $(h x) - -
EOF
)"
mklayer l2.tar <<'EOF'
file d data=x
dir d mode=0700 mtime=6
file d/f data=new mtime=7
whiteout d/f
opaque d
EOF
flatten_x out l1.tar l2.tar
is "2.3 whiteouts: under a directory this layer replaces and recreates" "$(lst out)" "$(cat <<EOF
d d 0700 0:0 6 - - -
d/f f 0644 0:0 7 $(h new) - -
EOF
)"

# bare .wh. and .wh.. are errors, with no output
mklayer l1.tar <<'EOF'
dir d
file d/f
EOF
mklayer bare.tar <<'EOF'
raw d/.wh. 0
EOF
fails "2.3 whiteouts: a bare .wh. is an error" . l1.tar bare.tar
mklayer dotdot.tar <<'EOF'
raw d/.wh.. 0
EOF
fails "2.3 whiteouts: .wh.. (leaves its directory) is an error" . l1.tar dotdot.tar
mklayer dotdotdot.tar <<'EOF'
raw d/.wh... 0
EOF
fails "2.3 whiteouts: .wh... is an error" . l1.tar dotdotdot.tar
mklayer rootdot.tar <<'EOF'
raw .wh.. 0
EOF
fails "2.3 whiteouts: .wh.. at the root is an error" . l1.tar rootdot.tar

# A whiteout's removal is seen by the later entries of its layer: they never
# resolve through what it removed (issue 6: tarflat 1.0 wrote etc/x/f)
mklayer site1.tar <<'EOF'
dir home mtime=10
dir etc mtime=11
file etc/old data=old mtime=12
symlink home/site /etc mtime=13
EOF
mklayer site2.tar <<'EOF'
whiteout home/site
dir home/site/x mtime=20
file home/site/x/f data=f mtime=21
EOF
want_site=$(cat <<EOF
etc d 0755 0:0 11 - - -
etc/old f 0644 0:0 12 $(h old) - -
home d 0755 0:0 10 - - -
home/site d 0755 0:0 20 - - -
home/site/x d 0755 0:0 20 - - -
home/site/x/f f 0644 0:0 21 $(h f) - -
EOF
)
flatten_x out site1.tar site2.tar
is "2.3 whiteouts: .wh.site removes the symlink before home/site/x/f: a new directory" \
	"$(lst out)" "$want_site"
mklayer site2o.tar <<'EOF'
opaque home
dir home/site/x mtime=20
file home/site/x/f data=f mtime=21
EOF
flatten_x out site1.tar site2o.tar
is "2.3 whiteouts: home/.wh..wh..opq removes the symlink before home/site/x/f: a new directory" \
	"$(lst out)" "$want_site"
mklayer sitef1.tar <<'EOF'
dir home mtime=10
file target data=t mtime=11
symlink home/site ../target mtime=13
EOF
flatten_x out sitef1.tar site2.tar
is "2.3 whiteouts: .wh.site of a symlink to a file, then home/site/x/f: a new directory, no error" \
	"$(lst out)" "$(cat <<EOF
home d 0755 0:0 10 - - -
home/site d 0755 0:0 20 - - -
home/site/x d 0755 0:0 20 - - -
home/site/x/f f 0644 0:0 21 $(h f) - -
target f 0644 0:0 11 $(h t) - -
EOF
)"
# the same removal through a symlinked parent, and a symlink chain removed
# from its middle: later entries go through what is left
mklayer chain1.tar <<'EOF'
dir d mtime=10
dir real mtime=11
file real/x data=x mtime=12
symlink d/l1 l2 mtime=13
symlink d/l2 ../real mtime=14
symlink via d mtime=15
EOF
mklayer chain2.tar <<'EOF'
whiteout via/l2
file d/l1/y data=y mtime=20
EOF
flatten_x out chain1.tar chain2.tar
is "2.3 whiteouts: a chain cut in its middle dangles: later entries create its target" \
	"$(lst out)" "$(cat <<EOF
d d 0755 0:0 10 - - -
d/l1 l 0777 0:0 13 ->l2 - -
d/l2 d 0755 0:0 20 - - -
d/l2/y f 0644 0:0 20 $(h y) - -
real d 0755 0:0 11 - - -
real/x f 0644 0:0 12 $(h x) - -
via l 0777 0:0 15 ->d - -
EOF
)"
mklayer chain3.tar <<'EOF'
whiteout via/l2
dir d/l2 mtime=20
file d/l1/y data=y mtime=21
EOF
flatten_x out chain1.tar chain3.tar
is "2.3 whiteouts: a chain cut in its middle and mended by a directory" "$(lst out)" "$(cat <<EOF
d d 0755 0:0 10 - - -
d/l1 l 0777 0:0 13 ->l2 - -
d/l2 d 0755 0:0 20 - - -
d/l2/y f 0644 0:0 21 $(h y) - -
real d 0755 0:0 11 - - -
real/x f 0644 0:0 12 $(h x) - -
via l 0777 0:0 15 ->d - -
EOF
)"

done_testing
