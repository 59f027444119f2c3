#!/bin/bash
# The contract on stacks written to break the resolver: for each seed,
# t/wildstack.py (a generator written apart from the resolver and from
# t/genstack.py, see its header) writes a 2-6 layer stack with implicit
# parents under setgid and sticky directories, whiteouts and opaque markers
# followed in the same layer by entries through what they removed, late
# whiteouts, retyped paths, symlink chains and climbing targets used as
# parents, hardlinks to overwritten and deleted targets.  umoci 0.4.7 is the
# reference, through t/diffumoci.sh -m:
#   - umoci builds a tree: GNU tar's extraction of tarflat's output must be
#     the same tree, except the mtime of directories umoci stamped with the
#     current time (implicit parents, directories whose children it made or
#     removed), which is not compared (the count is reported);
#   - umoci refuses the stack: tarflat must refuse it too (exit 1, nothing on
#     stdout), and not at an entry before the one umoci failed on
#     (wildstack.py --blame: a refusal in common must not hide a
#     divergence);
#   - except where umoci failed on a hardlink whose target the same layer
#     writes later (tarflat.1 rule 4: umoci refuses it, tarflat binds it; the
#     generator avoids these, but its loose record of what exists cannot
#     always tell): then tarflat must accept the stack (counted as "late").
#
#   TARFLAT_WILD_STACKS=N   number of seeds (default 50)
#   TARFLAT_WILD_FIRST=S    first seed (default 1): seeds S .. S+N-1
#   TARFLAT_WILD_JOBS=J     stacks checked at once (default: nproc)
#   TARFLAT_WILD_KEEP=1     keep every stack and work directory, not only
#                           the failing ones
#
# A failing seed keeps its stack (t/trash/t0520-umoci-wild/sSEED, with
# stack.txt and stack.json) and the work directory (wSEED: both trees, the
# unmasked ones as *.tree.full, umoci's OCI layout, tarflat's output);
# reproduce with
#   python3 t/wildstack.py --seed SEED DIR | xargs bash t/diffumoci.sh -m /dev/stdout
. "$(dirname "$0")/lib.sh"
need umoci python3
need_root
export TARFLAT  # for t/diffumoci.sh

N=${TARFLAT_WILD_STACKS:-50}
FIRST=${TARFLAT_WILD_FIRST:-1}
JOBS=${TARFLAT_WILD_JOBS:-$(nproc 2>/dev/null || echo 2)}
KEEP=${TARFLAT_WILD_KEEP:-}

# one SEED: generate, diff; in rSEED the output, in rSEED.rc the outcome:
# same (identical trees), refused (by both), or a failure
one() {
	_s=$1
	{
		python3 -S "$TDIR/wildstack.py" --seed "$_s" "$T/s$_s" >"$T/l$_s" ||
			{ echo "wildstack.py failed"; echo failed >"$T/r$_s.rc"; exit; }
		# shellcheck disable=SC2046
		bash "$TDIR/diffumoci.sh" -m "$T/m$_s" -w "$T/w$_s" $(cat "$T/l$_s")
		_rc=$?
		if [ $_rc -eq 2 ]; then
			# umoci refused: tarflat must refuse too, writing nothing
			# shellcheck disable=SC2046
			"$TARFLAT" $(cat "$T/l$_s") >"$T/o$_s" 2>"$T/e$_s"
			_trc=$?
			_hl=$(sed -n 's/.*unpack entry: \(.*\): link: no such file or directory$/\1/p' \
				"$T/w$_s/err" | head -n 1)
			if [ $_trc -eq 1 ] && [ ! -s "$T/o$_s" ]; then
				# and not at an entry umoci went past
				if python3 -S "$TDIR/wildstack.py" --blame "$T/s$_s" "$T/w$_s/err" "$T/e$_s"; then
					_rc=refused
				else
					sed 's/^/  tarflat: /' "$T/e$_s"
					_rc=failed
				fi
			elif [ $_trc -eq 0 ] && [ -n "$_hl" ] &&
				python3 -S "$TDIR/wildstack.py" --late-link "$T/s$_s/stack.json" "$_hl"; then
				echo "umoci refused the hardlink $_hl, whose target comes later in its layer"
				_rc=late
			else
				echo "umoci refused the stack, tarflat exited $_trc with $(wc -c <"$T/o$_s") bytes on stdout"
				sed 's/^/  tarflat: /' "$T/e$_s"
				_rc=failed
			fi
		elif [ $_rc -eq 0 ]; then
			_rc=same
		else
			_rc=failed
		fi
		echo $_rc >"$T/r$_s.rc"
		[ $_rc = failed ] || [ -n "$KEEP" ] || rm -rf "$T/s$_s" "$T/w$_s" "$T/o$_s"
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
	case $(cat "$T/r$1.rc" 2>/dev/null) in
	same | refused | late) return 0 ;;
	esac
	echo "seed $1: stack $T/s$1 (stack.txt lists every member)"
	cat "$T/r$1"
	return 1
}
same=0 refused=0 late=0 masked=0 failed=0
for s in $(seq "$FIRST" "$last"); do
	case $(cat "$T/r$s.rc" 2>/dev/null) in
	same) same=$((same + 1)) masked=$((masked + $(cat "$T/m$s"))) ;;
	refused) refused=$((refused + 1)) ;;
	late) late=$((late + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
	ok "seed $s: tarflat builds umoci's tree, or refuses with it" result "$s"
done
echo "# seeds $FIRST..$last: $same identical ($masked directories with umoci's" \
	"current-time mtime not compared), $refused refused by both, $late late" \
	"hardlinks umoci refused and tarflat took, $failed failed"

done_testing
