#!/bin/bash
# The emit's plan against the plain path: the same stacks as gzip layers
# (content through ahead.c's jobs, held parts and restarts, with -j 1, 2
# and 5) and as plain layers (content by pread and splice) must give the
# very same bytes, and so must stacks that mix the two. The stacks are
# bench/mkstack.py's stack3 and many at a tenth and a twentieth of their
# size, other seeds: several 2 MiB spans a layer, later layers that
# overwrite, hardlink to and white out files of earlier ones, so the
# output's order jumps back and forth in every layer.
# TARFLAT_AHEAD_SEEDS=N runs N seeds of each (default 3).
. "$(dirname "$0")/lib.sh"
need gzip
MKSTACK=$TDIR/../bench/mkstack.py
[ -f "$MKSTACK" ] || skip_all "no bench/mkstack.py"

for seed in $(seq 1 "${TARFLAT_AHEAD_SEEDS:-3}"); do
	for s in stack3:0.1 many:0.05; do
		name=${s%%:*} d=$name.$seed
		if ! $PY "$MKSTACK" --scale "${s#*:}" --keep-tar --seed "$seed" "$d" "$name" 2>mk.err; then
			sed 's/^/# /' mk.err
			ok "$d: mkstack.py built the stack" false
			continue
		fi
		plain=$(ls "$d"/l*.tar) gz=$(ls "$d"/l*.tar.gz)
		# shellcheck disable=SC2086
		"$TARFLAT" $plain >"$d.plain" 2>"$d.err"
		ok "$d: plain layers: exit 0, stderr empty" test $? -eq 0 -a ! -s "$d.err"
		for j in 1 2 5; do
			# shellcheck disable=SC2086
			"$TARFLAT" -j $j $gz >"$d.j$j" 2>"$d.err"
			ok "$d -j $j: gzip layers: exit 0, stderr empty" test $? -eq 0 -a ! -s "$d.err"
			ok "$d -j $j: gzip layers give the plain layers' bytes" cmp -s "$d.plain" "$d.j$j"
		done
		# every other layer gzip, starting with the first
		mixed=$(i=0; for l in $plain; do
			if [ $((i % 2)) -eq 0 ]; then echo "$l.gz"; else echo "$l"; fi
			i=$((i + 1))
		done)
		# shellcheck disable=SC2086
		"$TARFLAT" $mixed >"$d.mixed" 2>"$d.err"
		ok "$d: mixed plain and gzip layers give the same bytes" cmp -s "$d.plain" "$d.mixed"
		rm -rf "$d" "$d".*
	done
done

done_testing
