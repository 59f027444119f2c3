#!/bin/bash
# tarflat.1 rule 2 Parent resolution: directory components are looked up in the tree as
# it stands and symlinks among them are followed (absolute targets from the
# image root, .. clamped at the root, at most 40 hops); the final component is
# never followed; missing parents are created 0755 0:0 with the mtime of the
# entry that needed them, and inside a setgid directory setgid with its
# group, link by link (mkdir(2) on Linux, so umoci); a parent that is not a
# directory is an error.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"

# absolute symlink target: starts at the image root
mklayer l1.tar <<'EOF'
dir real mtime=10
symlink link /real mtime=11
EOF
mklayer l2.tar <<'EOF'
file link/f data=abs mtime=20
file /link/g data=abs2 mtime=21
EOF
flatten_x out l1.tar l2.tar
is "2.2 parents: absolute symlink target followed from the image root" "$(lst out)" "$(cat <<EOF
link l 0777 0:0 11 ->/real - -
real d 0755 0:0 10 - - -
real/f f 0644 0:0 20 $(h abs) - -
real/g f 0644 0:0 21 $(h abs2) - -
EOF
)"

# relative symlink target: relative to the symlink's directory
mklayer l1.tar <<'EOF'
dir a mtime=10
dir a/b mtime=11
symlink a/l b mtime=12
symlink a/up ../top mtime=13
dir top mtime=14
EOF
mklayer l2.tar <<'EOF'
file a/l/f data=rel mtime=20
file a/up/g data=up mtime=21
EOF
flatten_x out l1.tar l2.tar
is "2.2 parents: relative symlink targets followed from the link's directory" "$(lst out)" "$(cat <<EOF
a d 0755 0:0 10 - - -
a/b d 0755 0:0 11 - - -
a/b/f f 0644 0:0 20 $(h rel) - -
a/l l 0777 0:0 12 ->b - -
a/up l 0777 0:0 13 ->../top - -
top d 0755 0:0 14 - - -
top/g f 0644 0:0 21 $(h up) - -
EOF
)"

# .. in a symlink target is clamped at the root
mklayer l1.tar <<'EOF'
dir t mtime=10
dir x mtime=11
symlink x/up ../../../t mtime=12
symlink x/abs /../../t/. mtime=13
EOF
mklayer l2.tar <<'EOF'
file x/up/f data=F mtime=20
file x/abs/g data=G mtime=21
EOF
flatten_x out l1.tar l2.tar
is "2.2 parents: .. in symlink targets clamped at the root" "$(lst out)" "$(cat <<EOF
t d 0755 0:0 10 - - -
t/f f 0644 0:0 20 $(h F) - -
t/g f 0644 0:0 21 $(h G) - -
x d 0755 0:0 11 - - -
x/abs l 0777 0:0 13 ->/../../t/. - -
x/up l 0777 0:0 12 ->../../../t - -
EOF
)"

# a symlink whose target passes through another symlink
mklayer l1.tar <<'EOF'
dir d mtime=10
dir d/c mtime=11
symlink b d mtime=12
symlink a b/c mtime=13
EOF
mklayer l2.tar <<'EOF'
file a/x data=X mtime=20
EOF
flatten_x out l1.tar l2.tar
is "2.2 parents: symlink target through another symlink" "$(lst out)" "$(cat <<EOF
a l 0777 0:0 13 ->b/c - -
b l 0777 0:0 12 ->d - -
d d 0755 0:0 10 - - -
d/c d 0755 0:0 11 - - -
d/c/x f 0644 0:0 20 $(h X) - -
EOF
)"

# merged /usr: bin -> usr/bin below, bin/tool above
mklayer l1.tar <<'EOF'
dir usr mtime=10
dir usr/bin mtime=11
file usr/bin/sh data=sh mode=0755 mtime=12
symlink bin usr/bin mtime=13
EOF
mklayer l2.tar <<'EOF'
file bin/tool data=tool mode=0755 mtime=20
file /bin/tool2 data=tool2 mode=0755 mtime=21
file ./bin/sub/x data=x mtime=22
EOF
flatten_x out l1.tar l2.tar
is "2.2 parents: merged-usr, bin/tool lands in usr/bin and bin stays a symlink" "$(lst out)" "$(cat <<EOF
bin l 0777 0:0 13 ->usr/bin - -
usr d 0755 0:0 10 - - -
usr/bin d 0755 0:0 11 - - -
usr/bin/sh f 0755 0:0 12 $(h sh) - -
usr/bin/sub d 0755 0:0 22 - - -
usr/bin/sub/x f 0644 0:0 22 $(h x) - -
usr/bin/tool f 0755 0:0 20 $(h tool) - -
usr/bin/tool2 f 0755 0:0 21 $(h tool2) - -
EOF
)"

# a symlink made earlier in the same layer is followed; one replaced later
# in the layer does not move what was already placed through it
mklayer l1.tar <<'EOF'
dir real mtime=10
symlink s real mtime=11
file s/f data=f mtime=12
symlink s real2 mtime=13
file s/g data=g mtime=14
EOF
flatten_x out l1.tar
is "2.2 parents: symlinks of the same layer, as they stand at each entry" "$(lst out)" "$(cat <<EOF
real d 0755 0:0 10 - - -
real/f f 0644 0:0 12 $(h f) - -
real2 d 0755 0:0 14 - - -
real2/g f 0644 0:0 14 $(h g) - -
s l 0777 0:0 13 ->real2 - -
EOF
)"

# the final component is never followed
mklayer l1.tar <<'EOF'
dir d mtime=10
file f data=old mtime=11
symlink ld d mtime=12
symlink lf f mtime=13
EOF
mklayer l2.tar <<'EOF'
file ld data=new1 mtime=20
file lf data=new2 mtime=21
EOF
flatten_x out l1.tar l2.tar
is "2.2 parents: the final component is never followed" "$(lst out)" "$(cat <<EOF
d d 0755 0:0 10 - - -
f f 0644 0:0 11 $(h old) - -
ld f 0644 0:0 20 $(h new1) - -
lf f 0644 0:0 21 $(h new2) - -
EOF
)"

# missing parents: 0755 0:0 with the mtime of the entry that needed them
mklayer l1.tar <<'EOF'
file a/b/c/f data=f mode=0600 uid=5 gid=6 mtime=1234
file a/b/d/g data=g mtime=999
symlink p/q/s target mtime=42
hardlink h/l a/b/c/f mtime=77
EOF
flatten_x out l1.tar
is "2.2 parents: missing parents created 0755 0:0 with the needing entry's mtime" "$(lst out)" "$(cat <<EOF
a d 0755 0:0 1234 - - -
a/b d 0755 0:0 1234 - - -
a/b/c d 0755 0:0 1234 - - -
a/b/c/f f 0600 5:6 1234 $(h f) =a/b/c/f -
a/b/d d 0755 0:0 999 - - -
a/b/d/g f 0644 0:0 999 $(h g) - -
h d 0755 0:0 77 - - -
h/l f 0600 5:6 1234 $(h f) =a/b/c/f -
p d 0755 0:0 42 - - -
p/q d 0755 0:0 42 - - -
p/q/s l 0777 0:0 42 ->target - -
EOF
)"

# an implicit parent later given by a directory entry takes its metadata
mklayer l1.tar <<'EOF'
file a/f data=f mtime=5
dir a mode=0700 uid=3 gid=4 mtime=77
EOF
mklayer l2.tar <<'EOF'
file a/g/h data=h mtime=6
EOF
flatten_x out l1.tar l2.tar
is "2.2 parents: implicit parent then a dir entry merges; later implicit parent" "$(lst out)" "$(cat <<EOF
a d 0700 3:4 77 - - -
a/f f 0644 0:0 5 $(h f) - -
a/g d 0755 0:0 6 - - -
a/g/h f 0644 0:0 6 $(h h) - -
EOF
)"

# a dangling symlink as parent: its target is the missing parent
mklayer l1.tar <<'EOF'
symlink s nowhere mtime=3
EOF
mklayer l2.tar <<'EOF'
file s/x data=x mtime=5
EOF
flatten_x out l1.tar l2.tar
is "2.2 parents: parent through a dangling symlink is created at its target" "$(lst out)" "$(cat <<EOF
nowhere d 0755 0:0 5 - - -
nowhere/x f 0644 0:0 5 $(h x) - -
s l 0777 0:0 3 ->nowhere - -
EOF
)"

# a parent that exists but is not a directory is an error
mklayer l1.tar <<'EOF'
file a data=a
EOF
mklayer l2.tar <<'EOF'
file a/b data=b
EOF
fails "2.2 parents: parent is a file (lower layer) -> error" . l1.tar l2.tar
mklayer l3.tar <<'EOF'
file a data=a
file a/b data=b
EOF
fails "2.2 parents: parent is a file (same layer) -> error" . l3.tar
mklayer l4.tar <<'EOF'
file f data=a
symlink s f
EOF
mklayer l5.tar <<'EOF'
file s/x data=b
EOF
fails "2.2 parents: parent is a symlink to a file -> error" . l4.tar l5.tar
mklayer l6.tar <<'EOF'
fifo p
file p/x data=b
EOF
fails "2.2 parents: parent is a fifo -> error" . l6.tar

# symlink loops
mklayer l1.tar <<'EOF'
symlink a b
symlink b a
EOF
mklayer l2.tar <<'EOF'
file a/x data=x
EOF
fails "2.2 parents: symlink loop a->b->a -> error" . l1.tar l2.tar
mklayer l3.tar <<'EOF'
symlink s s
file s/x data=x
EOF
fails "2.2 parents: symlink to itself -> error" . l3.tar
mklayer l4.tar <<'EOF'
symlink s /s/
EOF
mklayer l5.tar <<'EOF'
file s/x data=x
EOF
fails "2.2 parents: absolute symlink to itself -> error" . l4.tar l5.tar

# the 40-hop limit: s1 -> s2 -> ... -> s40 -> d is 40 hops and resolves,
# s0 -> s1 is 41 and fails, as on Linux
{
	echo "dir d"
	for i in $(seq 1 39); do echo "symlink s$i s$((i + 1))"; done
	echo "symlink s40 d"
	echo "symlink s0 s1"
} >chain.spec
mklayer chain.tar <chain.spec
mklayer ok40.tar <<'EOF'
file s1/x data=x mtime=7
EOF
flatten_x out chain.tar ok40.tar
is "2.2 parents: 40 symlink hops are followed" "$(lst out --fields path,type,mtime | grep '^d')" "$(cat <<EOF
d d $T0
d/x f 7
EOF
)"
mklayer bad41.tar <<'EOF'
file s0/x data=x
EOF
fails "2.2 parents: 41 symlink hops -> error" . chain.tar bad41.tar
# the 40 hops are counted over the whole name, not per component
{
	echo "dir d1"
	echo "dir d1/d2"
	for i in $(seq 1 19); do echo "symlink s$i s$((i + 1))"; done
	echo "symlink s20 d1"
	echo "symlink s0 s1"
	for i in $(seq 1 19); do echo "symlink d1/t$i t$((i + 1))"; done
	echo "symlink d1/t20 d2"
} >two.spec
mklayer two.tar <two.spec
mklayer two-ok.tar <<'EOF'
file s1/t1/x data=x mtime=8
EOF
flatten_x out two.tar two-ok.tar
is "2.2 parents: 20 + 20 hops in two components are followed" \
	"$(lst out --fields path,type,mtime | grep '^d1/d2')" "$(printf 'd1/d2 d %s\nd1/d2/x f 8' $T0)"
mklayer two-bad.tar <<'EOF'
file s0/t1/x data=x
EOF
fails "2.2 parents: 21 + 20 hops in two components -> error" . two.tar two-bad.tar
# the kernel agrees on the boundary (an independent check of the test itself)
mkdir -p kern/d && (cd kern && for i in $(seq 1 39); do ln -s s$((i + 1)) s$i; done &&
	ln -s d s40 && ln -s s1 s0)
ok "2.2 parents: (reference) Linux follows 40 hops" test -d kern/s1/.
ok "2.2 parents: (reference) Linux refuses 41 hops" sh -c '! test -d kern/s0/.'

# '..' in a symlink target takes back a component that does not exist or is
# not a directory, lexically, as umoci's path resolution does: nothing is
# created for it (t0520 seeds 8 and 9: tarflat made /gone and /c/bin)
mklayer climb1.tar <<'EOF'
dir etc mtime=10
dir home mtime=11
dir usr mtime=12
file c data=c mtime=13
symlink usr/up /gone/../etc mtime=14
symlink usr/fu ../c/../home mtime=15
symlink usr/bad ../c/d mtime=16
EOF
mklayer climb2.tar <<'EOF'
file usr/up/x/f data=f mtime=20
file usr/fu/i/g data=g mtime=21
EOF
flatten_x out climb1.tar climb2.tar
is "2.2 parents: a missing component then '..' in a symlink target creates nothing" \
	"$(lst out --fields path,type,mode,owner,mtime)" "$(cat <<'EOF'
c f 0644 0:0 13
etc d 0755 0:0 10
etc/x d 0755 0:0 20
etc/x/f f 0644 0:0 20
home d 0755 0:0 11
home/i d 0755 0:0 21
home/i/g f 0644 0:0 21
usr d 0755 0:0 12
usr/bad l 0777 0:0 16
usr/fu l 0777 0:0 15
usr/up l 0777 0:0 14
EOF
)"
mklayer climb3.tar <<'EOF'
file usr/bad/f data=f
EOF
fails "2.2 parents: a file in a symlink target with no '..' after it -> error" \
	'usr/bad/f: a parent is not a directory' climb1.tar climb3.tar
mklayer climb4.tar <<'EOF'
hardlink usr/h usr/up/../../etc/../c
EOF
flatten_x out climb1.tar climb4.tar
is "2.2 parents: a hardlink target through a climbing symlink" \
	"$(lst out | grep -E '^(c|usr/h) ')" "$(printf 'c f 0644 0:0 13 %s =c -\nusr/h f 0644 0:0 13 %s =c -' "$(h c)" "$(h c)")"

# implicit parents in a setgid directory: setgid and the directory's group,
# down the chain; an explicit directory in the chain starts it again from its
# own mode; sticky is not inherited; a setgid root entry ("./") counts too,
# although the root itself is never written
mklayer sg1.tar <<'EOF'
dir srv mode=02775 gid=50 mtime=10
dir srv/m mode=0755 gid=7 mtime=11
dir srv/g mode=02750 gid=60 mtime=12
dir t mode=01777 mtime=13
EOF
mklayer sg2.tar <<'EOF'
file srv/a/b/f data=f mtime=20
file srv/m/n/f data=f mtime=21
file srv/g/n/o/f data=f mtime=22
file t/c/f data=f mtime=23
EOF
flatten_x out sg1.tar sg2.tar
is "2.2 parents: implicit parents in a setgid directory inherit setgid and gid, link by link" \
	"$(lst out --fields path,type,mode,owner,mtime)" "$(cat <<'EOF'
srv d 2775 0:50 10
srv/a d 2755 0:50 20
srv/a/b d 2755 0:50 20
srv/a/b/f f 0644 0:0 20
srv/g d 2750 0:60 12
srv/g/n d 2755 0:60 22
srv/g/n/o d 2755 0:60 22
srv/g/n/o/f f 0644 0:0 22
srv/m d 0755 0:7 11
srv/m/n d 0755 0:0 21
srv/m/n/f f 0644 0:0 21
t d 1777 0:0 13
t/c d 0755 0:0 23
t/c/f f 0644 0:0 23
EOF
)"
mklayer sgr1.tar <<'EOF'
dir ./ mode=02775 gid=5 mtime=10
EOF
mklayer sgr2.tar <<'EOF'
file a/b/f data=f mtime=20
EOF
flatten_x out sgr1.tar sgr2.tar
is "2.2 parents: implicit parents under a setgid root entry inherit setgid and gid" \
	"$(lst out --fields path,type,mode,owner,mtime)" "$(cat <<'EOF'
a d 2755 0:5 20
a/b d 2755 0:5 20
a/b/f f 0644 0:0 20
EOF
)"
is "2.2 parents: the root entry itself is not written" "$(members .flat.tar | cut -d' ' -f1)" \
	"$(printf 'a\na/b\na/b/f')"

done_testing
