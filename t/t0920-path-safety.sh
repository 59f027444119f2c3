#!/bin/bash
# the output rules (tarflat.1 OUTPUT: "no absolute name, no .. and no name that passes through a
# symlink", so extracting it with any tar is safe) and issue 3 "Hostile input:
# path safety": layers that try to escape give output that GNU tar and
# bsdtar extract into an empty directory without writing anything outside it.
#
# Each case: flatten (under timeout), check the output's headers (absolute
# names, '..' components, names or hardlink targets through a symlink of the
# output, duplicates: t/hostile.py check, which reads the raw headers), list
# it with `tar -tPf` (P: show names as stored), then extract it with GNU tar
# and with bsdtar into scratch/box, where scratch also holds a sentinel file
# and etc/passwd; the scratch tree outside box must be unchanged (treedump
# before and after), box must keep its mode, and box must hold the expected
# tree. Names that would land outside the tree on the host are probes with a
# unique name, checked and removed at the end.
# Where tarflat must refuse (.wh.., a hardlink to a file the image lacks),
# exit 1 and no output.
. "$(dirname "$0")/lib.sh"
need timeout bsdtar

hpy() { PYTHONPATH=$TDIR $PY - "$@"; }
PROBE=tarflat-escape-probe-t0920
for p in /$PROBE /etc/$PROBE /tmp/$PROBE; do
	[ -e $p ] && echo "# warning: $p exists before the test; removing it" && rm -rf $p
done

# A scratch tree around the extraction directory
mkscratch() {
	rm -rf scratch && mkdir -p scratch/box scratch/etc || return 1
	echo sentinel >scratch/sentinel
	echo 'root:x:0:0:root:/root:/bin/sh' >scratch/etc/passwd
	chmod 0755 scratch/box
	touch -d @1000000000 scratch/sentinel scratch/etc/passwd scratch/etc scratch/box
}
snap() {
	tree scratch | awk -F '\t' '$1 != "box" && $1 !~ /^box\//'
	stat -c 'scratch %a %Y %h' scratch
}

# safe DESC WANT LAYER...: tarflat exits 0, its output passes the header
# checks, and both extractors give WANT (tree box --fields path,type,detail,link,
# tabs as spaces) and leave everything else alone
safe() {
	_sd=$1 _w=$2; shift 2
	(timeout 30 "$TARFLAT" "$@" >out.tar 2>err; exit $?) 2>/dev/null
	_rc=$?
	grep -Eq 'Sanitizer|runtime error:' err && _rc="$_rc (sanitizer report)"
	if [ "$_rc" != 0 ]; then
		_report 1 "$_sd: flatten"
		echo "# exit status $_rc, want 0"
		sed 's/^/# stderr: /' err | head -n 5
		return 1
	fi
	_report 0 "$_sd: flatten"
	ok "$_sd: headers: no absolute name, no '..', nothing through a symlink" \
		$PY "$TDIR/hostile.py" check out.tar
	_names=$(tar -tPf out.tar 2>&1)
	is "$_sd: tar -tPf: no absolute name, no '..' component" \
		"$(printf '%s\n' "$_names" | grep -E '^/|(^|/)\.\.(/|$)')" ""
	for _x in "GNU tar" bsdtar; do
		mkscratch
		snap >snap.before
		if [ "$_x" = bsdtar ]; then
			bsdtar -xf out.tar -C scratch/box >x.err 2>&1
		else
			tar -xf out.tar -C scratch/box >x.err 2>&1
		fi
		_xs=$?
		snap >snap.after
		_got=$(tree scratch/box --fields path,type,detail,link | tr '\t' ' ')
		is "$_sd: $_x extracts it (status, messages)" "$_xs $(cat x.err)" "0 "
		is_file "$_sd: $_x wrote nothing outside the box" snap.after snap.before
		is "$_sd: $_x: the box keeps its mode and holds the expected tree" \
			"$(stat -c %a scratch/box)
$_got" "755
$_w"
	done
}

# refuse DESC RE LAYER...: exit 1, zero bytes out, `tarflat: LAST: offset N:`
refuse() {
	_sd=$1 _re=$2; shift 2
	for _bad; do :; done
	(timeout 30 "$TARFLAT" "$@" >out.tar 2>err; exit $?) 2>/dev/null
	_rc=$?
	grep -Eq 'Sanitizer|runtime error:' err && _rc="$_rc (sanitizer report)"
	is "$_sd: refused (status, bytes out, message)" \
		"$_rc $(wc -c <out.tar) $(grep -Ec "^tarflat: $_bad: offset [0-9]+: .*($_re)" err)" "1 0 1" ||
		sed 's/^/# stderr: /' err | head -n 3
}

h() { # detail column for a file holding TEXT
	printf '%s:%s' "$(printf '%s' "$1" | wc -c | tr -d ' ')" \
		"$(printf '%s' "$1" | sha256sum | cut -c1-16)"
}

hpy "$PROBE" <<'EOF'
import sys
from hostile import *
P = sys.argv[1]
def w(name, *m):
    open(name, "wb").write(b"".join(m) + EOF)
f = lambda name, data="x": member(name, data=data)
# names that climb or start at /
w("dotdot.tar", f("../../etc/x"), f("/etc/y"), f("./../../../sentinel", "s"),
  f("a/../../../b"), f("etc/../../etc/z"))
w("dotdot-long.tar", ext("x", rec("path", "../" * 200 + "p")), member("placeholder", data="x"),
  ext("L", b"../" * 200 + b"q\0"), member("placeholder2", data="x"))
# entries naming the root itself (ignored): they must not chmod the box
w("root.tar", member("./", "5", mode=0o777), member("..", "5", mode=0o700),
  member("/", "5", mode=0o777), member("../..//./", "5", mode=0o777), f("x"))
# symlinks to / and above, followed by later entries
w("sym-root.tar", member("a", "2", linkname="/"), f("a/etc/" + P))
w("sym-up.tar", member("a", "2", linkname="../.."), f("a/etc/x"), f("a/sentinel", "s"))
w("sym-chain.tar", member("b", "2", linkname="../.."), member("a", "2", linkname="b/../../.."),
  f("a/etc/x"), f("a/b/sentinel", "s"))
w("sym-abs-dir.tar", member("etc/", "5"), member("x", "2", linkname="/etc"),
  f("x/" + P), member("h", "1", linkname="x/" + P), member("x/sub/", "5"), f("x/sub/y"))
# the same across layers
w("l1-sym.tar", member("a", "2", linkname="/"), member("u", "2", linkname="../../.."))
w("l2-via.tar", f("a/etc/" + P), f("u/etc/x"), f("u/../../sentinel", "s"))
# hardlinks that climb
w("hl-up.tar", f("etc/passwd", "image"), member("h", "1", linkname="../../etc/passwd"),
  member("g", "1", linkname="/etc/passwd"))
# a hardlink to a symlink that points out of the box: a link to the symlink
w("hl-sym.tar", member("s", "2", linkname="../etc/passwd"), member("h", "1", linkname="s"),
  member("t", "2", linkname="/etc/passwd"), member("k", "1", linkname="t"))
# a directory replaced by a symlink, then an entry through it
w("l1-dir.tar", member("d/", "5"), f("d/f"))
w("l2-dsym.tar", member("d", "2", linkname="/"))
w("l3-thru.tar", f("d/g"))
# a whiteout through a symlink: removes inside the image
w("l1-wh.tar", f("etc/passwd", "image"), f("etc/group", "g"), member("a", "2", linkname="/etc"))
w("l2-wh.tar", member("a/.wh.passwd"))
# refusals
w("wh-dotdot.tar", member(".wh.."))
w("wh-dotdotdot.tar", member(".wh..."))
w("wh-sub-dotdot.tar", member("etc/", "5"), member("etc/.wh.."))
w("wh-bare.tar", member(".wh."))
w("hl-missing.tar", member("h", "1", linkname="../../etc/passwd"))
w("hl-sym-missing.tar", member("s", "2", linkname="/etc"), member("h", "1", linkname="s/passwd"))
w("hl-root.tar", member("h", "1", linkname=".."))
EOF

safe "climbing and absolute names" "b f $(h x) -
etc d - -
etc/x f $(h x) -
etc/y f $(h x) -
etc/z f $(h x) -
sentinel f $(h s) -" dotdot.tar
safe "200 '../' in a pax path and a GNU long name" "p f $(h x) -
q f $(h x) -" dotdot-long.tar
safe "entries naming the root ('./', '..', '/') are ignored" "x f $(h x) -" root.tar
safe "a -> / then a/etc/PROBE" "a l ->/ -
etc d - -
etc/$PROBE f $(h x) -" sym-root.tar
safe "a -> ../.. then a/etc/x, a/sentinel" "a l ->../.. -
etc d - -
etc/x f $(h x) -
sentinel f $(h s) -" sym-up.tar
safe "b -> ../.., a -> b/../../.. then a/etc/x, a/b/sentinel" "a l ->b/../../.. -
b l ->../.. -
etc d - -
etc/x f $(h x) -
sentinel f $(h s) -" sym-chain.tar
safe "x -> /etc then x/PROBE, a hardlink to x/PROBE, x/sub/y" "etc d - -
etc/sub d - -
etc/sub/y f $(h x) -
etc/$PROBE f $(h x) =etc/$PROBE
h f $(h x) =etc/$PROBE
x l ->/etc -" sym-abs-dir.tar
safe "symlinks to / and ../../.. in one layer, entries through them in the next" "a l ->/ -
etc d - -
etc/$PROBE f $(h x) -
etc/x f $(h x) -
sentinel f $(h s) -
u l ->../../.. -" l1-sym.tar l2-via.tar
safe "hardlinks to ../../etc/passwd and /etc/passwd" "etc d - -
etc/passwd f $(h image) =etc/passwd
g f $(h image) =etc/passwd
h f $(h image) =etc/passwd" hl-up.tar
safe "hardlinks to symlinks that point out of the box" "h l ->../etc/passwd =h
k l ->/etc/passwd =k
s l ->../etc/passwd =h
t l ->/etc/passwd =k" hl-sym.tar
safe "a directory replaced by a symlink to /, then d/g" "d l ->/ -
g f $(h x) -" l1-dir.tar l2-dsym.tar l3-thru.tar
safe "a whiteout through a symlink to /etc removes inside the image" "a l ->/etc -
etc d - -
etc/group f $(h g) -" l1-wh.tar l2-wh.tar

refuse "whiteout .wh.." "whiteout" wh-dotdot.tar
refuse "whiteout .wh..." "whiteout" wh-dotdotdot.tar
refuse "whiteout etc/.wh.." "whiteout" wh-sub-dotdot.tar
refuse "bare whiteout .wh." "whiteout" wh-bare.tar
refuse "hardlink to ../../etc/passwd, which the image lacks" "not found" hl-missing.tar
refuse "hardlink through s -> /etc to a file the image lacks" "not found" hl-sym-missing.tar
refuse "hardlink to .. (the root, a directory)" "director" hl-root.tar

# nothing reached the host
for p in /$PROBE /etc/$PROBE /tmp/$PROBE; do
	ok "nothing written at $p" test ! -e $p
	rm -rf $p
done

done_testing
