# t/lib-qemu.sh - the Linux kernel as a reader of newc archives, for tests
# that source it after t/lib.sh.
#
# A boot runs a Debian kernel under qemu-system-x86_64 (KVM when /dev/kvm is
# usable, falling back to TCG) with ARCHIVE, gzip-compressed, as its initramfs and
# a second archive after it holding only /init: t/initwalk.c built static,
# which lists the unpacked tree on the console and powers off. The listing
# is t/treelist.py's format, so it compares with `treelist.py DIR` of a tree
# extracted on the host.
#
#   need_initwalk           build t/initwalk.c static ($INITWALK), skip_all
#                           when gcc cannot link it
#   have_qemu               0 when qemu-system-x86_64 and a kernel
#                           ($QEMU_KERNEL, default the newest /boot/vmlinuz-*)
#                           are there; else 1 with the reason in $QEMU_WHY
#   need_qemu               need_initwalk, and skip_all unless have_qemu
#   boot_list ARCHIVE OUT [SKIP...]
#                           boot with ARCHIVE (an uncompressed newc cpio) and
#                           write the kernel's listing of / to OUT. SKIP: the
#                           paths left out, with what is under them (default
#                           `dev root`: what the kernel's built-in initramfs
#                           adds); /init is always left out. They travel on
#                           the kernel command line (after `--`, as init's
#                           argv): no spaces, 2 KiB in all. Returns non-zero
#                           and prints what the kernel said as '# ' lines
#                           when the unpack, the boot or the walk fails or
#                           takes longer than $QEMU_TIMEOUT seconds (default
#                           180). The log stays in OUT.log; $BOOT_SECONDS is
#                           set to the boot's wall time.
#   host_list DIR OUT [SKIP...]
#                           the same listing of DIR, with the same SKIP
#   initwalk_host DIR OUT [SKIP...]
#                           initwalk run on the host in DIR, its listing in OUT
#   tar_list TAR OUT        extract TAR (lib.sh's extract: GNU tar, as root
#                           with owners, numeric ids) and list it into OUT
#   newc_write OUT < SPEC   write a newc archive from a spec, bytes exactly
#                           as given (see newc_write below), for cases no
#                           writer under test produces
#
# Environment: QEMU (the binary), QEMU_KERNEL, QEMU_ACCEL (kvm or tcg),
# QEMU_MEM (MiB, default 512), QEMU_TIMEOUT, QEMU_APPEND (more kernel
# arguments).

: "${QEMU:=qemu-system-x86_64}"
: "${QEMU_MEM:=512}"
: "${QEMU_TIMEOUT:=180}"
: "${QEMU_APPEND:=}"
QEMU_KERNEL=${QEMU_KERNEL:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
if [ -z "${QEMU_ACCEL:-}" ]; then
	QEMU_ACCEL=tcg
	[ -r /dev/kvm ] && [ -w /dev/kvm ] && QEMU_ACCEL=kvm
fi

# need_initwalk: build t/initwalk.c static into $INITWALK and the archive
# holding it as /init; skip_all when that cannot be done.
need_initwalk() {
	need gzip timeout
	INITWALK=$T/.initwalk
	${CC:-gcc} -std=c11 -D_GNU_SOURCE -O2 -static -o "$INITWALK" \
		"$TDIR/initwalk.c" 2>"$T/.initwalk.err" ||
		skip_all "cannot build t/initwalk.c static: $(head -n 1 "$T/.initwalk.err")"
	newc_write "$T/.init.cpio" <<EOF || skip_all "cannot write the /init archive"
file init mode=0755 from=$INITWALK
EOF
	gzip -n -1 -c "$T/.init.cpio" >"$T/.init.cpio.gz"
}

# have_qemu: 0 when a kernel can be booted; otherwise 1, the reason in
# $QEMU_WHY.
have_qemu() {
	QEMU_WHY=
	if ! command -v "$QEMU" >/dev/null 2>&1; then
		QEMU_WHY="$QEMU not installed"
	elif [ -z "$QEMU_KERNEL" ] || [ ! -r "$QEMU_KERNEL" ]; then
		QEMU_WHY="no readable kernel (/boot/vmlinuz-*; set QEMU_KERNEL)"
	fi
	[ -z "$QEMU_WHY" ]
}

need_qemu() {
	need_initwalk
	have_qemu || skip_all "$QEMU_WHY"
}

# initwalk_host DIR OUT [SKIP...]: t/initwalk.c run on the host in DIR (not
# being pid 1, it walks its working directory and exits), its output
# turned into a listing as boot_list does, for checking it against
# treelist.py without a boot.
initwalk_host() {
	_d=$1 _out=$2; shift 2
	(cd "$_d" && "$INITWALK" "$@") >"$_out.log" &&
		$PY "$TDIR/treelist.py" --console "$_out.log" >"$_out"
}

boot_list() {
	_ar=$1 _out=$2; shift 2
	[ $# -gt 0 ] || set -- dev root
	rm -f "$_out" "$_out.log"
	gzip -n -1 -c "$_ar" >"$T/.initrd" && cat "$T/.init.cpio.gz" >>"$T/.initrd" ||
		return 1
	# KVM falls back to TCG when it cannot start (a /dev/kvm with no
	# nested virtualisation behind it).
	_accel="-accel $QEMU_ACCEL"
	[ "$QEMU_ACCEL" = kvm ] && _accel="$_accel -accel tcg"
	_t0=$EPOCHREALTIME
	# shellcheck disable=SC2086
	timeout -k 5 "$QEMU_TIMEOUT" "$QEMU" $_accel -m "$QEMU_MEM" -smp 1 \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-serial "file:$_out.log" -kernel "$QEMU_KERNEL" -initrd "$T/.initrd" \
		-append "console=ttyS0 panic=-1 rdinit=/init${QEMU_APPEND:+ $QEMU_APPEND} -- init $*" \
		</dev/null >"$T/.qemu.err" 2>&1
	_rc=$?
	BOOT_SECONDS=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $_t0 }")
	if [ $_rc -eq 124 ] || [ $_rc -eq 137 ]; then
		echo "# boot_list: no power-off within ${QEMU_TIMEOUT}s"
		_boot_said "$_out.log"
		return 1
	fi
	if [ $_rc -ne 0 ]; then
		echo "# boot_list: $QEMU exited $_rc:"
		sed 's/^/# /' "$T/.qemu.err"
		return 1
	fi
	# An unpack error stops the unpacker before the /init archive, so no
	# listing follows it; it is looked for all the same.
	if grep -q -E 'Initramfs unpacking failed|rootfs image is not initramfs' "$_out.log"; then
		echo "# boot_list: the kernel could not unpack the archive"
		_boot_said "$_out.log"
		return 1
	fi
	if ! $PY "$TDIR/treelist.py" --console "$_out.log" >"$_out" 2>"$T/.list.err"; then
		sed 's/^/# /' "$T/.list.err"
		_boot_said "$_out.log"
		return 1
	fi
}

# _boot_said LOG: what the kernel said of the initramfs and of /init, then
# the end of the console log (listing lines left out), as '# ' lines.
_boot_said() {
	echo "# the console said (initramfs, init, panic):"
	tr -d '\r' <"$1" | grep -i -E 'initramfs|initrd|rootfs|/init|panic' |
		head -n 20 | sed 's/^/# /'
	echo "# ... and last:"
	tr -d '\r' <"$1" | grep -v '^P ' | tail -n 25 | sed 's/^/# /'
}

host_list() {
	_d=$1 _out=$2; shift 2
	_k=$#
	for _s; do set -- "$@" --skip "$_s"; done
	shift "$_k"
	$PY "$TDIR/treelist.py" "$@" "$_d" >"$_out"
}

tar_list() {
	extract "$1" "$T/.tar_list" && host_list "$T/.tar_list" "$2"
}

# newc_write OUT < SPEC: a newc (070701) archive, one member a spec line,
# ending in TRAILER!!!. Lines are `TYPE NAME [key=value]...`, TYPE one of
# file dir symlink char block fifo sock; keys: mode (octal permission
# bits), uid gid mtime nlink ino (decimal; mtime up to 2^32-1), data=TEXT or
# from=FILE (content; a symlink's target), size=N (N bytes of a pattern),
# rdev=MAJ,MIN, name_hex=HEX (the name as bytes). Members get inode numbers
# 1, 2, ... unless ino= says otherwise; a name carries no content when
# size=0 is given with ino=, as GNU cpio writes all but one hardlink name.
newc_write() {
	$PY -c '
import shlex, sys
TYPES = {"file": 0o100000, "dir": 0o040000, "symlink": 0o120000,
         "char": 0o020000, "block": 0o060000, "fifo": 0o010000, "sock": 0o140000}
out, ino = bytearray(), 0

def pad(b):
    b += b"\0" * (-len(b) % 4)

def member(name, mode, o, data):
    global ino
    ino += 1
    maj, mnr = (int(x) for x in o.get("rdev", "0,0").split(","))
    fields = [int(o.get("ino", ino)), mode, int(o.get("uid", 0)), int(o.get("gid", 0)),
              int(o.get("nlink", 1)), int(o.get("mtime", 0)), len(data), 0, 0,
              maj, mnr, len(name) + 1, 0]
    out.extend(b"070701" + b"".join(b"%08X" % f for f in fields) + name + b"\0")
    pad(out)
    out.extend(data)
    pad(out)

for line in sys.stdin:
    w = shlex.split(line, comments=True)
    if not w:
        continue
    o = dict(x.split("=", 1) for x in w[2:])
    name = bytes.fromhex(o["name_hex"]) if "name_hex" in o else w[1].encode()
    if "from" in o:
        data = open(o["from"], "rb").read()
    elif "size" in o:
        n = int(o["size"])
        data = (b"0123456789abcdef" * (n // 16 + 1))[:n]
    else:
        data = o.get("data", "").encode()
    default = 0o755 if w[0] == "dir" else 0o777 if w[0] == "symlink" else 0o644
    member(name, TYPES[w[0]] | int(o.get("mode", oct(default)), 8), o, data)
member(b"TRAILER!!!", 0, {"ino": 0}, b"")
open(sys.argv[1], "wb").write(out)
' "$1"
}
