#!/bin/bash
# the output rules (tarflat.1 OUTPUT): every path once; a depth-first walk, each directory
# followed at once by its whole subtree, children in input order (layer, then
# position); each hardlink after its carrier; what consumers need (plain tar -x
# as a non-root user, bsdtar --format newc); deterministic bytes.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"

# names TAR: the member names, trailing / dropped
names() {
	tar -tf "$1" | sed 's,/$,,'
}

# check_dfs TAR: every parent before its children, every directory followed at
# once by all of its subtree, no name twice
check_dfs() {
	names "$1" | python3 -c '
import sys
names = [l.rstrip("\n") for l in sys.stdin]
bad = []
if len(set(names)) != len(names):
    bad.append("duplicate names")
pos = {n: i for i, n in enumerate(names)}
for i, n in enumerate(names):
    par = n.rpartition("/")[0]
    if par and pos.get(par, len(names)) >= i:
        bad.append("%s before its parent" % n)
    under = [j for j, m in enumerate(names) if m.startswith(n + "/")]
    if under and under != list(range(i + 1, i + 1 + len(under))):
        bad.append("subtree of %s not contiguous after it" % n)
print("\n".join(bad))
sys.exit(1 if bad else 0)'
}

# check_links TAR: every hardlink entry points at an earlier non-link entry
check_links() {
	python3 - "$1" <<'EOF'
import sys, tarfile
seen, bad = set(), []
for m in tarfile.open(sys.argv[1]):
    if m.islnk():
        if m.linkname not in seen:
            bad.append("%s -> %s: carrier not earlier" % (m.name, m.linkname))
    else:
        seen.add(m.name)
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# children ordered by the entry that created them; merged dirs keep their place
mklayer l1.tar <<'EOF'
dir a
file a/x data=x
dir b
file b/y data=y
EOF
mklayer l2.tar <<'EOF'
file a/z data=z
dir c
file b/w data=w
file a/sub/q data=q
dir a mode=0700
EOF
flatten .flat.tar l1.tar l2.tar
is "3 order: depth first, children by (layer, position), merged dir keeps its place" \
	"$(names .flat.tar)" "$(printf '%s\n' a a/x a/z a/sub a/sub/q b b/y b/w c)"

# a replaced node stands where the entry that created it stands
mklayer l1.tar <<'EOF'
dir a
file a/x data=x
file a/y data=y
file a/z data=z
EOF
mklayer l2.tar <<'EOF'
file a/x data=X
EOF
flatten .flat.tar l1.tar l2.tar
is "3 order: an overwritten file takes the place of the entry that replaced it" \
	"$(names .flat.tar)" "$(printf '%s\n' a a/y a/z a/x)"

# a layer that is not depth-first, added into lower directories at all depths
mklayer l1.tar <<'EOF'
dir a
dir a/b
dir a/b/c
file a/b/c/1 data=1
dir d
file d/1 data=1
file top1 data=t
EOF
mklayer l2.tar <<'EOF'
file a/2 data=2
file d/2 data=2
file a/b/2 data=2
file top2 data=t
file a/b/c/2 data=2
file d/e/f/1 data=1
file a/3 data=3
symlink a/b/l c
file a/b/l/3 data=3
EOF
mklayer l3.tar <<'EOF'
file d/e/2 data=2
file a/b/c/4 data=4
file a/4 data=4
hardlink d/e/f/link a/2
EOF
flatten .flat.tar l1.tar l2.tar l3.tar
ok "3 order: each directory is followed at once by its whole subtree" check_dfs .flat.tar
is "3 order: the exact walk for a stack adding at every depth" "$(names .flat.tar)" \
	"$(printf '%s\n' a a/b a/b/c a/b/c/1 a/b/c/2 a/b/c/3 a/b/c/4 a/b/2 a/b/l a/2 a/3 a/4 \
		d d/1 d/2 d/e d/e/f d/e/f/1 d/e/f/link d/e/2 top1 top2)"
ok "3 hardlinks: each link after its carrier" check_links .flat.tar

# a link whose other name comes first in the walk: that name carries the bytes
mklayer l1.tar <<'EOF'
dir z
file z/f data=F
dir a
hardlink a/l z/f
EOF
flatten .flat.tar l1.tar
is "3 hardlinks: the carrier is the first name in output order" "$(members .flat.tar)" "$(cat <<'EOF'
z 5 -
z/f 0 -
a 5 -
a/l 1 z/f
EOF
)"
mklayer l1.tar <<'EOF'
dir a
dir z
file z/f data=F
hardlink a/l z/f
EOF
flatten .flat.tar l1.tar
is "3 hardlinks: the carrier moves to the first name, the bytes' name links to it" \
	"$(members .flat.tar)" "$(cat <<'EOF'
a 5 -
a/l 0 -
z 5 -
z/f 1 a/l
EOF
)"
extract .flat.tar lx
is "3 hardlinks: that output extracts to the right tree" "$(lst lx --fields path,type,detail,link)" "$(cat <<EOF
a d - -
a/l f $(h F) =a/l
z d - -
z/f f $(h F) =a/l
EOF
)"

# a read-only directory filled by two layers: plain tar -x as a non-root user
mklayer l1.tar <<'EOF'
dir ro mode=0555 mtime=100
file ro/a data=a mtime=101
dir ro/sub mode=0555 mtime=102
file ro/sub/c data=c mtime=103
dir other mtime=104
file other/o data=o mtime=105
EOF
mklayer l2.tar <<'EOF'
file ro/b data=b mtime=201
file ro/sub/d data=d mode=0600 mtime=202
file other/p data=p mtime=203
EOF
flatten .flat.tar l1.tar l2.tar
# as_nobody DIR TAR: plain `tar -x` of TAR into a fresh DIR as a non-root user
as_nobody() {
	rm -rf "$1" && mkdir "$1" || return 1
	if [ "$(id -u)" -eq 0 ]; then
		chown 65534:65534 "$1" &&
			setpriv --reuid=65534 --regid=65534 --clear-groups tar -x -f - -C "$1" <"$2"
	else
		tar -x -f - -C "$1" <"$2"
	fi
}
not_as_nobody() {
	! as_nobody "$@" 2>/dev/null
}
if [ "$(id -u)" -ne 0 ] || command -v setpriv >/dev/null 2>&1; then
	ok "3 order: plain tar -x as non-root of a 0555 dir filled by two layers" as_nobody nr .flat.tar
	u=$(if [ "$(id -u)" -eq 0 ]; then echo 65534:65534; else echo "$(id -u):$(id -g)"; fi)
	is "3 order: ... and gives the right modes and mtimes" "$(lst nr --fields path,type,mode,owner,mtime)" "$(cat <<EOF
other d 0755 $u 104
other/o f 0644 $u 105
other/p f 0644 $u 203
ro d 0555 $u 100
ro/a f 0644 $u 101
ro/b f 0644 $u 201
ro/sub d 0555 $u 102
ro/sub/c f 0644 $u 103
ro/sub/d f 0600 $u 202
EOF
)"
	chmod -R u+w nr
	# the reference: the same entries in layer order (ro/b after ro's run) fail
	python3 - <<'EOF'
import tarfile
with tarfile.open("naive.tar", "w", format=tarfile.PAX_FORMAT) as out:
    for name in ("l1.tar", "l2.tar"):
        with tarfile.open(name) as tf:
            for m in tf:
                out.addfile(m, tf.extractfile(m) if m.isreg() else None)
EOF
	ok "3 order: (reference) the layer-order stream fails as non-root" not_as_nobody naive naive.tar
	chmod -R u+w naive 2>/dev/null
else
	skip "3 order: plain tar -x as non-root" "setpriv not installed"
fi

# the initramfs path: bsdtar --format newc @- keeps every dir before its contents
if command -v bsdtar >/dev/null 2>&1; then
	flatten .flat.tar l1.tar l2.tar
	bsdtar --format newc -cf - @- <.flat.tar >img.cpio
	ok "3 order: bsdtar --format newc of the output lists dirs before contents" \
		sh -c 'bsdtar -tf img.cpio | sed "s,/\$,," | python3 -c "
import sys
seen = set()
for n in (l.rstrip(\"\\n\") for l in sys.stdin):
    p = n.rpartition(\"/\")[0]
    if p and p not in seen:
        sys.exit(n + \" before \" + p)
    seen.add(n)"'
	is "3 order: the newc archive holds every path" "$(bsdtar -tf img.cpio | sed 's,/$,,' | sort)" \
		"$(printf '%s\n' other other/o other/p ro ro/a ro/b ro/sub ro/sub/c ro/sub/d)"
else
	skip "3 order: bsdtar --format newc" "bsdtar not installed"
fi

# every path once: no duplicates, whiteouts, AUFS names, root, absolute names,
# .. or names through a symlink, from a stack that has all of them as input
mklayer l1.tar <<'EOF'
dir ./
dir /usr
dir usr/bin
symlink bin usr/bin
file /usr/bin/a data=a
file ./usr/bin/b data=b
file usr/bin/c data=c
EOF
mklayer l2.tar <<'EOF'
dir .
file bin/d data=d
file /bin/a data=A
file ../../usr/bin/e data=e
whiteout bin/b
dir .wh..wh.plnk
file .wh..wh.plnk/9.9 data=p
hardlink usr/bin/f .wh..wh.plnk/9.9
file usr/bin/c data=C1
file ./usr/bin/c data=C2
opaque usr/lib
EOF
flatten .flat.tar l1.tar l2.tar
is "3 every path once: the exact list" "$(names .flat.tar)" \
	"$(printf '%s\n' usr usr/bin usr/bin/d usr/bin/a usr/bin/e usr/bin/f usr/bin/c bin)"
ok "3 every path once: no duplicate, parents first, subtrees contiguous" check_dfs .flat.tar

# deterministic bytes
mklayer l1.tar --gzip <<'EOF'
dir a mtime=1
file a/f size=100000 mtime=2
hardlink a/g a/f
symlink a/s f
file a/long/$(printf 'x%.0s' $(seq 1 200)) data=long pax.mtime=3.25
EOF
mklayer l2.tar <<'EOF'
file a/f data=new
file b data=b uid=3000000
EOF
"$TARFLAT" l1.tar l2.tar >run1.tar 2>/dev/null
"$TARFLAT" l1.tar l2.tar >run2.tar 2>/dev/null
is_file "3 deterministic: two runs give identical bytes" run2.tar run1.tar
(cd / && TZ=Asia/Tokyo LC_ALL=C.UTF-8 TMPDIR=$T && umask 077 &&
	cat "$T/l2.tar" | "$TARFLAT" "$T/l1.tar" - >"$T/run3.tar" 2>/dev/null)
is_file "3 deterministic: other cwd, TZ, locale, umask, stdin layer: same bytes" run3.tar run1.tar
"$TARFLAT" -o run4.tar l1.tar l2.tar 2>/dev/null
is_file "3 deterministic: -o FILE holds the same bytes as stdout" run4.tar run1.tar

done_testing
