#!/bin/bash
# tarflat.1 rule 1 Names: member names and hardlink targets are normalised the same
# way (leading / and ./ dropped, // collapsed, . dropped, trailing / dropped,
# .. resolved lexically and clamped at the root); an entry that normalises to
# the root is ignored; symlink targets are kept verbatim.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"

# /x ./x and x name the same path, across layers
mklayer l1.tar <<'EOF'
dir /etc mode=0700 mtime=100
file /etc/a data=one mtime=101
file ./etc/c data=gone
file etc/d data=dee mode=0600
EOF
mklayer l2.tar <<'EOF'
dir ./etc/ mode=0750 mtime=200
file ./etc/a data=two mtime=201
whiteout /etc/c
file etc/b data=bee
EOF
mklayer l3.tar <<'EOF'
file /etc/d data=DEE mtime=301
whiteout ./etc/b
EOF
flatten_x out l1.tar l2.tar l3.tar
is "2.1 names: /x ./x x are one path across layers" "$(lst out)" "$(cat <<EOF
etc d 0750 0:0 200 - - -
etc/a f 0644 0:0 201 $(h two) - -
etc/d f 0644 0:0 301 $(h DEE) - -
EOF
)"

# the same within one layer: later entry wins over the same normalised name
mklayer l1.tar <<'EOF'
file /x data=1
file ./x data=2
file x data=3 mtime=5
EOF
flatten_x out l1.tar
is "2.1 names: /x ./x x are one path in one layer" "$(lst out)" "$(cat <<EOF
x f 0644 0:0 5 $(h 3) - -
EOF
)"

# hardlink targets are normalised the same way
mklayer l1.tar <<'EOF'
dir usr
dir usr/bin
file /usr/bin/git data=GIT mode=0755
EOF
mklayer l2.tar <<'EOF'
hardlink ./usr/bin/git-a /usr/bin/git
hardlink usr/bin/git-b ./usr/bin/git
hardlink /usr/bin/git-c usr//bin/./git
hardlink usr/bin/git-d usr/bin/../bin/git
EOF
flatten_x out l1.tar l2.tar
is "2.1 names: hardlink targets /x ./x x a//./b a/../a normalised" "$(lst out)" "$(cat <<EOF
usr d 0755 0:0 $T0 - - -
usr/bin d 0755 0:0 $T0 - - -
usr/bin/git f 0755 0:0 $T0 $(h GIT) =usr/bin/git -
usr/bin/git-a f 0755 0:0 $T0 $(h GIT) =usr/bin/git -
usr/bin/git-b f 0755 0:0 $T0 $(h GIT) =usr/bin/git -
usr/bin/git-c f 0755 0:0 $T0 $(h GIT) =usr/bin/git -
usr/bin/git-d f 0755 0:0 $T0 $(h GIT) =usr/bin/git -
EOF
)"

# a hardlink target written /x in a later layer than the ./x it names
mklayer l1.tar <<'EOF'
file ./f data=F
EOF
mklayer l2.tar <<'EOF'
hardlink /g /f
hardlink ./h ../f
EOF
flatten_x out l1.tar l2.tar
is "2.1 names: hardlink target ./f named /f and ../f in a later layer" "$(lst out)" "$(cat <<EOF
f f 0644 0:0 $T0 $(h F) =f -
g f 0644 0:0 $T0 $(h F) =f -
h f 0644 0:0 $T0 $(h F) =f -
EOF
)"

# a//b, a/./b and a trailing / on directories
mklayer l1.tar <<'EOF'
dir a/ mode=0711 mtime=10
file a//b data=bee mtime=11
file a/./c data=cee mtime=12
dir ./a/./d// mode=0700 mtime=13
file .//a//d/.//e data=ee mtime=14
dir a/d/. mode=0750 mtime=15
EOF
flatten_x out l1.tar
is "2.1 names: // and . collapsed, trailing / dropped" "$(lst out)" "$(cat <<EOF
a d 0711 0:0 10 - - -
a/b f 0644 0:0 11 $(h bee) - -
a/c f 0644 0:0 12 $(h cee) - -
a/d d 0750 0:0 15 - - -
a/d/e f 0644 0:0 14 $(h ee) - -
EOF
)"

# .. is resolved lexically and clamped at the root
mklayer l1.tar <<'EOF'
dir x mtime=20
file a/../../b data=B mtime=21
file ../../c data=C mtime=22
file /../d data=D mtime=23
file x/y/../z data=Z mtime=24
file x/../../../x/w data=W mtime=25
EOF
flatten_x out l1.tar
is "2.1 names: .. resolved lexically and clamped at the root" "$(lst out)" "$(cat <<EOF
b f 0644 0:0 21 $(h B) - -
c f 0644 0:0 22 $(h C) - -
d f 0644 0:0 23 $(h D) - -
x d 0755 0:0 20 - - -
x/w f 0644 0:0 25 $(h W) - -
x/z f 0644 0:0 24 $(h Z) - -
EOF
)"

# lexical means a symlink before .. is not followed: s/../x is x, not a/x
mklayer l1.tar <<'EOF'
dir a
dir a/deep
symlink s a/deep
EOF
mklayer l2.tar <<'EOF'
file s/../x data=X
EOF
flatten_x out l1.tar l2.tar
is "2.1 names: .. is lexical, not resolved through a symlink" "$(lst out)" "$(cat <<EOF
a d 0755 0:0 $T0 - - -
a/deep d 0755 0:0 $T0 - - -
s l 0777 0:0 $T0 ->a/deep - -
x f 0644 0:0 $T0 $(h X) - -
EOF
)"

# whiteout names are normalised too
mklayer l1.tar <<'EOF'
dir d
file d/f data=f
file d/g data=g
EOF
mklayer l2.tar <<'EOF'
raw /d/.wh.f 0
raw ./d//./x/../.wh.g 0
EOF
flatten_x out l1.tar l2.tar
is "2.1 names: whiteout names /d/.wh.f and ./d//./x/../.wh.g normalised" "$(lst out)" "$(cat <<EOF
d d 0755 0:0 $T0 - - -
EOF
)"

# entries normalising to the root are ignored (whatever their metadata)
mklayer l1.tar <<'EOF'
dir ./ mode=0700 mtime=5 uid=7
dir / mode=0700 mtime=5 uid=7
dir . mode=0700 mtime=5 uid=7
dir a/.. mode=0700 mtime=5 uid=7
dir ../ mode=0700 mtime=5 uid=7
file f data=x
EOF
flatten_x out l1.tar
is "2.1 names: an entry that normalises to the root is ignored" "$(lst out)" "$(cat <<EOF
f f 0644 0:0 $T0 $(h x) - -
EOF
)"
is "2.1 names: no root entry emitted (extraction root keeps its mode)" \
	"$(stat -c '%a %u' out)" "755 0"
is "3 every path once: no root, absolute or .. names in the output" \
	"$(members .flat.tar)" "f 0 -"

# symlink targets are data: kept verbatim
mklayer l1.tar <<'EOF'
symlink l1 /abs//path/./x/
symlink l2 ../../up/../x
symlink l3 ./rel/
symlink l4 'with space'
symlink l5 .
symlink l6 ..//..
EOF
flatten_x out l1.tar
is "2.1 names: symlink targets kept verbatim" "$(lst out --fields path,type,detail)" "$(cat <<'EOF'
l1 l ->/abs//path/./x/
l2 l ->../../up/../x
l3 l ->./rel/
l4 l ->with space
l5 l ->.
l6 l ->..//..
EOF
)"

# names with spaces, UTF-8 and backslashes are just bytes
mklayer l1.tar <<'EOF'
file 'a b/ç é' data=x mtime=5
file 'back\\slash' data=y mtime=6
symlink 'l ñ' 'a b/ç é' mtime=7
hardlink 'a b/日本' 'a b/ç é'
EOF
flatten_x out l1.tar
is "2.1 names: spaces, UTF-8 and backslashes kept" "$(lst out)" "$(cat <<EOF
a b d 0755 0:0 5 - - -
a b/ç é f 0644 0:0 5 $(h x) =a b/ç é -
a b/日本 f 0644 0:0 5 $(h x) =a b/ç é -
back\\\\slash f 0644 0:0 6 $(h y) - -
l ñ l 0777 0:0 7 ->a b/ç é - -
EOF
)"

# a long name from pax path, GNU longname and ustar prefix is one path
long=$(printf 'dir%03d/' $(seq 1 30))
mklayer l1.tar --format ustar <<EOF
file ${long}f data=ustar
file ${long}g data=ustar
EOF
mklayer l2.tar --format gnu <<EOF
file ./${long}f data=gnu mtime=2
EOF
mklayer l3.tar --format pax <<EOF
file /${long}g data=pax mtime=3
EOF
flatten_x out l1.tar l2.tar l3.tar
is "2.1 names: ustar prefix, GNU L and pax path names are the same path" \
	"$(lst out --fields path,mtime,detail | grep '/[fg] ')" "$(cat <<EOF
${long}f 2 $(h gnu)
${long}g 3 $(h pax)
EOF
)"

# the pax path record wins over the ustar name field
mklayer l1.tar <<'EOF'
file short data=S pax.path=real/name
EOF
flatten_x out l1.tar
is "2.1 names: pax path record wins over the ustar name" \
	"$(lst out --fields path,type,detail)" "$(cat <<EOF
real d -
real/name f $(h S)
EOF
)"

done_testing
