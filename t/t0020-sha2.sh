#!/bin/sh
# SHA-256 and SHA-512 (sha2.c, through t/shatest.c): the FIPS 180-2 example
# vectors, then every length 0..300 and lengths around the block and read
# buffer sizes against coreutils' sha256sum and sha512sum, each with both
# SHA-256 implementations and with the input split in several ways.
. "$(dirname "$0")/lib.sh"
: "${SHATEST:=$TDIR/shatest}"
[ -x "$SHATEST" ] || skip_all "t/shatest not built (run make check)"

# How shatest passes its input to the update function: whole read buffers,
# fixed pieces around the block sizes, and pseudo-random pieces (-c r).
CHUNKS="whole 1 63 64 65 4095 r"
# SHA-512 has one implementation, so only SHA-256 is run with -p as well.
IMPLS_256="default portable"
IMPLS_512="default"
DEFAULT_IMPL=$("$SHATEST" -i)

sha() { # BITS IMPL CHUNK [FILE...]: shatest's output
	_b=$1 _i=$2 _c=$3
	shift 3
	set -- -a "$_b" "$@"
	[ "$_i" = portable ] && set -- -p "$@"
	[ "$_c" = whole ] || set -- -c "$_c" "$@"
	"$SHATEST" "$@"
}

impl_name() { # BITS IMPL
	if [ "$1" = 512 ]; then echo "portable (its only code)"
	elif [ "$2" = portable ]; then echo "portable (-p)"
	else echo "$DEFAULT_IMPL"; fi
}

# vector BITS DESC FILE WANT: with each implementation, every way of
# splitting FILE hashes to WANT.
vector() {
	_b=$1
	eval "_impls=\$IMPLS_$_b"
	for _i in $_impls; do
		_got= _want=
		for _c in $CHUNKS; do
			_got="$_got$(sha "$1" "$_i" "$_c" <"$3" | cut -d' ' -f1) $_c;"
			_want="$_want$4 $_c;"
		done
		is "SHA-$1 of $2, $(impl_name "$_b" "$_i"), each split" \
			"$(echo "$_got" | tr ';' '\n')" "$(echo "$_want" | tr ';' '\n')"
	done
}

# ---- the published vectors --------------------------------------------

printf abc >abc
: >empty
printf abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq >m448
printf '%s' abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn \
	hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu >m896
head -c 1000000 /dev/zero | tr '\0' a >million

vector 256 "'abc'" abc \
	ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
vector 256 "the empty string" empty \
	e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
vector 256 "the 448-bit message" m448 \
	248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1
vector 256 "a million 'a'" million \
	cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0

vector 512 "'abc'" abc \
	ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f
vector 512 "the empty string" empty \
	cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e
vector 512 "the 896-bit message" m896 \
	8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909
vector 512 "a million 'a'" million \
	e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b

# ---- the implementation in use ----------------------------------------

if [ -r /proc/cpuinfo ] && grep -q '^flags' /proc/cpuinfo; then
	if grep -qw sha_ni /proc/cpuinfo; then want=sha-ni; else want=portable; fi
	is "SHA-256 uses $want, as /proc/cpuinfo's flags say" "$DEFAULT_IMPL" "$want"
else
	skip "SHA-256 implementation matches the CPU" "no /proc/cpuinfo flags"
fi
is "-p forces the portable SHA-256" "$("$SHATEST" -p -i)" portable

# ---- lengths, against coreutils ----------------------------------------

# Prefixes of one pseudo-random stream (fixed seed): every length 0..300,
# then lengths around larger powers of two and shatest's 256 KiB reads.
mkdir len big
$PY - <<'EOF'
import random
r = random.Random(20)
n = 262208
data = r.getrandbits(8 * n).to_bytes(n, "little")
lengths = list(range(301))
for p in (320, 448, 512, 1024, 4096, 65536, 262144):
    lengths += [p - 1, p, p + 1]
lengths.append(262207)
for k in lengths:
    with open("len/%d" % k, "wb") as f:
        f.write(data[:k])
n = 3 * 1048576 + 12345
with open("big/random", "wb") as f:
    f.write(r.getrandbits(8 * n).to_bytes(n, "little"))
EOF
# Numeric order, so that a failure's diff is easy to read.
LENS=$(ls len | sort -n | sed 's|^|len/|')

# against BITS DESC FILE...: with each implementation and split, shatest
# prints what shaBITSsum prints.
against() {
	_b=$1 _d=$2
	shift 2
	eval "_impls=\$IMPLS_$_b"
	for _i in $_impls; do
		for _c in $CHUNKS; do
			if ! command -v "sha${_b}sum" >/dev/null 2>&1; then
				skip "SHA-$_b of $_d, $(impl_name "$_b" "$_i"), split $_c" \
					"sha${_b}sum not installed"
				continue
			fi
			is "SHA-$_b of $_d, $(impl_name "$_b" "$_i"), split $_c, as sha${_b}sum" \
				"$(sha "$_b" "$_i" "$_c" "$@")" "$("sha${_b}sum" "$@")"
		done
	done
}

# shellcheck disable=SC2086
against 256 "lengths 0..300 and block edges" $LENS
# shellcheck disable=SC2086
against 512 "lengths 0..300 and block edges" $LENS

CHUNKS="whole 65 r"
against 256 "3 MiB of random bytes" big/random
against 512 "3 MiB of random bytes" big/random

if command -v sha256sum >/dev/null 2>&1; then
	is "SHA-256 of standard input, as sha256sum" \
		"$("$SHATEST" <big/random)" "$(sha256sum <big/random)"
else
	skip "SHA-256 of standard input" "sha256sum not installed"
fi

# ---- errors ----------------------------------------------------------

"$SHATEST" abc missing >out 2>err
is "a missing file: exit 1, other files still hashed, a message" \
	"$? $(wc -l <out) $(grep -c 'shatest: missing: ' err)" "1 1 1"
"$SHATEST" -a 384 abc >out 2>err
is "an unknown -a is a usage error" "$? $(wc -c <out)" "2 0"

done_testing
