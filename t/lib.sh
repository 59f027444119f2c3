# t/lib.sh - a small TAP harness for tarflat's tests, sourced by t/tNNNN-*.sh.
#
# Each script gets a fresh scratch directory $T (t/trash/NAME), $TARFLAT (the
# binary under test; `make asan` points it at the sanitizer build) and:
#   ok DESC CMD...          pass when CMD exits 0
#   is DESC GOT WANT        pass when the strings are equal (diff on failure)
#   is_file DESC GOT WANT   the same for two files
#   skip DESC REASON        a skipped test
#   skip_all REASON         skip the whole script (call before any test)
#   need CMD...             skip_all unless every CMD is on PATH
#   need_root               skip_all unless running as root
#   mklayer OUT [--format F] [--gzip] < SPEC   build a layer (t/mklayer.py)
#   flatten OUT LAYER...    run tarflat into OUT; returns tarflat's status
#   extract TAR DIR         GNU tar -x into a new DIR (as root: same owners,
#                           numeric ids, xattrs)
#   flatten_x DIR LAYER...  flatten and extract; fails the test on error
#   tree DIR [--fields F]   the canonical listing of DIR (t/treedump.py)
#   done_testing            print the plan; call last
set -u
export LC_ALL=C TZ=UTC
umask 022

TDIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$TDIR/.." && pwd)
: "${TARFLAT:=$TOP/tarflat}"
CORPUS=$TOP/../shared/corpus
T=${TEST_TRASH:-$TDIR/trash}/$(basename "$0" .sh)
rm -rf "$T" && mkdir -p "$T" || exit 1
cd "$T" || exit 1
_n=0
_failed=0
# The interpreter itself, without site packages: a pyenv shim and site
# hooks cost ~0.4 s a call, and the helpers use only the standard library.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)
PY="$PY -S"

_report() { # STATUS DESC
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}

ok() {
	_d=$1; shift
	"$@" >"$T/.out" 2>&1
	_s=$?
	_report $_s "$_d"
	[ $_s -eq 0 ] || sed 's/^/# /' "$T/.out" | head -n 40
	return $_s
}

is() {
	if [ "$2" = "$3" ]; then
		_report 0 "$1"
	else
		_report 1 "$1"
		printf '%s\n' "$3" >"$T/.want"
		printf '%s\n' "$2" >"$T/.got"
		diff -u "$T/.want" "$T/.got" | sed 's/^/# /' | head -n 60
		return 1
	fi
}

is_file() {
	if cmp -s "$2" "$3"; then
		_report 0 "$1"
	else
		_report 1 "$1"
		diff -u "$3" "$2" | sed 's/^/# /' | head -n 60
		return 1
	fi
}

skip() {
	_n=$((_n + 1))
	echo "ok $_n - $1 # SKIP $2"
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

need() {
	for _c; do
		command -v "$_c" >/dev/null 2>&1 || skip_all "$_c not installed"
	done
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root"
}

mklayer() {
	_o=$1; shift
	$PY "$TDIR/mklayer.py" "$@" "$_o"
}

flatten() {
	_o=$1; shift
	"$TARFLAT" "$@" >"$_o"
}

extract() {
	rm -rf "$2" && mkdir -p "$2" || return 1
	if [ "$(id -u)" -eq 0 ]; then
		tar -x -f "$1" -C "$2" --same-owner --numeric-owner --same-permissions \
			--xattrs --xattrs-include='*'
	else
		tar -x -f "$1" -C "$2"
	fi
}

flatten_x() {
	_d=$1; shift
	if ! flatten "$T/.flat.tar" "$@" 2>"$T/.err"; then
		echo "# tarflat failed:"; sed 's/^/# /' "$T/.err"
		return 1
	fi
	extract "$T/.flat.tar" "$_d"
}

tree() {
	_d=$1; shift
	$PY "$TDIR/treedump.py" "$@" "$_d"
}

done_testing() {
	echo "1..$_n"
	[ $_failed -eq 0 ]
}
