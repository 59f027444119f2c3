#!/bin/bash
# tarflat.1 IMPLEMENTATION NOTES, the output pass, as seen from outside: content is fetched by (layer, offset), so
# a walk that needs bytes behind a gzip layer's inflate cursor (a layer that is
# not depth-first; a hardlink carrier whose bytes come last) still gets the
# right bytes.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"

# a gzip layer read out of order: the walk needs content that lies behind
# the inflate cursor (and a carrier whose bytes are the layer's last)
python3 - <<'EOF'
import base64, io, os, random, tarfile
r = random.Random(977)
os.makedirs("big", exist_ok=True)
order = ["d2/b", "d1/a", "d2/c", "d1/e"]
for n in order:
    os.makedirs("big/" + os.path.dirname(n), exist_ok=True)
    # base64 text: deflate codes it with Huffman blocks, not stored ones
    open("big/" + n, "wb").write(base64.b64encode(r.randbytes(3 << 20))[:3 << 20])
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
    ln = tarfile.TarInfo("d2/aa"); ln.type, ln.linkname = tarfile.LNKTYPE, "d1/e"
    tf.addfile(ln)
    for n in order:
        ti = tarfile.TarInfo(n); ti.size, ti.mtime = 3 << 20, 1000
        tf.addfile(ti, open("big/" + n, "rb"))
open("big.tar", "wb").write(buf.getvalue())
EOF
gzip -1 -n big.tar
flatten_x out big.tar.gz
is "4 inputs: gzip content fetched behind the cursor, carrier bytes last in the layer" \
	"$(lst out --fields path,type,detail,link)" "$(cat <<EOF
d1 d - -
d1/a f $(hfile big/d1/a) -
d1/e f $(hfile big/d1/e) =d1/e
d2 d - -
d2/aa f $(hfile big/d1/e) =d1/e
d2/b f $(hfile big/d2/b) -
d2/c f $(hfile big/d2/c) -
EOF
)"
is "3 order: that output's walk (so the reads above did go backwards)" "$(tar -tf .flat.tar)" \
	"$(printf '%s\n' d2/ d2/aa d2/b d2/c d1/ d1/a d1/e)"

done_testing
