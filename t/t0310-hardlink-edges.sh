#!/bin/bash
# tarflat.1 rule 4 hardlinks, continued (t0300 has the main cases): duplicates of a
# pending link's path, links replacing names, opaque directories and link
# groups, 100 links to one file, and the errors (dangling, to a directory).
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"

# plain_x NAME: a plain `tar -x` (no options) of the last flatten succeeds
plain_x() {
	rm -rf "$1" && mkdir "$1" && tar -xf .flat.tar -C "$1"
}

# a pending link (target later in the layer) is still an entry of its own: a
# later entry for the same path wins over it (tarflat.1 rule 4, a path twice in one
# layer), whatever the moment the link would bind
mklayer l1.tar <<'EOF'
hardlink b a
file b data=B mtime=7
file a data=A mtime=8
EOF
flatten_x out l1.tar
is "2.4 a path twice in one layer: a later file wins over a pending hardlink" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 8 $(h A) - -
b f 0644 0:0 7 $(h B) - -
EOF
)"
mklayer l1.tar <<'EOF'
hardlink b a
dir b mtime=7
file b/x data=x mtime=9
file a data=A mtime=8
EOF
flatten_x out l1.tar
is "2.4 a path twice in one layer: a later dir wins over a pending hardlink" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 8 $(h A) - -
b d 0755 0:0 7 - - -
b/x f 0644 0:0 9 $(h x) - -
EOF
)"
mklayer l1.tar <<'EOF'
file c data=C mtime=6
hardlink b a
hardlink b c
file a data=A mtime=8
EOF
flatten_x out l1.tar
is "2.4 a path twice in one layer: a later link wins over a pending hardlink" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 8 $(h A) - -
b f 0644 0:0 6 $(h C) =b -
c f 0644 0:0 6 $(h C) =b -
EOF
)"

# a pending link binds to the target when it appears, even as a symlink
mklayer l1.tar <<'EOF'
hardlink b a
symlink a t mtime=4
EOF
flatten_x out l1.tar
is "2.4 hardlinks: a pending link to a name that appears as a symlink" "$(lst out)" "$(cat <<EOF
a l 0777 0:0 4 ->t =a -
b l 0777 0:0 4 ->t =a -
EOF
)"

# the old name goes first, then the target is looked up (umoci's order): a
# link to a name inside the directory it replaces, to its own name or
# through it finds nothing (t0520, wildstack.py's D2 cases)
mklayer l1.tar <<'EOF'
dir d
file d/f data=F mtime=5
file d/g data=G
EOF
mklayer l2.tar <<'EOF'
hardlink d d/f
EOF
fails "2.4 hardlinks: a dir replaced by a link to a file inside it: error" \
	'd: hardlink target not found: d/f' l1.tar l2.tar
mklayer self.tar <<'EOF'
hardlink d/f d/f
EOF
fails "2.4 hardlinks: a link to its own name: error" \
	'd/f: hardlink target not found: d/f' l1.tar self.tar
mklayer via1.tar <<'EOF'
dir t mtime=1
file t/f data=T mtime=2
symlink s t mtime=3
EOF
mklayer via2.tar <<'EOF'
hardlink s s/f
EOF
fails "2.4 hardlinks: a link that replaces the symlink its target goes through: error" \
	's: hardlink target not found: s/f' via1.tar via2.tar
# a link whose target never appears is dangling even when a later entry of
# the layer writes the link's own name (t0520 seeds 285, 376: umoci refuses)
mklayer never.tar <<'EOF'
hardlink var nowhere/f
file var data=v
EOF
fails "2.4 hardlinks: a superseded link whose target never appears: error" \
	'var: hardlink target not found: nowhere/f' never.tar
mklayer dirlater.tar <<'EOF'
dir var
hardlink var var/tmp
dir var/tmp
EOF
fails "2.4 hardlinks: a superseded link whose target appears as a directory: error" \
	'var: hardlink to a directory: var/tmp' dirlater.tar
mklayer later.tar <<'EOF'
hardlink var f
file var data=v mtime=7
file f data=F mtime=8
EOF
flatten_x out later.tar
is "2.4 hardlinks: a superseded link whose target appears later is dropped" "$(lst out)" "$(cat <<EOF
f f 0644 0:0 8 $(h F) - -
var f 0644 0:0 7 $(h v) - -
EOF
)"
mklayer q1.tar <<'EOF'
dir t mtime=1
dir t/u mtime=2
file t/u/f data=A mtime=3
dir u mtime=4
file u/f data=B mtime=5
dir t/sub mtime=6
symlink s t/sub mtime=7
symlink q s/../u mtime=8
EOF
mklayer q2.tar <<'EOF'
hardlink s q/f
EOF
flatten_x out q1.tar q2.tar
is "2.4 hardlinks: the target is looked up once the link's own name is gone" \
	"$(lst out | grep -E '^(s|u/f|t/u/f) ')" "$(cat <<EOF
s f 0644 0:0 5 $(h B) =s -
t/u/f f 0644 0:0 3 $(h A) - -
u/f f 0644 0:0 5 $(h B) =s -
EOF
)"

# an opaque directory: a same-layer link to a lower name in it, a link group
mklayer l1.tar <<'EOF'
dir d
file d/f data=F mtime=5
file d/z data=Z
hardlink e/g d/f
EOF
mklayer l2.tar <<'EOF'
opaque d
hardlink d/g d/f
EOF
fails "2.3/2.4 opaque dir: a later link in the layer to a name it removed: error" \
	'd/g: hardlink target not found: d/f' l1.tar l2.tar
mklayer l2.tar <<'EOF'
hardlink d/g d/f
opaque d
EOF
flatten_x out l1.tar l2.tar
is "2.3/2.4 opaque dir: a link made before the marker keeps the inode" "$(lst out)" "$(cat <<EOF
d d 0755 0:0 $T0 - - -
d/g f 0644 0:0 5 $(h F) =d/g -
e d 0755 0:0 $T0 - - -
e/g f 0644 0:0 5 $(h F) =d/g -
EOF
)"
mklayer l2.tar <<'EOF'
opaque d
file d/f data=new
EOF
flatten_x out l1.tar l2.tar
is "2.5 opaque dir recreating a linked name: the other name keeps the old bytes" "$(lst out)" "$(cat <<EOF
d d 0755 0:0 $T0 - - -
d/f f 0644 0:0 $T0 $(h new) - -
e d 0755 0:0 $T0 - - -
e/g f 0644 0:0 5 $(h F) - -
EOF
)"

# a link replaces whatever had its name
mklayer l1.tar <<'EOF'
file a data=A mtime=10
file b data=B
dir d
file d/x data=x
EOF
mklayer l2.tar <<'EOF'
hardlink b a
hardlink d a
EOF
flatten_x out l1.tar l2.tar
is "2.4 hardlinks: a link replaces a file and a directory with its subtree" "$(lst out)" "$(cat <<EOF
a f 0644 0:0 10 $(h A) =a -
b f 0644 0:0 10 $(h A) =a -
d f 0644 0:0 10 $(h A) =a -
EOF
)"

# a target directory replaced by a file: the link keeps the old inode
mklayer l1.tar <<'EOF'
dir d
file d/f data=A mtime=10
hardlink g d/f
EOF
mklayer l2.tar <<'EOF'
file d data=D mtime=20
EOF
flatten_x out l1.tar l2.tar
is "2.5 overwrite breaks links: target's directory replaced by a file" "$(lst out)" "$(cat <<EOF
d f 0644 0:0 20 $(h D) - -
g f 0644 0:0 10 $(h A) - -
EOF
)"

# one hundred links to one file
{
	echo "dir bin"
	echo "file bin/busybox size=3000 mode=0755 mtime=77"
	for i in $(seq 1 100); do echo "hardlink bin/l$i bin/busybox"; done
} >many.spec
mklayer many.tar <many.spec
flatten_x out many.tar
B=$(hsz 3000)
want=$(
	echo "bin d 0755 0:0 $T0 - - -"
	for n in busybox $(seq 1 100 | sed 's/^/l/'); do
		echo "bin/$n f 0755 0:0 77 $B =bin/busybox -"
	done | sort
)
is "2.4 hardlinks: 100 links to one file share one inode" "$(lst out)" "$want"
is "3 hardlinks: one carrier with the bytes, 100 type-1 entries" \
	"$(members .flat.tar | awk '{print $2}' | sort | uniq -c | tr -s ' ')" \
	"$(printf ' 1 0\n 100 1\n 1 5')"
ok "3 hardlinks: 100 links, extracts with plain tar -x" plain_x plain7

# errors: a target that never exists, a target that is a directory
mklayer dang.tar <<'EOF'
file a data=A
hardlink b nothere
EOF
fails "2.4 hardlinks: dangling link -> error" "hardlink|link|not found" dang.tar
mklayer gone1.tar <<'EOF'
file a data=A
EOF
mklayer gone2.tar <<'EOF'
whiteout a
EOF
mklayer gone3.tar <<'EOF'
hardlink b a
EOF
fails "2.4 hardlinks: link to a name deleted by an earlier layer -> error" . \
	gone1.tar gone2.tar gone3.tar
mklayer dir1.tar <<'EOF'
dir d
EOF
mklayer dir2.tar <<'EOF'
hardlink l d
EOF
fails "2.4 hardlinks: link to a directory -> error" "director" dir1.tar dir2.tar
mklayer dir3.tar <<'EOF'
hardlink l d
dir d
EOF
fails "2.4 hardlinks: link to a directory later in the layer -> error" "director" dir3.tar

done_testing
