#!/bin/bash
# Whole images and input kinds (tarflat.1 LAYER SEMANTICS and DESCRIPTION): empty layers, one-layer and
# 20-layer images, plain and gzip (multi-member, pigz) mixed and told apart
# by content. Other writers and sparse input: t0425.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
export TAR_OPTIONS=--warning=no-timestamp

two_layers

# empty layers
mklayer empty.tar </dev/null
head -c 1024 /dev/zero >zeros.tar
gzip -c empty.tar >empty.tar.gz
flatten e.tar empty.tar 2>e.err
is "layers: an empty layer alone -> exit 0" "$?" 0
is "layers: an empty image lists no member" "$(tar -tf e.tar | wc -l)" 0
is "3 output: an empty image is zero blocks only (>= 2, whole blocks)" \
	"$(python3 -c 'import sys; b = open("e.tar", "rb").read(); print(len(b) >= 1024 and len(b) % 512 == 0 and b.count(0) == len(b))')" True
flatten_x out l1.tar empty.tar zeros.tar empty.tar.gz l2.tar
is "layers: empty layers (tarfile, 1024 zeros, gzip) between others change nothing" "$(lst out)" "$want12"

# a one-layer image; GNU tar extracting the layer itself is the reference
mklayer one.tar <<'EOF'
dir etc mode=0755 mtime=100
file etc/passwd data=root:x:0:0 mode=0644 mtime=101
file etc/shadow data=root:! mode=0640 gid=42 mtime=102
dir usr mtime=110
dir usr/bin mtime=111
file usr/bin/busybox size=9000 mode=0755 mtime=112
hardlink usr/bin/sh usr/bin/busybox
hardlink usr/bin/ls usr/bin/busybox
symlink bin usr/bin mtime=113
dir tmp mode=1777 mtime=120
dir home mtime=130
dir home/user mode=0700 uid=1000 gid=1000 mtime=131
file home/user/.profile data=PS1=$ uid=1000 gid=1000 mtime=132
EOF
want_one=$(cat <<EOF
bin l 0777 0:0 113 ->usr/bin - -
etc d 0755 0:0 100 - - -
etc/passwd f 0644 0:0 101 $(h root:x:0:0) - -
etc/shadow f 0640 0:42 102 $(h 'root:!') - -
home d 0755 0:0 130 - - -
home/user d 0700 1000:1000 131 - - -
home/user/.profile f 0644 1000:1000 132 $(h 'PS1=$') - -
tmp d 1777 0:0 120 - - -
usr d 0755 0:0 110 - - -
usr/bin d 0755 0:0 111 - - -
usr/bin/busybox f 0755 0:0 112 $(hsz 9000) =usr/bin/busybox -
usr/bin/ls f 0755 0:0 112 $(hsz 9000) =usr/bin/busybox -
usr/bin/sh f 0755 0:0 112 $(hsz 9000) =usr/bin/busybox -
EOF
)
extract one.tar ref
is "layers: (reference) GNU tar extracting the one layer agrees with the expectation" "$(lst ref)" "$want_one"
flatten_x out one.tar
is "layers: one-layer image" "$(lst out)" "$want_one"

# a 20-layer image, each layer changing something; odd layers gzip, mixed formats
i=0
layer() { # FORMAT < SPEC
	i=$((i + 1))
	if [ $((i % 2)) -eq 1 ]; then
		mklayer L$i --format "$1" --gzip
	else
		mklayer L$i --format "$1"
	fi
}
layer pax <<'EOF'
dir bin mtime=100
dir etc mtime=100
dir usr mtime=100
dir usr/bin mtime=100
dir var mtime=100
file etc/passwd data=root:x:0:0 mtime=101
file usr/bin/tool data=v1 mode=0755 mtime=102
file etc/motd data=hello mtime=103
EOF
layer gnu <<'EOF'
file usr/bin/tool data=v2 mode=0755 mtime=202
EOF
layer ustar <<'EOF'
hardlink usr/bin/tool2 usr/bin/tool
EOF
layer pax <<'EOF'
file etc/passwd data=root:x:0:0,app mtime=401
EOF
layer gnu <<'EOF'
whiteout usr/bin/tool
EOF
layer pax <<'EOF'
dir var/log mode=0750 mtime=600
file var/log/a.log data=a mtime=601
EOF
layer ustar <<'EOF'
dir var mode=0711 mtime=700
EOF
layer pax <<'EOF'
symlink etc/localtime /usr/share/zoneinfo/UTC mtime=800
EOF
layer gnu <<'EOF'
file usr/share/zoneinfo/UTC data=TZif mtime=900
EOF
layer pax <<'EOF'
opaque var/log
file var/log/b.log data=b mtime=1001
EOF
layer ustar <<'EOF'
file etc/motd data=bye mode=0600 uid=1 gid=1 mtime=1101
EOF
layer pax <<'EOF'
whiteout etc/motd
EOF
layer gnu <<'EOF'
dir opt mtime=1300
file opt/app data=app mode=0755 mtime=1301
EOF
layer pax <<'EOF'
file opt data=not-a-dir mtime=1400
EOF
layer ustar <<'EOF'
whiteout opt
dir opt mode=0700 mtime=1500
EOF
layer pax <<'EOF'
symlink lib usr/lib mtime=1600
dir usr/lib mtime=1601
EOF
layer gnu <<'EOF'
file lib/libc.so data=libc mode=0755 mtime=1700
EOF
layer pax <<'EOF'
hardlink usr/lib/libc.so.6 lib/libc.so
EOF
layer ustar <<'EOF'
file /usr/lib/libc.so data=libc2 mode=0755 mtime=1900
EOF
layer pax <<'EOF'
whiteout var/log/b.log
file etc/hostname data=box mtime=2000
EOF
is "layers: (setup) twenty layers built" "$i" 20
flatten_x out L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11 L12 L13 L14 L15 L16 L17 L18 L19 L20
is "layers: 20-layer image, gzip and plain, pax/gnu/ustar mixed" "$(lst out)" "$(cat <<EOF
bin d 0755 0:0 100 - - -
etc d 0755 0:0 100 - - -
etc/hostname f 0644 0:0 2000 $(h box) - -
etc/localtime l 0777 0:0 800 ->/usr/share/zoneinfo/UTC - -
etc/passwd f 0644 0:0 401 $(h root:x:0:0,app) - -
lib l 0777 0:0 1600 ->usr/lib - -
opt d 0700 0:0 1500 - - -
usr d 0755 0:0 100 - - -
usr/bin d 0755 0:0 100 - - -
usr/bin/tool2 f 0755 0:0 202 $(h v2) - -
usr/lib d 0755 0:0 1601 - - -
usr/lib/libc.so f 0755 0:0 1900 $(h libc2) - -
usr/lib/libc.so.6 f 0755 0:0 1700 $(h libc) - -
usr/share d 0755 0:0 900 - - -
usr/share/zoneinfo d 0755 0:0 900 - - -
usr/share/zoneinfo/UTC f 0644 0:0 900 $(h TZif) - -
var d 0711 0:0 700 - - -
var/log d 0750 0:0 600 - - -
EOF
)"

# told apart by content, not by name
cp l1.tar looks-gzipped.tar.gz
gzip -c l2.tar >looks-plain.tar
flatten_x out looks-gzipped.tar.gz looks-plain.tar
is "4 inputs: plain and gzip told apart by content, not by name" "$(lst out)" "$want12"

# multi-member gzip, split mid-header and mid-content; pigz output
python3 - <<'EOF'
import gzip
raw = open("l2.tar", "rb").read()
cuts = [0, 700, 1500, len(raw)]
with open("multi.tar.gz", "wb") as f:
    for a, b in zip(cuts, cuts[1:]):
        f.write(gzip.compress(raw[a:b], mtime=0))
EOF
flatten_x out l1.tar multi.tar.gz
is "4 inputs: multi-member gzip (members split mid-header)" "$(lst out)" "$want12"
if command -v pigz >/dev/null 2>&1; then
	pigz -c -p 2 -b 32 l2.tar >pigz.tar.gz
	gzip -N -c l1.tar >named.tar.gz
	flatten_x out named.tar.gz pigz.tar.gz
	is "4 inputs: pigz and gzip with a stored file name" "$(lst out)" "$want12"
else
	skip "4 inputs: pigz and gzip with a stored file name" "pigz not installed"
fi

done_testing
