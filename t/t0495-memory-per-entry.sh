#!/bin/bash
# Memory per entry (issue 8): what tarflat keeps for each member, measured
# as the growth of peak RSS between a 40k- and a 160k-member layer of
# small files in directories of 50, with symlinks and hardlinks. The two
# layers differ only in their number of members, so what does not grow
# with it (the program, buffers, the output pipe) cancels out. Before
# entries were packed (tar_entry and a full path per member, an inode per
# file, sorted child arrays) this was about 410 bytes; now about 130. The
# bound, 300, fails a return to the old layout. The trees are checked too:
# every member is written, so a run that drops entries cannot pass.
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/time ] || skip_all "/usr/bin/time not installed"
[ -z "${TARFLAT_SANITIZED:-}" ] && [ -z "${TARFLAT_SLOW:-}" ] ||
	skip_all "a sanitizer or valgrind build: its memory is not tarflat's"

# Writes big-N.tar: N members (dirs, files, symlinks, hardlinks), plain
# ustar (t/hostile.py's headers), and its count of members to big-N.count.
PYTHONPATH=$TDIR $PY - <<'EOF'
import random
from hostile import EOF, hdr, member

for n in (40000, 160000):
    r = random.Random(n)
    with open("big-%d.tar" % n, "wb") as f:
        count, files = 0, []
        d = None
        while count < n:
            if count % 52 == 0:
                d = "usr/share/pkg-%05d" % (count // 52)
                f.write(hdr(d + "/", "5") + hdr(d + "/data/", "5"))
                d += "/data"
                count += 2
                continue
            name = "%s/file-%06d.txt" % (d, count)
            k = r.random()
            if k < 0.05:
                f.write(hdr(name, "2", linkname="../data/x-%d" % r.randrange(100)))
            elif k < 0.07 and files:
                f.write(hdr(name, "1", linkname=r.choice(files)))
            else:
                f.write(member(name, data=bytes([97 + count % 26]) * r.randrange(0, 200)))
                files.append(name)
            count += 1
        f.write(EOF)
    with open("big-%d.count" % n, "w") as c:
        print(count, file=c)
EOF

rss_of() { # N: peak RSS in KiB of flattening big-N.tar, its output's names
	/usr/bin/time -f %M -o rss-$1.txt "$TARFLAT" big-$1.tar >out-$1.tar 2>err-$1.txt &&
		tar -tf out-$1.tar | grep -vc '^usr/$\|^usr/share/$'
}

small_n=$(rss_of 40000)
big_n=$(rss_of 160000)
# the implicit usr/ and usr/share/ are left out: no member names them
is "40k members: all written" "$small_n" "$(cat big-40000.count)"
is "160k members: all written" "$big_n" "$(cat big-160000.count)"
small_kib=$(tail -n 1 rss-40000.txt)
big_kib=$(tail -n 1 rss-160000.txt)
per=$(( (big_kib - small_kib) * 1024 / (160000 - 40000) ))
ok "peak RSS grows by at most 300 bytes a member (${per}: ${small_kib} -> ${big_kib} KiB)" \
	test "$per" -le 300
rm -f big-*.tar out-*.tar
done_testing
