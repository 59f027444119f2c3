#!/bin/bash
# t/diffumoci.sh - compare tarflat with umoci, the reference applier, on one stack.
#
# usage: diffumoci.sh [-w WORKDIR] [-u 'UMOCI_LAYER...'] [-s] [-m FILE] LAYER...
#
# Applies LAYER... (oldest first, plain or gzip) with umoci 0.4.7 (init, new,
# raw add-layer for each, unpack as root) and extracts `tarflat LAYER...` with
# GNU tar as root (--same-owner --numeric-owner --same-permissions --xattrs
# --xattrs-include='*'), then compares t/treedump.py of the two trees: paths,
# types, bytes, modes, owners, mtimes, symlink targets, devices, xattrs and
# hardlink groups.  Only BUNDLE/rootfs is compared (umoci also writes
# config.json, umoci.json and an mtree there), and not the root directory
# itself.  No other difference is allowed: stacks must not rely on implicit
# parent directories (tarflat.1 LAYER SEMANTICS), so write explicit parent entries.
#
#   -w DIR   work in DIR (kept afterwards); default a temporary directory,
#            removed unless the trees differ
#   -u LIST  give umoci these layers instead (an equivalent stack it can
#            take, for the cases tarflat.1 LAYER SEMANTICS lists where umoci errs)
#   -s       self-check of this harness: compare umoci with a plain `tar -x`
#            of each layer in turn instead of tarflat (no whiteouts!)
#   -m FILE  tolerate umoci's current-time stamps (on implicit parents,
#            and directories whose children it created or removed): the
#            time is taken just before `umoci unpack`, and a path that is a
#            directory in both trees and has an mtime at or after that time
#            in umoci's tree is compared without its mtime ('*' on both
#            sides); FILE gets the number of directories so masked.  The
#            unmasked trees are kept as umoci.tree.full, tarflat.tree.full.
#            For stacks that rely on implicit parents (t/wildstack.py).
#
# Exit: 0 identical trees; 1 trees differ (unified diff on stdout, umoci's
# lines '-', tarflat's '+'); 2 umoci failed; 3 tarflat or tar failed; 4 usage.
#
# umoci raw add-layer gzips what it is given, so a gzip layer would be
# compressed twice: gzip layers are decompressed for umoci first.
set -u
export LC_ALL=C TZ=UTC
umask 022

TDIR=$(cd "$(dirname "$0")" && pwd)
: "${TARFLAT:=$TDIR/../tarflat}"
W= ULAYERS= SELF=0 MASK=
while getopts w:u:sm: o; do
	case $o in
	w) W=$OPTARG ;;
	u) ULAYERS=$OPTARG ;;
	s) SELF=1 ;;
	m) MASK=$OPTARG ;;
	*) exit 4 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: diffumoci.sh [-w DIR] [-u LAYERS] [-s] [-m FILE] LAYER..." >&2; exit 4; }
[ "$(id -u)" -eq 0 ] || { echo "diffumoci.sh: needs root (umoci unpack and tar --same-owner)" >&2; exit 4; }

KEEP=1
if [ -z "$W" ]; then
	W=$(mktemp -d "${TMPDIR:-/tmp}/diffumoci.XXXXXX") || exit 4
	KEEP=0
else
	rm -rf "$W" && mkdir -p "$W" || exit 4
fi
cleanup() { [ $KEEP -eq 1 ] || rm -rf "$W"; }
fail() { # STATUS MESSAGE
	echo "diffumoci.sh: $2" >&2
	[ -s "$W/err" ] && sed 's/^/  /' "$W/err" | head -n 20 >&2
	KEEP=1
	echo "diffumoci.sh: work directory kept: $W" >&2
	exit "$1"
}

abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
layers=()
for l; do layers+=("$(abs "$l")"); done
if [ -n "$ULAYERS" ]; then
	ulayers=()
	for l in $ULAYERS; do ulayers+=("$(abs "$l")"); done
else
	ulayers=("${layers[@]}")
fi

# --- umoci ---------------------------------------------------------------
umoci init --layout "$W/oci" 2>"$W/err" && umoci new --image "$W/oci:t" 2>>"$W/err" ||
	fail 2 "umoci init/new failed"
i=0
for l in "${ulayers[@]}"; do
	i=$((i + 1))
	if [ "$(head -c 2 "$l" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
		gzip -dc <"$l" >"$W/u$i.tar" || fail 2 "cannot gunzip $l"
	else
		ln -s "$l" "$W/u$i.tar"
	fi
	umoci raw add-layer --no-history --image "$W/oci:t" "$W/u$i.tar" 2>"$W/err" ||
		fail 2 "umoci raw add-layer $l failed"
done
T0=$(date +%s)
umoci unpack --image "$W/oci:t" "$W/bundle" 2>"$W/err" || fail 2 "umoci unpack failed"
python3 -S "$TDIR/treedump.py" "$W/bundle/rootfs" >"$W/umoci.tree" || fail 2 "treedump of umoci's tree failed"

# --- tarflat (or, with -s, plain tar -x layer by layer) ----------------
mkdir "$W/x"
X="tar -x --same-owner --numeric-owner --same-permissions --xattrs --xattrs-include=* -C $W/x"
if [ $SELF -eq 1 ]; then
	for l in "${layers[@]}"; do
		$X -f "$l" 2>"$W/err" || fail 3 "tar -x $l failed"
	done
else
	"$TARFLAT" "${layers[@]}" >"$W/flat.tar" 2>"$W/err" || fail 3 "tarflat failed (exit $?)"
	$X -f "$W/flat.tar" 2>"$W/err" || fail 3 "tar -x of tarflat's output failed"
fi
python3 -S "$TDIR/treedump.py" "$W/x" >"$W/tarflat.tree" || fail 3 "treedump of the extraction failed"

# -m: mask the mtime of directories umoci stamped with the current time
if [ -n "$MASK" ]; then
	mv "$W/umoci.tree" "$W/umoci.tree.full" && mv "$W/tarflat.tree" "$W/tarflat.tree.full" ||
		fail 4 "cannot keep the unmasked trees"
	awk -F '\t' -v OFS='\t' -v t0="$T0" -v u="$W/umoci.tree" -v t="$W/tarflat.tree" '
		FNR == 1 { pass++ }
		pass == 1 { if ($2 == "d") tdir[$1] = 1; next }
		pass == 2 {
			if ($2 == "d" && $5 + 0 >= t0 && ($1 in tdir)) { m[$1] = 1; n++; $5 = "*" }
			print > u; next
		}
		{ if ($1 in m) $5 = "*"; print > t }
		END { print n + 0 }' "$W/tarflat.tree.full" "$W/umoci.tree.full" "$W/tarflat.tree.full" \
		>"$MASK" || fail 4 "masking failed"
fi

# umoci 0.4.7 drops an empty xattr (user.k=), which tarflat keeps, as GNU
# tar, bsdtar and containerd do (tarflat.1, where tarflat departs from
# umoci; t0410 checks tarflat's side): such xattrs leave both listings
for f in umoci tarflat; do
	awk -F '\t' -v OFS='\t' '{
		n = split($8, x, ","); v = ""
		for (i = 1; i <= n; i++) if (x[i] !~ /=$/) v = v (v == "" ? "" : ",") x[i]
		if ($8 != "-") $8 = v == "" ? "-" : v
		print }' "$W/$f.tree" >"$W/$f.tree.tmp" && mv "$W/$f.tree.tmp" "$W/$f.tree" ||
		fail 4 "dropping empty xattrs failed"
done

if cmp -s "$W/umoci.tree" "$W/tarflat.tree"; then
	cleanup
	exit 0
fi
diff -u --label umoci --label tarflat "$W/umoci.tree" "$W/tarflat.tree"
KEEP=1
echo "diffumoci.sh: trees differ; work directory kept: $W" >&2
exit 1
