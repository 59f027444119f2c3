#!/bin/bash
# tarflat.1 EXIT STATUS and DIAGNOSTICS: "If an input changes between the two reads (size, mtime or gzip CRC
# differ), stop, say so, exit 1, and do not write the end-of-archive blocks."
# tarflat's stdout is a pipe nobody reads yet, so it blocks while emitting;
# then a layer is changed and the pipe drained.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
need mkfifo
[ -r /proc/self/wchan ] || skip_all "no /proc/PID/wchan to see tarflat block"

mklayer l1.tar <<'EOF'
file big size=4194304
EOF
mklayer l2.tar <<'EOF'
file z data=z
EOF

# changed LABEL CHANGE-COMMAND: run tarflat into a pipe, change a layer while
# it is blocked writing, drain; sets rc and leaves out.tar and err
changed() {
	rm -f p out.tar err && mkfifo p || return 1
	"$TARFLAT" l1.tar l2.tar >p 2>err &
	pid=$!
	exec 3<p
	for _ in $(seq 1 200); do
		grep -q pipe /proc/$pid/wchan 2>/dev/null && break
		sleep 0.05
	done
	blocked=$(grep -c pipe /proc/$pid/wchan 2>/dev/null)
	eval "$1"
	cat <&3 >out.tar
	exec 3<&-
	wait $pid
	rc=$?
}

cp l2.tar l2.orig
changed 'touch -d @5 l2.tar'
is "5 input changed: (setup) tarflat was blocked writing when l2 changed" "$blocked" 1
is "5 input changed (mtime): exit 1" "$rc" 1
ok "5 input changed (mtime): says so, naming the layer" grep -Eq '^tarflat: l2\.tar: .*chang' err
ok "5 input changed (mtime): no end-of-archive blocks written" python3 -c '
import sys
b = open("out.tar", "rb").read()
sys.exit(0 if len(b) > 0 and b[-1024:] != bytes(1024) else "ends with zero blocks (%d bytes)" % len(b))'

cp l2.orig l2.tar
changed 'printf x >>l2.tar; touch -r l2.orig l2.tar'
is "5 input changed (size): exit 1" "$rc" 1
ok "5 input changed (size): says so" grep -Eq '^tarflat: l2\.tar: .*chang' err

# a gzip layer rewritten in place with the same size and mtime: the CRC differs
# stored (level 0) deflate blocks: same size whatever the bytes
for v in a b; do
	mklayer l2$v.raw <<EOF
file z data=$v
EOF
	python3 -c 'import gzip, sys; sys.stdout.buffer.write(gzip.compress(open(sys.argv[1], "rb").read(), compresslevel=0, mtime=0))' l2$v.raw >l2$v.tar.gz
done
if [ "$(wc -c <l2a.tar.gz)" -eq "$(wc -c <l2b.tar.gz)" ]; then
	cp l2a.tar.gz l2.tar && touch -d @77 l2.tar
	changed 'cat l2b.tar.gz >l2.tar; touch -d @77 l2.tar'
	is "5 input changed (gzip CRC, same size and mtime): exit 1" "$rc" 1
	ok "5 input changed (gzip CRC): says so" grep -Eq '^tarflat: l2\.tar: .*(chang|CRC|crc|check)' err
	ok "5 input changed (gzip CRC): no end-of-archive blocks written" python3 -c '
import sys
b = open("out.tar", "rb").read()
sys.exit(0 if len(b) > 0 and b[-1024:] != bytes(1024) else "ends with zero blocks (%d bytes)" % len(b))'
else
	skip "5 input changed (gzip CRC)" "the two gzip layers differ in size"
fi

done_testing
