#!/bin/sh
# bench/run.sh - wall time and peak RSS of tarflat on synthetic image stacks,
# next to pigz -dc, gzip -dc, cat | cat and umoci unpack of the same layers,
# run in turns in one run. The machine is shared and noisy: compare the
# ratios, which are measured side by side, not the seconds. This is a
# measurement, not a test: nothing here asserts on a time.
#
#   sh bench/run.sh [DIR]
#
#   DIR            work directory (default /tmp/tarflat-bench); the stacks
#                  are built once in DIR/scale-S/ and reused by later runs
#   BENCH_SCALE=S  multiply every stack's bytes and entry counts by S
#                  (default 1; BENCH_SCALE=0.1 RUNS=1 builds and runs in a
#                  few minutes, for a smoke test)
#   RUNS=N         rounds per stack (default 5)
#   TARFLAT=PATH   the binary to time (default the one in this checkout;
#                  run make first)
#   OLD=PATH       an earlier binary to time in the same rounds, for the
#                  ratio new / old of each command (alternate.py --old)
#   STACKS="..."   which stacks (default all, in the order below)
#   UMOCI=0        leave umoci out (it needs root; skipped without it)
#
# Needs python3 (3.9 or later, stdlib only), gzip and pigz; umoci is timed
# when installed and run as root. At scale 1 the stacks take 1.6 GB in
# DIR (briefly 3 GB while the 1M-entry layer is built) and took 12 minutes
# to build on a loaded 2-core machine, most of it gzip -6; the timed part
# of RUNS=3 took 40 minutes there, most of it umoci unpack (2 minutes a
# run on "small"; UMOCI=0 leaves it out).
#
# The stacks (bench/mkstack.py; deterministic: the same bytes on every
# machine, sha256 of each layer in DIR/scale-S/NAME/manifest.json):
#   stack3      3 gzip layers, ~300 MB of tar, ~177 MB gzip, 60k entries,
#               the first layer 70% of it; later layers overwrite,
#               hardlink to and white out files and directories of
#               earlier ones (also an opaque directory, hardlink carriers)
#   one         1 gzip layer, ~200 MB of tar, 40k entries
#   many        20 gzip layers, ~300 MB of tar, 60k entries
#   small       1 gzip layer of 340k small entries (memory per entry)
#   small-10k, small-100k, small-1m
#               the same at 10k, 100k and 1M entries (tarflat and pigz only)
#   plain       stack3's layers uncompressed
# Content: text-like files (~3x under gzip) and incompressible binaries,
# sizes log-distributed; directories, symlinks, hardlinks, a few pax
# names. gzip -n -6 compresses them.
#
# Commands, run round-robin (A, B, C, ..., then again) by bench/alternate.py,
# every output into a pipe the harness drains:
#   tarflat L...; tarflat -j 1 and -j 2 if `tarflat --help` mentions -j;
#   pigz -dc L... (the baseline of gzip stacks); gzip -dc L...;
#   cat L... | cat (the baseline of plain);
#   umoci unpack of an OCI layout of the same layers (umoci init, new, raw
#   add-layer --no-history of each uncompressed layer, built once), into
#   a fresh directory each run (removal untimed).
#
# Prints, per stack: each command's median wall seconds with the min and
# max, the median of its per-round ratio to the baseline (x pigz, x cat),
# its peak RSS (os.wait4 of each child, started through a small sh so that
# the harness's own memory does not count; the largest of the rounds), CPU
# seconds and output MB; then tarflat's peak RSS divided by the number of
# input entries at 10k, 100k, 340k and 1M entries, and the marginal bytes
# per entry between them. Raw numbers: DIR/scale-S/results.json.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench
dir=${1:-/tmp/tarflat-bench}
scale=${BENCH_SCALE:-1}
runs=${RUNS:-5}
tarflat=${TARFLAT:-$top/tarflat}
stacks=${STACKS:-stack3 one many small small-10k small-100k small-1m plain}
py=${PYTHON:-python3}

[ -x "$tarflat" ] || { echo "run.sh: no $tarflat (run make, or set TARFLAT)" >&2; exit 1; }
for t in gzip pigz "$py"; do
	command -v "$t" >/dev/null || { echo "run.sh: needs $t" >&2; exit 1; }
done
w=$dir/scale-$scale
mkdir -p "$w"

umoci=no
if [ "${UMOCI:-1}" != 0 ] && command -v umoci >/dev/null; then
	if [ "$(id -u)" = 0 ]; then umoci=yes
	else echo "run.sh: not root: umoci unpack skipped" >&2
	fi
fi

# Build what is missing (mkstack.py does nothing when a stack is complete).
for s in $stacks; do
	case $s in
	plain)
		"$py" "$bench/mkstack.py" --scale "$scale" "$w/stack3" stack3
		"$py" "$bench/mkstack.py" --plain-from "$w/stack3" "$w/plain" plain ;;
	*)	"$py" "$bench/mkstack.py" --scale "$scale" "$w/$s" "$s" ;;
	esac
	# An OCI layout of the same layers for umoci unpack, built once.
	case $umoci:$s in
	yes:stack3 | yes:one | yes:many | yes:small)
		[ -f "$w/$s/oci/index.json" ] && continue
		echo "run.sh: umoci layout for $s (log: $w/$s/oci.log)" >&2
		rm -rf "$w/$s/oci.tmp" "$w/$s/oci"
		{
			umoci init --layout "$w/$s/oci.tmp"
			umoci new --image "$w/$s/oci.tmp:bench"
			for l in "$w/$s"/l*.tar.gz; do
				# raw add-layer takes uncompressed tar (and gzips it)
				gzip -dc "$l" >"$w/$s/layer.tmp"
				umoci raw add-layer --no-history \
					--image "$w/$s/oci.tmp:bench" "$w/$s/layer.tmp"
			done
		} >"$w/$s/oci.log" 2>&1 || { cat "$w/$s/oci.log" >&2; exit 1; }
		rm -f "$w/$s/layer.tmp"
		mv "$w/$s/oci.tmp" "$w/$s/oci" ;;
	esac
done

set -- --runs "$runs" --tarflat "$tarflat"
[ -z "${OLD:-}" ] || set -- "$@" --old "$OLD"
[ "$umoci" = yes ] || set -- "$@" --no-umoci
# shellcheck disable=SC2086
exec "$py" "$bench/alternate.py" "$@" "$w" $stacks
