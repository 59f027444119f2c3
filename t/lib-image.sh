# t/lib-image.sh - helpers for the image-input tests t0450..t0465, sourced
# after t/lib.sh and t/lib-rules.sh. Expectations come from the layer files a
# test builds (tarflat on the layers themselves, or GNU tar on them) and from
# the digests t/mkimage.py reports, never from tarflat's image code.
#   mkimage FORM OUT ARGS...   t/mkimage.py; what it prints goes to OUT.info
#   dig OUT NAME KEY [N]       a digest from OUT.info: KEY is manifest, config,
#                              index, layers or diffids (N-th, 1-based)
#   hex12 DIGEST               the first 12 hex digits of DIGEST
#   ref OUT LAYER...           tarflat on plain layers into OUT (the reference)
#   same DESC REF ARGS...      tarflat ARGS must exit 0 and write REF's bytes
#   ifails DESC RE INPUT ARGS...  tarflat ARGS must exit 1, write nothing on
#                              stdout and say `tarflat: INPUT...` with a message
#                              matching RE (ERE, case-insensitive)
#   TF_PATH=DIR same|ifails ...   run tarflat (only) with PATH=DIR
#   host_platform              this machine's platform as an index names it
#                              (empty when the test does not know it)
#   three_layers               l1.tar l2.tar l3.tar here: three layers whose
#                              order matters (a replaced file, a whiteout, an
#                              opaque directory, a hardlink that keeps old bytes)

# tarflat, run with PATH=$TF_PATH when that is set (the helpers themselves
# keep the test's PATH)
_tf() {
	if [ -n "${TF_PATH:-}" ]; then
		PATH=$TF_PATH "$TARFLAT" "$@"
	else
		"$TARFLAT" "$@"
	fi
}

mkimage() {
	_mf=$1 _mo=$2; shift 2
	if [ "$_mf" = --docker-layout ]; then
		_ml=$_mo _mf=$1 _mo=$2; shift 2
		$PY "$TDIR/mkimage.py" --docker-layout "$_ml" "$_mf" "$_mo" "$@" >"$_mo.info"
	else
		$PY "$TDIR/mkimage.py" "$_mf" "$_mo" "$@" >"$_mo.info"
	fi
}

dig() {
	awk -v n="$2" -v k="$3" -v i="${4:-1}" '
		$2 == n { for (f = 3; f <= NF; f++) if (index($f, k "=") == 1) {
			split(substr($f, length(k) + 2), d, ","); print d[i] } }' "$1.info"
}

hex12() {
	printf '%s' "${1#*:}" | cut -c1-12
}

ref() {
	_ro=$1; shift
	if ! "$TARFLAT" "$@" >"$_ro" 2>"$T/.referr"; then
		echo "# reference flatten failed: tarflat $*"
		sed 's/^/# /' "$T/.referr"
		return 1
	fi
}

same() {
	_sd=$1 _sr=$2; shift 2
	_tf "$@" >"$T/.sout" 2>"$T/.serr"
	_ss=$?
	if [ $_ss -eq 0 ] && [ -s "$_sr" ] && cmp -s "$T/.sout" "$_sr"; then
		_report 0 "$_sd"
	else
		_report 1 "$_sd"
		echo "# tarflat $* exited $_ss, $(wc -c <"$T/.sout") bytes; want the $(wc -c <"$_sr") bytes of $_sr"
		sed 's/^/# stderr: /' "$T/.serr" | head -n 10
		return 1
	fi
}

ifails() {
	_fd=$1 _fre=$2 _fin=$3; shift 3
	_tf "$@" >"$T/.fout" 2>"$T/.ferr"
	_fs=$?
	_fmsg=""
	[ $_fs -eq 1 ] || _fmsg="exit status $_fs, want 1"
	[ -s "$T/.fout" ] && _fmsg="$_fmsg; $(wc -c <"$T/.fout") bytes on stdout, want 0"
	awk -v p="tarflat: $_fin" 'index($0, p) == 1 { f = 1 } END { exit !f }' "$T/.ferr" ||
		_fmsg="$_fmsg; no line starting 'tarflat: $_fin'"
	grep -Eiq -- "$_fre" "$T/.ferr" || _fmsg="$_fmsg; message does not match /$_fre/"
	if [ -z "$_fmsg" ]; then
		_report 0 "$_fd"
	else
		_report 1 "$_fd"
		echo "# tarflat $*: $_fmsg"
		sed 's/^/# stderr: /' "$T/.ferr" | head -n 10
		return 1
	fi
}

host_platform() {
	case $(uname -m) in
	x86_64 | amd64) echo linux/amd64 ;;
	aarch64 | arm64) echo linux/arm64/v8 ;;
	*) echo "" ;;
	esac
}

three_layers() {
mklayer l1.tar <<'EOF'
dir etc mtime=100
file etc/passwd data=root:x:0:0 mtime=101
file etc/motd data=hello mtime=102
dir usr mtime=110
dir usr/bin mtime=111
file usr/bin/busybox size=5000 mode=0755 mtime=112
hardlink usr/bin/sh usr/bin/busybox
symlink bin usr/bin mtime=113
EOF
mklayer l2.tar <<'EOF'
file etc/passwd data=root:x:0:0,app mtime=201
whiteout etc/motd
dir opt mtime=202
file opt/app data=app mode=0755 mtime=203
file opt/old data=old mtime=204
EOF
mklayer l3.tar <<'EOF'
opaque opt
file opt/new data=new mtime=301
file usr/bin/busybox size=6000 mode=0755 mtime=302
EOF
}
