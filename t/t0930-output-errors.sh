#!/bin/bash
# Issue 3 "Hostile input: output errors": writing to a full disk (/dev/full)
# and to a pipe closed early (`| head -c 1000`) end cleanly with the right
# exit status and no stray messages for SIGPIPE.
# Decisions tested here:
# - a write error: exit 1, one line `tarflat: ...: <strerror>` on stderr;
# - a pipe closed by the reader: killed by SIGPIPE (status 141) as any
#   filter is, or exit 1; nothing on stderr either way;
# - the same with SIGPIPE ignored by the parent (EPIPE instead): exit 1 and
#   NOTHING on stderr (a closed pipe downstream is the reader's choice, not
#   an error worth a line; `yes | head` prints nothing either);
# - -o FILE that cannot be written leaves FILE as it was and no temporary
#   file beside it; a spooled standard input leaves nothing in $TMPDIR.
# Every run is under `timeout 30`: a hang fails instead of hanging CI.
. "$(dirname "$0")/lib.sh"
need timeout head

hpy() { PYTHONPATH=$TDIR $PY - "$@"; }
[ -w /dev/full ] || skip_all "no /dev/full"

# small: fits tarflat's output buffer (the error shows at the last flush);
# many: 20 000 headers (10 MiB out); bigfile: one 64 MiB file (the content
# copy path), plain and gzip
hpy <<'EOF'
import gzip
from hostile import *
open("small.tar", "wb").write(member("a", data="A") + EOF)
with open("many.tar", "wb") as f:
    r = Fast(f)
    for i in range(20000):
        r.add(b"f%05d" % i)
    r.flush()
    f.write(EOF)
with open("bigfile.tar", "wb") as f:
    f.write(hdr("big", size=64 << 20))
    blk = bytes(range(256)) * 4096          # 1 MiB, not all zeros
    for _ in range(64):
        f.write(blk)
    f.write(EOF)
with open("bigfile.tar", "rb") as f, open("bigfile.tar.gz", "wb") as g:
    g.write(gzip.compress(f.read(), compresslevel=1, mtime=0))
EOF

# ---- a full disk ---------------------------------------------------------
# full DESC ARGS...: tarflat ARGS... exits 1 with one line ending in the
# ENOSPC message; the caller redirected stdout
full_check() {
	_fd=$1 _rc=$2
	is "$_fd: exit 1, one message line, ENOSPC" \
		"$_rc $(wc -l <err) $(grep -c '^tarflat: .*No space left on device$' err)" "1 1 1" ||
		sed 's/^/# stderr: /' err | head -n 3
}
for l in small.tar many.tar bigfile.tar bigfile.tar.gz; do
	(timeout 30 "$TARFLAT" $l >/dev/full 2>err; exit $?) 2>/dev/null
	full_check "full: $l > /dev/full" $?
	(timeout 30 "$TARFLAT" -o /dev/full $l >out 2>err; exit $?) 2>/dev/null
	full_check "full: -o /dev/full $l" $?
	is "full: -o /dev/full $l: nothing on stdout" "$(wc -c <out)" 0
done
# the message names what could not be written (the output, not an input)
(timeout 30 "$TARFLAT" -o /dev/full small.tar 2>err; exit $?) 2>/dev/null
ok "full: the -o message names /dev/full" sh -c "grep -q '^tarflat: /dev/full: ' err || { cat err; false; }"
(timeout 30 "$TARFLAT" small.tar >/dev/full 2>err; exit $?) 2>/dev/null
ok "full: the stdout message names standard output" \
	sh -c "grep -q '^tarflat: standard output: ' err || { cat err; false; }"

# a regular -o FILE hitting the file size limit (RLIMIT_FSIZE, SIGXFSZ
# ignored: EFBIG): exit 1, FILE unchanged, no temporary file left beside it
mkdir -p odir && echo old >odir/o.tar
(ulimit -f 1024; trap '' XFSZ; timeout 30 "$TARFLAT" -o odir/o.tar bigfile.tar 2>err; exit $?) 2>/dev/null
rc=$?
is "full: -o FILE over the size limit: exit 1, a message" \
	"$rc $(grep -c '^tarflat: .*File too large' err)" "1 1" || sed 's/^/# stderr: /' err | head -n 3
is "full: -o FILE over the size limit: FILE unchanged, nothing beside it" \
	"$(cat odir/o.tar) $(ls odir | tr '\n' ' ')" "old o.tar "
(timeout 30 "$TARFLAT" -o nodir/o.tar small.tar 2>err; exit $?) 2>/dev/null
is "full: -o into a missing directory: exit 1, a message naming it" \
	"$? $(grep -c '^tarflat: nodir/o\.tar' err)" "1 1" || sed 's/^/# stderr: /' err | head -n 3

# standard output closed: an error, never a write into something else that
# took descriptor 1 (a layer, the spool file of '-')
cp many.tar keep.tar
(timeout 30 "$TARFLAT" keep.tar >&- 2>err; exit $?) 2>/dev/null
is "full: stdout closed: exit 1, a message" "$? $(wc -l <err)" "1 1"
cat keep.tar | (timeout 30 "$TARFLAT" - >&- 2>err; exit $?) 2>/dev/null
is "full: stdout closed, layer on stdin: exit 1, a message" "$? $(wc -l <err)" "1 1"
ok "full: stdout closed: the layer is untouched" cmp keep.tar many.tar

# a spooled standard input leaves nothing in $TMPDIR after a write error
mkdir -p spool
cat many.tar | (TMPDIR=$T/spool timeout 30 "$TARFLAT" - >/dev/full 2>/dev/null; exit $?) 2>/dev/null
is "full: stdin spooled, write error: exit 1, \$TMPDIR left empty" "$? $(ls spool | wc -l)" "1 0"

# ---- a pipe closed early ---------------------------------------------------
# closed DESC LAYER: tarflat LAYER | head -c 1000; tarflat must end by
# SIGPIPE (141) or exit 1, print nothing, and head must get its 1000 bytes
for l in many.tar bigfile.tar bigfile.tar.gz; do
	t0=$(date +%s)
	timeout 30 "$TARFLAT" $l 2>err | head -c 1000 >head.out
	st=(${PIPESTATUS[@]})
	secs=$(($(date +%s) - t0))
	case ${st[0]} in 141|1) good=yes ;; *) good="no (status ${st[0]})" ;; esac
	is "pipe: $l | head -c 1000: ends by SIGPIPE or exit 1, silent (${secs}s)" \
		"$good $(wc -c <head.out) $(wc -c <err)" "yes 1000 0" || sed 's/^/# stderr: /' err | head -n 3
	# SIGPIPE ignored by the parent: write gets EPIPE; exit 1, nothing said
	(
		trap '' PIPE
		timeout 30 "$TARFLAT" $l 2>err | head -c 1000 >head.out
		echo "${PIPESTATUS[0]}" >st
	)
	is "pipe: SIGPIPE ignored, $l | head -c 1000: exit 1, stderr empty" \
		"$(cat st) $(wc -c <head.out) $(wc -c <err)" "1 1000 0" || sed 's/^/# stderr: /' err | head -n 3
done
# a reader that takes nothing at all, and -o to a fifo whose reader leaves
timeout 30 "$TARFLAT" many.tar 2>err | true
st=${PIPESTATUS[0]}
is "pipe: tarflat | true: ends by SIGPIPE or exit 1, silent" \
	"$(case $st in 141|1) echo yes ;; *) echo "no ($st)" ;; esac) $(wc -c <err)" "yes 0"
rm -f fifo && mkfifo fifo
(head -c 1000 fifo >head.out) &
(trap '' PIPE; timeout 30 "$TARFLAT" -o fifo many.tar 2>err; echo $? >st)
wait
is "pipe: SIGPIPE ignored, -o FIFO whose reader leaves: exit 1, stderr empty" \
	"$(cat st) $(wc -c <head.out) $(wc -c <err)" "1 1000 0" || sed 's/^/# stderr: /' err | head -n 3
# the spool of '-' goes away when a closed pipe ends tarflat
rm -rf spool && mkdir spool
cat many.tar | TMPDIR=$T/spool timeout 30 "$TARFLAT" - 2>/dev/null | head -c 1000 >/dev/null
is "pipe: stdin spooled, pipe closed: \$TMPDIR left empty" "$(ls spool | wc -l)" 0

done_testing
