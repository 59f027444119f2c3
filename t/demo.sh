#!/bin/sh
# t/demo.sh - flatten the small example image shipped in examples/git977.tar:
# the go-containerregistry issue-977 reproducer, a docker save archive. With
# python3 the script also makes its three layers again from their
# description below and checks that they are that image (after a change to
# the description: cp t/trash/demo/image.tar examples/git977.tar).
#
#   FROM alpine              layer 1: a tiny base, bin -> usr/bin
#   RUN apk add git          layer 2: usr/bin/git and hardlinks to it
#   RUN rm /usr/bin/git      layer 3: usr/bin/.wh.git
#
# A flattener that walks the layers newest-first and drops what later layers
# delete loses usr/bin/git, and the surviving links in usr/libexec/git-core
# then point at nothing. tarflat keeps the inode and writes its content under
# the first surviving name.
#
# Run from the repository top after `make` (or run `make demo`): sh t/demo.sh
# Works as root and as an ordinary user; exits non-zero if anything fails.
# Files go to t/trash/demo/. TARFLAT overrides the binary (default ./tarflat).
set -eu
export LC_ALL=C TZ=UTC
umask 022

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tarflat=${TARFLAT:-./tarflat}
d=t/trash/demo

fail() {
	echo "demo: FAILED: $*" >&2
	exit 1
}

make_layers() { # the three layers of the image, into $d
	# Layer options: owner root, an mtime per layer (2024-01-01, +1 day, +2 days).
	o1="uid=0 gid=0 uname=root gname=root mtime=1704067200"
	o2="uid=0 gid=0 uname=root gname=root mtime=1704153600"
	o3="uid=0 gid=0 uname=root gname=root mtime=1704240000"

	python3 t/mklayer.py "$d/layer1.tar" <<-EOF
	dir etc $o1
	file etc/os-release $o1 data=NAME=demo-alpine
	file etc/hostname $o1 data=localhost
	dir lib $o1
	dir lib/apk $o1
	dir lib/apk/db $o1
	file lib/apk/db/installed $o1 data=busybox
	dir usr $o1
	dir usr/bin $o1
	file usr/bin/busybox $o1 mode=0755 size=3000
	hardlink usr/bin/sh usr/bin/busybox $o1 mode=0755
	symlink bin usr/bin $o1
	dir tmp $o1 mode=01777
	EOF

	python3 t/mklayer.py --gzip "$d/layer2.tar.gz" <<-EOF
	dir lib $o2
	dir lib/apk $o2
	dir lib/apk/db $o2
	file lib/apk/db/installed $o2 data=busybox,git
	dir usr $o2
	dir usr/bin $o2
	file usr/bin/git $o2 mode=0755 size=20000
	file usr/bin/git-shell $o2 mode=0755 size=700
	dir usr/libexec $o2
	dir usr/libexec/git-core $o2
	hardlink usr/libexec/git-core/git-receive-pack usr/bin/git $o2 mode=0755
	hardlink usr/libexec/git-core/git-upload-archive usr/bin/git $o2 mode=0755
	hardlink usr/libexec/git-core/git-upload-pack usr/bin/git $o2 mode=0755
	hardlink usr/libexec/git-core/git usr/bin/git $o2 mode=0755
	file usr/libexec/git-core/git-sh-setup $o2 mode=0644 size=900
	EOF

	python3 t/mklayer.py "$d/layer3.tar" <<-EOF
	dir usr $o3
	dir usr/bin $o3
	whiteout usr/bin/git $o3
	EOF
}

run() { # echo a command, then run it
	echo "\$ $*"
	"$@"
}

[ -x "$tarflat" ] || fail "$tarflat not built; run 'make' first"
img=examples/git977.tar

rm -rf "$d"
mkdir -p "$d"

echo "== the example image, as docker save writes it: $img"
run tar -tvf "$img"

echo
echo "== flatten it"
echo "\$ $tarflat $img >$d/flat.tar"
"$tarflat" "$img" >"$d/flat.tar" || fail "tarflat exited $?"

echo
echo "== the output"
run tar -tvf "$d/flat.tar"

echo
echo "== extract it with plain tar -x"
mkdir "$d/rootfs"
run tar -x -f "$d/flat.tar" -C "$d/rootfs" || fail "tar -x exited $?"
run ls -li "$d/rootfs/usr/bin" "$d/rootfs/usr/libexec/git-core"

# Check what the demo claims, against the image's own layers, not against
# tarflat: git's bytes come from the second layer, as stored in the image.
mkdir "$d/image"
tar -x -f "$img" -C "$d/image" || fail "tar -x of the image exited $?"
layer2=$(sed 's/.*"Layers":\["[^"]*","\([^"]*\)".*/\1/' "$d/image/manifest.json")
tar -xOf "$d/image/$layer2" usr/bin/git >"$d/git.expected" ||
	fail "usr/bin/git is not in the image's second layer ($layer2)"
r=$d/rootfs
if [ -e "$r/usr/bin/git" ] || [ -L "$r/usr/bin/git" ]; then
	fail "usr/bin/git should be deleted by layer 3"
fi
[ "$(readlink "$r/bin")" = usr/bin ] || fail "bin should be a symlink to usr/bin"
links="git-receive-pack git-upload-archive git-upload-pack git"
ino=
for n in $links; do
	f=$r/usr/libexec/git-core/$n
	[ -f "$f" ] || fail "$f missing"
	cmp -s "$f" "$d/git.expected" || fail "$f does not hold git's bytes"
	i=$(stat -c %i "$f")
	[ -z "$ino" ] || [ "$i" = "$ino" ] || fail "$f is not a hardlink of the others"
	ino=$i
	[ "$(stat -c %h "$f")" = 4 ] || fail "$f should have 4 links"
done
[ "$(stat -c %i "$r/usr/bin/sh")" = "$(stat -c %i "$r/usr/bin/busybox")" ] ||
	fail "usr/bin/sh should be a hardlink of usr/bin/busybox"

# The same three layers made again from their description (with python3):
# they give the shipped image's bytes, and flatten, as layer files, to
# the image's output.
if command -v python3 >/dev/null 2>&1; then
	echo
	echo "== the three layers, oldest first, made again from their description"
	make_layers
	for l in layer1.tar layer2.tar.gz layer3.tar; do
		echo "-- $l"
		tar -tvf "$d/$l"
	done
	python3 t/mkimage.py docker-old "$d/image.tar" "$d/layer1.tar" "$d/layer2.tar.gz" \
		"$d/layer3.tar" tag=demo:1 >/dev/null || fail "t/mkimage.py failed"
	cmp -s "$d/image.tar" "$img" || fail "$img is not the image of these layers"
	echo "\$ $tarflat $d/layer1.tar $d/layer2.tar.gz $d/layer3.tar >$d/flat-layers.tar"
	"$tarflat" "$d/layer1.tar" "$d/layer2.tar.gz" "$d/layer3.tar" >"$d/flat-layers.tar" ||
		fail "tarflat exited $?"
	cmp -s "$d/flat.tar" "$d/flat-layers.tar" ||
		fail "the layers should flatten to the bytes of their image"
	echo "(the image's bytes; the layers flatten to the image's output)"
fi
echo
echo "== which layer wrote what: -t lists the tree with each entry's layer"
run "$tarflat" -t "$img:demo:1"
echo
echo "== only usr/libexec, with its parents"
"$tarflat" --path usr/libexec "$img" >"$d/libexec.tar" || fail "tarflat --path exited $?"
run tar -tvf "$d/libexec.tar"
[ "$(tar -tf "$d/libexec.tar" | head -n 1)" = usr/ ] || fail "--path should write usr/ first"

echo
echo "demo: ok: usr/bin/git is gone; its 4 hardlinks in usr/libexec/git-core"
echo "demo: share one inode and hold git's $(wc -c <"$d/git.expected") bytes,"
echo "demo: flattened from the image $img."
