#!/bin/sh
# The hash map behind the path tree, against a reference (t/hltest.c).
. "$(dirname "$0")/lib.sh"
[ -x "$TDIR/hltest" ] || skip_all "t/hltest not built (run make check)"
ok "hash map agrees with a reference under random adds and deletes" "$TDIR/hltest"
done_testing
