#!/bin/bash
# t/fuzz/run.sh TARGET SECONDS [LIBFUZZER-OPTION...] - fuzz one target.
#
# Runs t/fuzz/bin/TARGET (make fuzz) for SECONDS in fork mode (one job at a
# time, going on after a crash, a timeout or an out-of-memory), growing
# t/fuzz/work/corpus/TARGET from t/fuzz/work/seeds/TARGET (t/fuzz/seeds.sh)
# and saving what it finds in t/fuzz/work/crashes/TARGET/. Made for long
# local runs under nohup; CI uses t/fuzz/ci.sh.
set -eu
FUZZ=$(cd "$(dirname "$0")" && pwd)
target=$1 seconds=$2
shift 2
work=$FUZZ/work
bin=$FUZZ/bin/$target
[ -x "$bin" ] || { echo "run.sh: $bin missing: run make fuzz" >&2; exit 2; }
[ -d "$work/seeds/$target" ] || bash "$FUZZ/seeds.sh" >/dev/null
mkdir -p "$work/corpus/$target" "$work/crashes/$target" "$work/run"
# Fork mode starts the binary again for each job: run a copy, so that a
# rebuild (make fuzz, ci.sh) does not change the code under a running fuzzer.
copy=$work/run/$target.$$
cp "$bin" "$copy"
exec "$copy" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
	-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
	-max_len=65536 -dict="$FUZZ/tar.dict" -print_final_stats=1 \
	-artifact_prefix="$work/crashes/$target/" "$@" \
	"$work/corpus/$target" "$work/seeds/$target"
