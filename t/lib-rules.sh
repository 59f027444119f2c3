# t/lib-rules.sh - helpers for the rule tests t0050..t0499, sourced after
# t/lib.sh. Expected trees are written by hand in the tests; these helpers only
# compute the "SIZE:SHA256-PREFIX" column of a file from the bytes the test put
# in, and check the error contract of tarflat.1 EXIT STATUS and LIMITS.
#   h TEXT             detail column for a file holding exactly TEXT
#   hsz N              detail column for mklayer's `size=N` payload
#   hfile FILE         detail column for FILE's bytes
#   lst DIR [--fields F]  tree DIR with tabs turned into single spaces
#   members TAR        one line a member: NAME TYPE LINKNAME (Python tarfile)
#   fails DESC RE LAYER...  tarflat must exit 1, write zero bytes on stdout and
#                      say `tarflat: LAYER: offset N: ...` matching RE (ERE)
T0=1000000000

# Python here runs only the standard library (mklayer, treedump, tarfile), so
# start it without site-packages and without a version-manager shim: a pyenv
# shim plus a site .pth importing certifi cost ~0.4 s a call, 40x the rest.
_py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -n "$_py" ]; then
	mkdir -p "$T/.bin" &&
		printf '#!/bin/sh\nexec "%s" -S "$@"\n' "$_py" >"$T/.bin/python3" &&
		chmod +x "$T/.bin/python3" && PATH=$T/.bin:$PATH
fi

h() {
	printf '%s:%s' "$(printf '%s' "$1" | wc -c | tr -d ' ')" \
		"$(printf '%s' "$1" | sha256sum | cut -c1-16)"
}

hsz() {
	python3 - "$1" <<'EOF'
import hashlib, sys
n = int(sys.argv[1]); out = bytearray(); i = 0
while len(out) < n:
    out += hashlib.sha256(str(i).encode()).digest(); i += 1
print("%d:%s" % (n, hashlib.sha256(bytes(out[:n])).hexdigest()[:16]), end="")
EOF
}

hfile() {
	printf '%s:%s' "$(wc -c <"$1" | tr -d ' ')" "$(sha256sum <"$1" | cut -c1-16)"
}

lst() {
	tree "$@" | tr '\t' ' '
}

members() {
	python3 - "$1" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1]) as tf:
    for m in tf:
        print(m.name, m.type.decode("latin-1"), m.linkname or "-")
EOF
}

# fails DESC RE LAYER... ; the file name in the message is the first argument
# that names the bad layer: pass it as $BAD when it is not the last argument.
fails() {
	_fd=$1 _fre=$2; shift 2
	_fbad=${BAD:-}
	if [ -z "$_fbad" ]; then
		for _fa; do _fbad=$_fa; done
	fi
	"$TARFLAT" "$@" >"$T/.fout" 2>"$T/.ferr"
	_fs=$?
	_fmsg=""
	[ $_fs -eq 1 ] || _fmsg="exit status $_fs, want 1"
	[ -s "$T/.fout" ] && _fmsg="$_fmsg; $(wc -c <"$T/.fout") bytes on stdout, want 0"
	grep -Eq "^tarflat: $_fbad: offset [0-9]+: " "$T/.ferr" ||
		_fmsg="$_fmsg; no 'tarflat: $_fbad: offset N: ' message"
	grep -Eq -- "$_fre" "$T/.ferr" || _fmsg="$_fmsg; message does not match /$_fre/"
	if [ -z "$_fmsg" ]; then
		_report 0 "$_fd"
	else
		_report 1 "$_fd"
		echo "# $_fmsg"
		sed 's/^/# stderr: /' "$T/.ferr" | head -n 10
		return 1
	fi
}

# two_layers: writes l1.tar and l2.tar, a small two-layer image, and sets
# want12 to the tree they flatten to (written out by hand).
two_layers() {
	mklayer l1.tar <<'EOF'
dir d mtime=10
file d/a data=one mtime=11
file d/b data=bee mtime=12
EOF
	mklayer l2.tar <<'EOF'
file d/a data=two mtime=21
symlink d/s a mtime=22
EOF
	want12=$(cat <<EOF
d d 0755 0:0 10 - - -
d/a f 0644 0:0 21 $(h two) - -
d/b f 0644 0:0 12 $(h bee) - -
d/s l 0777 0:0 22 ->a - -
EOF
)
}
