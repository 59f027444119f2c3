#!/bin/bash
# tarflat.1 rule 4 hardlinks and rule 5 overwriting breaks links, plus the hardlink rules of
# OUTPUT (one carrier per inode, links after it, carrier where the bytes
# stood). The output must extract with a plain `tar -x`.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"

# plain_x NAME: a plain `tar -x` (no options) of the last flatten succeeds
plain_x() {
	rm -rf "$1" && mkdir "$1" && tar -xf .flat.tar -C "$1"
}

# go-containerregistry issue 977: a link whose target a later layer deletes
mklayer l1.tar <<'EOF'
dir usr
dir usr/bin
file usr/bin/a-first data=first
file usr/bin/git size=70000 mode=0755 mtime=500
file usr/bin/zz data=zz
hardlink usr/bin/git-receive-pack usr/bin/git
EOF
mklayer l2.tar <<'EOF'
whiteout usr/bin/git
EOF
flatten_x out l1.tar l2.tar
G=$(hsz 70000)
is "issue 977: one link to a deleted target keeps the bytes" "$(lst out)" "$(cat <<EOF
usr d 0755 0:0 $T0 - - -
usr/bin d 0755 0:0 $T0 - - -
usr/bin/a-first f 0644 0:0 $T0 $(h first) - -
usr/bin/git-receive-pack f 0755 0:0 500 $G - -
usr/bin/zz f 0644 0:0 $T0 $(h zz) - -
EOF
)"
ok "issue 977: one link, output extracts with plain tar -x" plain_x plain1
is "3 hardlinks: a sole surviving link name stands where the deleted target stood" \
	"$(members .flat.tar)" "$(cat <<'EOF'
usr 5 -
usr/bin 5 -
usr/bin/a-first 0 -
usr/bin/git-receive-pack 0 -
usr/bin/zz 0 -
EOF
)"

mklayer l1.tar <<'EOF'
dir usr
dir usr/bin
file usr/bin/a-first data=first
file usr/bin/git size=70000 mode=0755 mtime=500
file usr/bin/zz data=zz
hardlink usr/bin/git-receive-pack usr/bin/git
hardlink usr/bin/git-upload-pack usr/bin/git
hardlink usr/bin/git-upload-archive usr/bin/git
dir usr/libexec
hardlink usr/libexec/git-shell usr/bin/git
EOF
flatten_x out l1.tar l2.tar
is "issue 977: several links to a deleted target share one inode" "$(lst out)" "$(cat <<EOF
usr d 0755 0:0 $T0 - - -
usr/bin d 0755 0:0 $T0 - - -
usr/bin/a-first f 0644 0:0 $T0 $(h first) - -
usr/bin/git-receive-pack f 0755 0:0 500 $G =usr/bin/git-receive-pack -
usr/bin/git-upload-archive f 0755 0:0 500 $G =usr/bin/git-receive-pack -
usr/bin/git-upload-pack f 0755 0:0 500 $G =usr/bin/git-receive-pack -
usr/bin/zz f 0644 0:0 $T0 $(h zz) - -
usr/libexec d 0755 0:0 $T0 - - -
usr/libexec/git-shell f 0755 0:0 500 $G =usr/bin/git-receive-pack -
EOF
)"
ok "issue 977: several links, output extracts with plain tar -x" plain_x plain2
is "3 hardlinks: carrier stands where the byte-supplying entry stood, links follow" \
	"$(members .flat.tar)" "$(cat <<'EOF'
usr 5 -
usr/bin 5 -
usr/bin/a-first 0 -
usr/bin/git-receive-pack 0 -
usr/bin/zz 0 -
usr/bin/git-upload-pack 1 usr/bin/git-receive-pack
usr/bin/git-upload-archive 1 usr/bin/git-receive-pack
usr/libexec 5 -
usr/libexec/git-shell 1 usr/bin/git-receive-pack
EOF
)"

# an overwritten target: the links keep the old bytes and metadata
mklayer l1.tar <<'EOF'
file a data=old mode=0600 uid=3 gid=4 mtime=100
hardlink b a
hardlink c a
EOF
mklayer l2.tar <<'EOF'
file a data=new mode=0644 mtime=200
EOF
flatten_x out l1.tar l2.tar
is "2.5 overwrite breaks links: overwritten target, links keep old bytes" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 200 $(h new) - -
b f 0600 3:4 100 $(h old) =b -
c f 0600 3:4 100 $(h old) =b -
EOF
)"
ok "2.5 overwrite breaks links: extracts with plain tar -x" plain_x plain3

# a chain a, b->a, c->b with the middle deleted, or the head deleted
mklayer l1.tar <<'EOF'
file a data=A mtime=10
hardlink b a
hardlink c b
EOF
mklayer l2.tar <<'EOF'
whiteout b
EOF
flatten_x out l1.tar l2.tar
is "2.4 hardlinks: chain a, b->a, c->b with b deleted" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 10 $(h A) =a -
c f 0644 0:0 10 $(h A) =a -
EOF
)"
mklayer l2.tar <<'EOF'
whiteout a
EOF
flatten_x out l1.tar l2.tar
is "2.4 hardlinks: chain a, b->a, c->b with a deleted" "$(lst out)" "$(cat <<EOF
b f 0644 0:0 10 $(h A) =b -
c f 0644 0:0 10 $(h A) =b -
EOF
)"
ok "2.4 hardlinks: chain, extracts with plain tar -x" plain_x plain4

# a cross-layer link; then the target is overwritten, or deleted
mklayer l1.tar <<'EOF'
dir d
file d/f data=one mode=0640 mtime=10
EOF
mklayer l2.tar <<'EOF'
hardlink g d/f
EOF
mklayer l3.tar <<'EOF'
file d/f data=two mtime=30
EOF
flatten_x out l1.tar l2.tar
is "2.4 hardlinks: link in layer 2 to a file of layer 1" "$(lst out)" "$(cat <<EOF
d d 0755 0:0 $T0 - - -
d/f f 0640 0:0 10 $(h one) =d/f -
g f 0640 0:0 10 $(h one) =d/f -
EOF
)"
flatten_x out l1.tar l2.tar l3.tar
is "2.4 hardlinks: cross-layer link, layer 3 overwrites the target" "$(lst out)" "$(cat <<EOF
d d 0755 0:0 $T0 - - -
d/f f 0644 0:0 30 $(h two) - -
g f 0640 0:0 10 $(h one) - -
EOF
)"
mklayer l3.tar <<'EOF'
whiteout d
EOF
flatten_x out l1.tar l2.tar l3.tar
is "2.4 hardlinks: cross-layer link, layer 3 deletes the target's directory" "$(lst out)" "$(cat <<EOF
g f 0640 0:0 10 $(h one) - -
EOF
)"
ok "2.4 hardlinks: cross-layer, extracts with plain tar -x" plain_x plain5
mklayer l1.tar <<'EOF'
dir bin
file bin/a data=A
file bin/b data=B
EOF
mklayer l2.tar <<'EOF'
hardlink bin/c bin/a
hardlink bin/d bin/a
EOF
mklayer l3.tar <<'EOF'
whiteout bin/a
EOF
flatten .flat.tar l1.tar l2.tar l3.tar
is "3 hardlinks: a carrier from a later layer takes the place of the bytes' entry" \
	"$(members .flat.tar)" "$(printf 'bin 5 -\nbin/c 0 -\nbin/b 0 -\nbin/d 1 bin/c')"
mklayer l2.tar <<'EOF'
hardlink bin/c bin/a
EOF
flatten .flat.tar l1.tar l2.tar l3.tar
is "3 hardlinks: ... also when it is the only name left" \
	"$(members .flat.tar)" "$(printf 'bin 5 -\nbin/c 0 -\nbin/b 0 -')"

# a link before its target in the same layer
mklayer l1.tar <<'EOF'
hardlink b a
hardlink x/y d/f
hardlink c b
file a data=A mtime=10
dir d mtime=20
file d/f data=F mtime=21
EOF
flatten_x out l1.tar
is "2.4 hardlinks: target later in the same layer (also via a later link)" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 10 $(h A) =a -
b f 0644 0:0 10 $(h A) =a -
c f 0644 0:0 10 $(h A) =a -
d d 0755 0:0 20 - - -
d/f f 0644 0:0 21 $(h F) =d/f -
x d 0755 0:0 $T0 - - -
x/y f 0644 0:0 21 $(h F) =d/f -
EOF
)"
ok "2.4 hardlinks: link before target, extracts with plain tar -x" plain_x plain6

# the link names the inode its target names at that moment
mklayer l1.tar <<'EOF'
file a data=old mtime=10
EOF
mklayer l2.tar <<'EOF'
hardlink b a
file a data=new mtime=20
EOF
flatten_x out l1.tar l2.tar
is "2.4 hardlinks: link binds to the inode named at that moment" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 20 $(h new) - -
b f 0644 0:0 10 $(h old) - -
EOF
)"

# a whiteout's removal is seen by the later entries of its layer: a link to
# the name it removed dangles (umoci refuses it too)
mklayer l2.tar <<'EOF'
whiteout a
hardlink b a
EOF
fails "2.3/2.4 link to a name whited out earlier in the same layer: error" \
	'b: hardlink target not found: a' l1.tar l2.tar
# ... while a link that comes before the whiteout keeps the lower inode
mklayer l2.tar <<'EOF'
hardlink b a
whiteout a
EOF
flatten_x out l1.tar l2.tar
is "2.3/2.4 link made before the same layer whites out its target keeps the inode" "$(lst out)" "$(cat <<EOF
b f 0644 0:0 10 $(h old) - -
EOF
)"

# a link to a symlink links the symlink
mklayer l1.tar <<'EOF'
file t data=T
symlink s t uid=5 mtime=50
hardlink h s
EOF
flatten_x out l1.tar
is "2.4 hardlinks: a link to a symlink links the symlink" "$(lst out)" "$(cat <<EOF
h l 0777 5:0 50 ->t =h -
s l 0777 5:0 50 ->t =h -
t f 0644 0:0 $T0 $(h T) - -
EOF
)"

# the target is parent-resolved; its final component is not followed
mklayer l1.tar <<'EOF'
dir real
file real/f data=R mtime=10
symlink d real
EOF
mklayer l2.tar <<'EOF'
hardlink g d/f
EOF
flatten_x out l1.tar l2.tar
is "2.4 hardlinks: target resolved through a parent symlink" "$(lst out)" "$(cat <<EOF
d l 0777 0:0 $T0 ->real - -
g f 0644 0:0 10 $(h R) =g -
real d 0755 0:0 $T0 - - -
real/f f 0644 0:0 10 $(h R) =g -
EOF
)"

# the link entry's own mode, owner and mtime are not applied
mklayer l1.tar <<'EOF'
file f data=F mode=0600 uid=1 gid=2 mtime=100
hardlink g f mode=0777 uid=5 gid=6 mtime=999
EOF
mklayer l2.tar <<'EOF'
hardlink h f mode=4755 uid=7 gid=8 mtime=888
EOF
flatten_x out l1.tar l2.tar
is "2.4 hardlinks: the link entry's mode/owner/mtime are not applied" "$(lst out)" "$(cat <<EOF
f f 0600 1:2 100 $(h F) =f -
g f 0600 1:2 100 $(h F) =f -
h f 0600 1:2 100 $(h F) =f -
EOF
)"

done_testing
