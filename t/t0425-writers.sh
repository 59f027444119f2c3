#!/bin/bash
# Layers from other writers (tarflat.1 DESCRIPTION): GNU tar (v7, ustar, gnu, oldgnu, posix)
# and bsdtar (ustar, pax, gnutar, v7tar), including a whiteout and a hardlink
# whose target it deletes; GNU sparse files (tarflat.1 rule 6: old GNU 'S', pax 0.0,
# 0.1, 1.0) flattened to regular files with identical bytes.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
export TAR_OPTIONS=--warning=no-timestamp

# layers written by GNU tar and bsdtar in every format
mkdir -p src/d src2/d
printf 'eff' >src/d/f
ln src/d/f src/d/hard
ln -s f src/d/link
printf 'ex' >src/x
chmod 0600 src/x
chown 1234:5678 src/x
ldir=d/$(printf 'n%.0s' $(seq 1 60))
lname=$ldir/$(printf 'm%.0s' $(seq 1 60))
mkdir "src/$ldir"
printf 'long' >"src/$lname"
touch -h -d @101 src/d/f src/d/link src/x "src/$lname"
touch -d @102 "src/$ldir"
chmod 0750 src/d src2/d
touch -d @100 src/d
touch -d @90 src
: >src2/d/.wh.f
printf 'new' >src2/d/new
touch -d @201 src2/d/new src2/d/.wh.f
touch -d @100 src2/d
touch -d @90 src2
want_src=$(cat <<EOF
d d 0750 0:0 100 - - -
d/hard f 0644 0:0 101 $(h eff) - -
d/link l 0777 0:0 101 ->f - -
d/new f 0644 0:0 201 $(h new) - -
$ldir d 0755 0:0 102 - - -
$lname f 0644 0:0 101 $(h long) - -
x f 0600 1234:5678 101 $(h ex) - -
EOF
)
for fmt in v7 ustar gnu oldgnu posix; do
	ex=
	[ $fmt = v7 ] && ex=--exclude=n*
	tar --format=$fmt --sort=name $ex -cf gnutar-$fmt-1.tar -C src . 2>/dev/null
	tar --format=$fmt --sort=name -cf gnutar-$fmt-2.tar -C src2 d 2>/dev/null
	flatten_x out gnutar-$fmt-1.tar gnutar-$fmt-2.tar
	if [ $fmt = v7 ]; then
		is "4 inputs: GNU tar --format=$fmt layers" "$(lst out)" "$(printf '%s\n' "$want_src" | grep -v "^$ldir")"
	else
		is "4 inputs: GNU tar --format=$fmt layers" "$(lst out)" "$want_src"
	fi
done
if command -v bsdtar >/dev/null 2>&1; then
	for fmt in ustar pax gnutar v7tar; do
		ex=
		[ $fmt = v7tar ] && ex=--exclude=n*
		(cd src && bsdtar --format $fmt $ex -cf ../bsdtar-$fmt-1.tar ./x ./d) 2>/dev/null
		(cd src2 && bsdtar --format $fmt -cf ../bsdtar-$fmt-2.tar d) 2>/dev/null
		flatten_x out bsdtar-$fmt-1.tar bsdtar-$fmt-2.tar
		if [ $fmt = v7tar ]; then
			is "4 inputs: bsdtar --format $fmt layers" "$(lst out)" "$(printf '%s\n' "$want_src" | grep -v "^$ldir")"
		else
			is "4 inputs: bsdtar --format $fmt layers" "$(lst out)" "$want_src"
		fi
	done
else
	skip "4 inputs: bsdtar layers" "bsdtar not installed"
fi

# GNU sparse input: old GNU 'S' and pax 0.0, 0.1, 1.0; written as pax 1.0 sparse
mkdir -p sp
python3 - <<'EOF'
with open("sp/f", "wb") as f:
    f.truncate(1 << 20)
    f.seek(100000); f.write(b"hello")
    f.seek(700001); f.write(b"x" * 5000)
    f.seek((1 << 20) - 3); f.write(b"end")
with open("sp/tailhole", "wb") as f:
    f.truncate(3 << 19)
    f.seek(10240); f.write(b"data" * 300)
EOF
touch -d @300 sp/f sp/tailhole
touch -d @301 sp
sparse_want=$(cat <<EOF
f f 0644 0:0 300 $(hfile sp/f) - -
tailhole f 0644 0:0 300 $(hfile sp/tailhole) - -
EOF
)
sparse_regions() { # TAR: each member's name, size, data regions, bytes stored
	python3 -c '
import sys, tarfile
for m in tarfile.open(sys.argv[1]):
    regions = [r for r in m.sparse if r[1]]
    print(m.name, m.size, m.issparse(), regions, sum(n for _, n in regions))' "$1"
}
for v in gnu 0.0 0.1 1.0; do
	if [ $v = gnu ]; then
		tar --format=gnu --sparse --sort=name -cf sparse-$v.tar -C sp f tailhole
	else
		tar --format=posix --sparse --sparse-version=$v --sort=name -cf sparse-$v.tar -C sp f tailhole
	fi
	insparse=$(python3 -c '
import sys, tarfile
print(all(m.issparse() for m in tarfile.open(sys.argv[1])))' sparse-$v.tar)
	flatten_x out sparse-$v.tar
	is "2.6 sparse ($v): input is sparse, output holds identical bytes" \
		"$insparse $(lst out)" "True $sparse_want"
	# kept sparse, as pax 1.0 (tarflat.1 OUTPUT): the same data regions
	# (a region of no bytes only where a hole ends the file), and only
	# their bytes stored
	is "2.6 sparse ($v): written sparse, the input's data regions, their bytes only" \
		"$(sparse_regions .flat.tar)" "$(sparse_regions sparse-$v.tar)"
	is "2.6 sparse ($v): the output is smaller than the files' full size" \
		"$(($(wc -c <.flat.tar) < 1048576 + 1572864))" 1
done

done_testing
