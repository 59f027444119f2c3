#!/bin/bash
# The contract (tarflat.1 LAYER SEMANTICS) on random stacks: for each seed, t/genstack.py writes
# a 2-6 layer stack (files, dirs, symlinks, hardlinks across layers, whiteouts,
# opaque markers, replacements, names as x ./x /x, pax/gnu/ustar, plain and
# gzip) that umoci 0.4.7 is the reference for, and t/diffumoci.sh must find
# the tree of `umoci unpack` identical to GNU tar's extraction of tarflat's
# output.
#
#   TARFLAT_RANDOM_STACKS=N   number of seeds (default 50)
#   TARFLAT_RANDOM_FIRST=S    first seed (default 1): seeds S .. S+N-1
#   TARFLAT_RANDOM_JOBS=J     stacks checked at once (default: nproc)
#
# A failing seed keeps its stack (t/trash/t0510-umoci-random/sSEED, with a
# readable stack.txt) and the work directory (wSEED: both trees, umoci's OCI
# layout, tarflat's output); reproduce with
#   python3 t/genstack.py --seed SEED DIR | xargs bash t/diffumoci.sh
. "$(dirname "$0")/lib.sh"
need umoci python3
need_root
export TARFLAT  # for t/diffumoci.sh

N=${TARFLAT_RANDOM_STACKS:-50}
FIRST=${TARFLAT_RANDOM_FIRST:-1}
JOBS=${TARFLAT_RANDOM_JOBS:-$(nproc 2>/dev/null || echo 2)}

# one SEED: generate, diff; the result (status, output) in rSEED
one() {
	_s=$1
	{
		python3 -S "$TDIR/genstack.py" --seed "$_s" "$T/s$_s" >"$T/l$_s" ||
			{ echo "genstack.py failed"; echo 9 >"$T/r$_s.rc"; exit; }
		# shellcheck disable=SC2046
		bash "$TDIR/diffumoci.sh" -w "$T/w$_s" $(cat "$T/l$_s")
		_rc=$?
		echo $_rc >"$T/r$_s.rc"
		[ $_rc -eq 0 ] && rm -rf "$T/s$_s" "$T/w$_s"
	} >"$T/r$_s" 2>&1
}

last=$((FIRST + N - 1))
running=0
for s in $(seq "$FIRST" "$last"); do
	one "$s" &
	running=$((running + 1))
	if [ $running -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

# result SEED: replay the stored result for ok()
result() {
	[ "$(cat "$T/r$1.rc" 2>/dev/null)" = 0 ] && return 0
	echo "seed $1: stack $T/s$1 (stack.txt lists every member)"
	cat "$T/r$1"
	return 1
}
for s in $(seq "$FIRST" "$last"); do
	ok "seed $s: umoci and tarflat build the same tree" result "$s"
done

done_testing
