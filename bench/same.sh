#!/bin/sh
# bench/same.sh - do two tarflat binaries write the same bytes? For issue 17
# (tarflat.c split into files): the rewrite must not change one byte of what
# tarflat writes, says or exits with, on any stack the tests and benchmarks
# make.
#
#   sh bench/same.sh OLD NEW [DIR]
#
#   OLD, NEW   the two binaries (e.g. /work/baseline/tarflat and ./tarflat)
#   DIR        the cache of stacks (default /tmp/tarflat-same): built once,
#              with OLD as the tarflat the test scripts run, reused by every
#              later run whatever OLD and NEW are; rm -rf DIR to build anew
#   JOBS=N     compare N cases at once (default 2)
#   ONLY=P     compare only the cases whose name starts with P (rec/t0450)
#   SEEDS=N    genstack.py and wildstack.py seeds 1..N each (default 150;
#              build time only, as are the two below)
#   SCALE=S    mkstack.py scale (default 0.02)
#   SAME_TESTS="t0050 t0450 ..."  the test scripts to record (default below)
#
# The stacks (DIR/cases/GROUP/NAME, each a directory with its inputs and a
# case.json; bench/same-cases.py's header says what that holds):
#   rec/TEST/N   every tarflat run of the test scripts t0050..t0490, t0500,
#                t0700, t0710, t0900..t0930 (~1600 runs, ~1300 stacks): the
#                scripts run once with TARFLAT pointing at a shim
#                (DIR/bin/tarflat) that copies each run's arguments, input
#                files and directories, standard input (a file or a pipe),
#                <(...) pipes, the kind of its standard output, -o's target,
#                which of zstd/xz/bzip2 it had on PATH, then execs OLD (the
#                scripts pass under it: DIR/rec/TEST.log). Identical runs
#                are kept once. Left out: runs with over 100 MB of input
#                (collect names them: t0490's two sparse 1 GB layers), t0491
#                (a layer changed while tarflat reads it), t0495 (large),
#                t0510/t0520 (their stacks come below, without umoci), the
#                tests that run no tarflat.
#   mk/NAME      bench/mkstack.py stack3, one, many, small, small-10k at
#                scale SCALE, stack3 and many with --seed 2 and 3, plain
#                (stack3 uncompressed); stack3 as an OCI layout and as a
#                docker save archive (t/mkimage.py)
#   gen/sN       t/genstack.py --seed N (as t0510), N = 1..SEEDS
#   wild/sN      t/wildstack.py --seed N (as t0520), N = 1..SEEDS
#   corpus/F     each file of ../shared/corpus as one input, read as an
#                image or a layer (as t0710; t0700 reads them with --layers:
#                those runs are in rec/t0700-corpus)
#
# The runs, each with OLD and then NEW, compared on exit status (or the
# signal), standard output, standard error, the -o file and the names left
# in the -o directory and $TMPDIR:
#   a recorded run as recorded: its options, its stdin, its standard output
#   (a pipe, a file, /dev/full, /dev/null or closed), its -o FILE turned
#   into a file of the run's own (but -o /dev/full, -o into a missing
#   directory and -o DIRECTORY stay what they were);
#   then, once per distinct stack (inputs, stdin, --layers, --platform), the
#   matrix: no option; -o FILE; -t; --path P1; --path P1 --path P2 (P1 a
#   directory halfway down OLD's -t listing, P2 a file near its end); -j 1;
#   -v -j 2 -- all into a pipe but -o. (Without -j, tarflat uses the
#   processors: -j 2 on a 2-core machine.)
# A run that fails must fail the same way (status, message, no output).
# At most 32 MB of each stream is compared: past it the pipe is closed
# (tarflat dies of SIGPIPE) or a file stops (ulimit -f: SIGXFSZ), the same
# for both binaries; only t0910's deep trees flatten to more. Where both
# runs were cut so, how much of -v's list made it to standard error before
# the signal depends on timing: there one must be a prefix of the other.
# Normalised in standard error: /dev/fd/N (the descriptor a <(...)
# argument got in this run) and the binary's own path (argv[0] where a run
# goes through sh for ulimit -f) to "tarflat"; in the names left behind,
# the XXXXXX of -o's temporary file. Nothing else: both binaries run in the
# same case directory with the same arguments, environment (PATH a
# directory of the recorded tools, TMPDIR an empty one) and -o name.
#
# Prints one line per difference, "DIFF CASE [RUN] tarflat ARGS: exit A vs
# B; stdout differs at byte N (..); stderr ...", N counted as cmp counts;
# both sides of the first 50 saved in DIR/diffs/ (cmp DIR/diffs/X.old.out
# DIR/diffs/X.new.out); then "N outputs compared, M differ" (14356 with
# the defaults). Exits 1 when M > 0, 2 on a usage or build error.
# DIR/times.tsv: the seconds each case took, slowest first.
#
# Time, measured on this 2-core machine while it was shared (load 5-12):
# the build 16 minutes (the seeds 2, the test scripts under the shim 13);
# the compare 29 minutes of wall time beside a second compare, 13 minutes
# of CPU (so about 7 on two idle cores); the slowest cases are t0910's
# deep trees, t0710's images, t0429's stacks. ONLY=rec/t0450 and the like
# compare a part in seconds. DIR takes 1.2 GB.
set -eu
[ $# -ge 2 ] || { sed -n '2,22p' "$0" >&2; exit 2; }
old=$1 new=$2 dir=${3:-/tmp/tarflat-same}
for b in "$old" "$new"; do
	[ -x "$b" ] || { echo "same.sh: $b is not an executable" >&2; exit 2; }
done
top=$(cd "$(dirname "$0")/.." && pwd)
old=$(cd "$(dirname "$old")" && pwd)/$(basename "$old")
new=$(cd "$(dirname "$new")" && pwd)/$(basename "$new")
# the interpreter itself, no site packages (as t/lib.sh)
py="$(python3 -c 'import sys; print(sys.executable)') -S"
cases="$py $top/bench/same-cases.py"
seeds=${SEEDS:-150}
scale=${SCALE:-0.02}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# step NAME CMD...: run a build step once (DIR/done/NAME marks it done)
step() {
	_s=$1; shift
	[ -f "$dir/done/$_s" ] && return 0
	echo "same.sh: building $_s" >&2
	_t=$(date +%s)
	"$@" || { echo "same.sh: building $_s failed" >&2; exit 2; }
	mkdir -p "$dir/done" && : >"$dir/done/$_s"
	echo "same.sh: built $_s in $(($(date +%s) - _t)) s" >&2
}

# mkstack NAME [--seed N]: a bench/mkstack.py stack as the case mk/NAME[-sN]
mkstack() {
	_n=$1 _o=$dir/mk/$1${3:+-s$3}; shift
	rm -rf "$_o"
	$py "$top/bench/mkstack.py" --scale "$scale" "$@" "$_o" "$_n" >/dev/null \
		2>"$_o.log" &&
		$cases stack "$dir" mk "$(basename "$_o")" "$_o"/l*.tar.gz
}

mkstacks() {
	mkdir -p "$dir/mk" || return 1
	for n in stack3 one many small small-10k; do mkstack $n || return 1; done
	for s in 2 3; do
		mkstack stack3 --seed $s && mkstack many --seed $s || return 1
	done
	rm -rf "$dir/mk/plain"
	$py "$top/bench/mkstack.py" --plain-from "$dir/mk/stack3" "$dir/mk/plain" plain \
		>/dev/null 2>"$dir/mk/plain.log" && $cases stack "$dir" mk plain "$dir/mk/plain"/l*.tar || return 1
	# the same layers as images (t/mkimage.py, as t0450 makes them)
	gzip -dc "$dir/mk/stack3/l01.tar.gz" >"$dir/mk/l1.tar" &&
		gzip -dc "$dir/mk/stack3/l02.tar.gz" >"$dir/mk/l2.tar" &&
		gzip -dc "$dir/mk/stack3/l03.tar.gz" >"$dir/mk/l3.tar" || return 1
	rm -rf "$dir/mk/oci" "$dir/mk/docker.tar"
	(cd "$dir/mk" && $py "$top/t/mkimage.py" oci-dir oci l1.tar l2.tar l3.tar \
		compress=gzip,plain,gzip >/dev/null &&
		$py "$top/t/mkimage.py" docker-old docker.tar l1.tar l2.tar l3.tar \
		tag=same:1 >/dev/null) || return 1
	rm -f "$dir/mk/l1.tar" "$dir/mk/l2.tar" "$dir/mk/l3.tar"
	$cases stack "$dir" mk stack3-oci "$dir/mk/oci" &&
		$cases stack "$dir" mk stack3-docker "$dir/mk/docker.tar"
}

# seeds GROUP GENERATOR: seeds 1..SEEDS, two at a time
seeds() {
	_g=$1 _gen=$2
	mkdir -p "$dir/$_g"
	seq 1 "$seeds" | xargs -P 2 -I{} sh -c '
		rm -rf "$1/s$4" && $2 "$3" --seed "$4" "$1/s$4" >"$1/s$4.list"' \
		sh "$dir/$_g" "$py" "$top/t/$_gen" {} || return 1
	for s in $(seq 1 "$seeds"); do
		# shellcheck disable=SC2046
		$cases stack "$dir" "$_g" "s$s" $(cat "$dir/$_g/s$s.list") || return 1
	done
}

corpus() {
	c=$top/../shared/corpus
	[ -d "$c" ] || { echo "same.sh: no corpus at $c: left out" >&2; return 0; }
	$cases corpus "$dir" "$c"
}

# record: the test scripts, two at a time, with the shim as their tarflat
TESTS=${SAME_TESTS:-"t0050 t0100 t0110 t0200 t0300 t0310 t0400 t0410 t0420 t0425
t0428 t0429 t0430 t0440 t0450 t0455 t0460 t0465 t0490 t0500 t0700 t0710 t0900
t0910 t0920 t0921 t0930"}
record() {
	rm -rf "$dir/rec" "$dir/cases/rec" "$dir/trash" && mkdir -p "$dir/rec/new" \
		"$dir/rec/blobs" "$dir/bin" || return 1
	# the shim: the signals ignored on entry (SigIgn, read with builtins
	# only: PATH may be /nonexistent) for Python, which ignores SIGPIPE
	cat >"$dir/bin/tarflat" <<-EOF || return 1
	#!/bin/sh
	while read -r k v; do [ "\$k" = SigIgn: ] && SAME_SIGIGN=\$v; done </proc/\$\$/status
	export SAME_SIGIGN
	exec $py $top/bench/same-cases.py record "\$@"
	EOF
	chmod +x "$dir/bin/tarflat" || return 1
	for t in $TESTS; do
		ls "$top"/t/"$t"-*.sh 2>/dev/null
	done | xargs -P 2 -I{} sh -c '
		t=$(basename "$1" .sh)
		echo "same.sh: recording $t" >&2
		TARFLAT=$2/bin/tarflat SAME_REAL=$3 SAME_REC=$2/rec SAME_TEST=$t \
			TEST_TRASH=$2/trash bash "$1" >"$2/rec/$t.log" 2>&1 </dev/null
		rm -rf "$2/trash/$t"
		exit 0' sh {} "$dir" "$old" || return 1
	$cases collect "$dir"
}

step mkstacks mkstacks
step gen seeds gen genstack.py
step wild seeds wild wildstack.py
step corpus corpus
step record record

t0=$(date +%s)
rc=0
$cases compare "$dir" "$old" "$new" || rc=$?
echo "same.sh: compare took $(($(date +%s) - t0)) s" >&2
exit $rc
