#!/bin/bash
# tarflat.1 rule 4 Other entries: an existing path is unlinked first (a directory with
# its whole subtree) unless both are directories, which merge (the entry's
# metadata replaces the old, children stay); a path twice in one layer: the
# later wins. 2.5: overwriting a name gives it a new inode; the other names of
# the old inode keep the old bytes and metadata.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"

# file -> directory
mklayer l1.tar <<'EOF'
file x data=F mode=0600 mtime=10
EOF
mklayer l2.tar <<'EOF'
dir x mode=0700 uid=1 gid=2 mtime=20
file x/y data=y mtime=21
EOF
flatten_x out l1.tar l2.tar
is "2.4 replace: a file replaced by a directory" "$(lst out)" "$(cat <<EOF
x d 0700 1:2 20 - - -
x/y f 0644 0:0 21 $(h y) - -
EOF
)"

# a file replaced by an implicit directory? no: that is a file used as a
# directory (t0110); a file replaced by a directory whose children come first
mklayer l2.tar <<'EOF'
dir x mode=0700 mtime=20
EOF
mklayer l3.tar <<'EOF'
file x/z data=z mtime=30
EOF
flatten_x out l1.tar l2.tar l3.tar
is "2.4 replace: file replaced by a directory, later layer fills it" "$(lst out)" "$(cat <<EOF
x d 0700 0:0 20 - - -
x/z f 0644 0:0 30 $(h z) - -
EOF
)"

# directory -> file: the subtree goes
mklayer l1.tar <<'EOF'
dir x mode=0700 mtime=10
dir x/sub
file x/sub/z data=z
file x/y data=y
symlink x/s y
EOF
mklayer l2.tar <<'EOF'
file x data=F mtime=20
EOF
flatten_x out l1.tar l2.tar
is "2.4 replace: a directory replaced by a file loses its subtree" "$(lst out)" "$(cat <<EOF
x f 0644 0:0 20 $(h F) - -
EOF
)"

# directory -> symlink
mklayer l2.tar <<'EOF'
symlink x /elsewhere mtime=20
EOF
flatten_x out l1.tar l2.tar
is "2.4 replace: a directory replaced by a symlink loses its subtree" "$(lst out)" "$(cat <<EOF
x l 0777 0:0 20 ->/elsewhere - -
EOF
)"

# directory -> file -> directory again: the old children do not come back
mklayer l3.tar <<'EOF'
dir x mode=0755 mtime=30
EOF
flatten_x out l1.tar l2.tar l3.tar
is "2.4 replace: dir, then file, then dir again: old children gone" "$(lst out)" "$(cat <<EOF
x d 0755 0:0 30 - - -
EOF
)"

# symlink -> directory: the final component is not followed, the target stays
mklayer l1.tar <<'EOF'
dir real mtime=10
file real/a data=a mtime=11
symlink x real mtime=12
EOF
mklayer l2.tar <<'EOF'
dir x mode=0711 mtime=20
file x/new data=new mtime=21
EOF
flatten_x out l1.tar l2.tar
is "2.4 replace: a symlink replaced by a directory" "$(lst out)" "$(cat <<EOF
real d 0755 0:0 10 - - -
real/a f 0644 0:0 11 $(h a) - -
x d 0711 0:0 20 - - -
x/new f 0644 0:0 21 $(h new) - -
EOF
)"

# directory over directory: metadata replaced, children kept
mklayer l1.tar <<'EOF'
dir d mode=0700 uid=1 gid=1 mtime=100
file d/a data=a
dir d/s mode=0750 mtime=110
file d/s/b data=b
EOF
mklayer l2.tar <<'EOF'
dir d mode=1775 uid=2 gid=3 mtime=200
file d/c data=c mtime=201
dir d/s mode=0755 uid=4 gid=4 mtime=210
EOF
flatten_x out l1.tar l2.tar
is "2.4 replace: dir over dir merges, the entry's metadata replaces the old" "$(lst out)" "$(cat <<EOF
d d 1775 2:3 200 - - -
d/a f 0644 0:0 $T0 $(h a) - -
d/c f 0644 0:0 201 $(h c) - -
d/s d 0755 4:4 210 - - -
d/s/b f 0644 0:0 $T0 $(h b) - -
EOF
)"

# a path twice in one layer: the later entry wins
mklayer l1.tar <<'EOF'
file a data=1 mtime=1
file a data=2 mtime=2
dir d mode=0700 mtime=3
file d/k data=k
dir d mode=0750 mtime=4
file x data=x
dir x mode=0711 mtime=5
file x/y data=y mtime=6
dir y mtime=7
file y/z data=z
file y data=F mtime=8
symlink s a
file s data=S mtime=9
EOF
flatten_x out l1.tar
is "2.4 replace: a path twice in one layer, the later wins" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 2 $(h 2) - -
d d 0750 0:0 4 - - -
d/k f 0644 0:0 $T0 $(h k) - -
s f 0644 0:0 9 $(h S) - -
x d 0711 0:0 5 - - -
x/y f 0644 0:0 6 $(h y) - -
y f 0644 0:0 8 $(h F) - -
EOF
)"

# overwrite breaks links, across layers
mklayer l1.tar <<'EOF'
file a data=A mode=0600 uid=1 mtime=10
hardlink b a
hardlink c a
EOF
mklayer l2.tar <<'EOF'
file b data=B mode=0644 mtime=20
EOF
flatten_x out l1.tar l2.tar
is "2.5 overwrite breaks links: other names keep old bytes and metadata" "$(lst out)" "$(cat <<EOF
a f 0600 1:0 10 $(h A) =a -
b f 0644 0:0 20 $(h B) - -
c f 0600 1:0 10 $(h A) =a -
EOF
)"

# overwrite breaks links, in the same layer
mklayer l1.tar <<'EOF'
file a data=A mode=0600 mtime=10
hardlink b a
file a data=A2 mtime=20
EOF
flatten_x out l1.tar
is "2.5 overwrite breaks links: in the same layer" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 20 $(h A2) - -
b f 0600 0:0 10 $(h A) - -
EOF
)"

# replacing a linked name by a directory or a symlink
mklayer l1.tar <<'EOF'
file a data=A mtime=10
hardlink b a
hardlink c a
hardlink d a
EOF
mklayer l2.tar <<'EOF'
dir b mtime=20
symlink c a mtime=21
EOF
flatten_x out l1.tar l2.tar
is "2.5 overwrite breaks links: name replaced by a dir and a symlink" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 10 $(h A) =a -
b d 0755 0:0 20 - - -
c l 0777 0:0 21 ->a - -
d f 0644 0:0 10 $(h A) =a -
EOF
)"

# deleting a name never deletes an inode that still has names
mklayer l2.tar <<'EOF'
whiteout a
whiteout c
EOF
flatten_x out l1.tar l2.tar
is "2.5 deleting a name keeps the inode for its other names" "$(lst out)" "$(cat <<EOF
b f 0644 0:0 10 $(h A) =b -
d f 0644 0:0 10 $(h A) =b -
EOF
)"

# replacement through a symlinked parent replaces the real path
mklayer l1.tar <<'EOF'
dir usr
dir usr/lib
file usr/lib/x data=old mtime=10
symlink lib usr/lib
EOF
mklayer l2.tar <<'EOF'
file lib/x data=new mtime=20
EOF
flatten_x out l1.tar l2.tar
is "2.4 replace: through a parent symlink the real path is replaced" "$(lst out)" "$(cat <<EOF
lib l 0777 0:0 $T0 ->usr/lib - -
usr d 0755 0:0 $T0 - - -
usr/lib d 0755 0:0 $T0 - - -
usr/lib/x f 0644 0:0 20 $(h new) - -
EOF
)"

done_testing
