#!/bin/bash
# t/fuzz/ci.sh - build the libFuzzer targets with clang and fuzz each one
# for FUZZ_SECONDS (default 60) from its seeds (t/fuzz/seeds.sh) and its
# saved regression inputs (t/fuzz/regress/TARGET-*). Exits 1 when a target
# finds a crash, a leak, a timeout (-timeout=10) or breaks one of its own
# checks, naming the saved input; 2 when the targets cannot be built.
#
#   FUZZ_SECONDS=60 FUZZ_CC=clang bash t/fuzz/ci.sh [TARGET...]
#
# The run's files go to FUZZ_WORK (default: a temporary directory, kept
# when something failed so the inputs can be added to t/fuzz/regress/).
set -u
export LC_ALL=C TZ=UTC
FUZZ=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$FUZZ/../.." && pwd)
SECONDS_EACH=${FUZZ_SECONDS:-60}
FUZZ_CC=${FUZZ_CC:-clang}
[ $# -gt 0 ] || set -- fuzz_header fuzz_gzip fuzz_flatten fuzz_image fuzz_json

if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
	echo "ci.sh: $FUZZ_CC not found: install clang (and libclang-rt-dev)" >&2
	exit 2
fi
make -C "$TOP" --no-print-directory fuzz-bins FUZZ_CC="$FUZZ_CC" || exit 2

work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/tarflat-fuzz.XXXXXX")}
mkdir -p "$work"
bash "$FUZZ/seeds.sh" "$work/seeds" || exit 2

pass=0 fail=0
for t in "$@"; do
	mkdir -p "$work/corpus/$t" "$work/crashes/$t" "$work/seeds/$t"
	dict=$FUZZ/tar.dict
	case $t in
	fuzz_image | fuzz_json)
		dict=$FUZZ/json.dict
		cp "$FUZZ/seeds-${t#fuzz_}"/* "$work/seeds/$t/"
		;;
	esac
	for f in "$FUZZ"/regress/"$t"-*; do
		[ -f "$f" ] && cp "$f" "$work/seeds/$t/"
	done
	echo "# $t: fuzzing for $SECONDS_EACH s"
	"$FUZZ/bin/$t" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 \
		-timeout=10 -max_len=65536 -dict="$dict" \
		-print_final_stats=1 -artifact_prefix="$work/crashes/$t/" \
		"$work/corpus/$t" "$work/seeds/$t" >"$work/$t.log" 2>&1
	rc=$?
	stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$work/$t.log" | tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "ok - $t: $stats"
		pass=$((pass + 1))
	else
		echo "not ok - $t: exit $rc; log $work/$t.log"
		grep -E -A40 '^==[0-9]+==ERROR|fuzz assertion failed|runtime error|ALARM|out-of-memory' \
			"$work/$t.log" | head -n 60 | sed 's/^/# /'
		for c in "$work/crashes/$t"/*; do
			[ -f "$c" ] && echo "# input saved: $c (add it as t/fuzz/regress/$t-NAME)"
		done
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
if [ $fail -eq 0 ] && [ -z "${FUZZ_WORK:-}" ]; then
	rm -rf "$work"
fi
[ $fail -eq 0 ]
