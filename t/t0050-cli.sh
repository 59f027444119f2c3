#!/bin/bash
# The command line: tarflat [-o FILE] [-v] LAYER...; - is stdin; -h/--help,
# --version; exit 0 success, 1 bad input or I/O error, 2 usage error; never a
# tar on a terminal; errors name the file; nothing on stdout on error.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"

two_layers

# run ARGS...: tarflat with stdout in o.out, stderr in o.err, status in $rc
run() {
	"$TARFLAT" "$@" >o.out 2>o.err
	rc=$?
}

run --help
is "cli: --help exits 0" "$rc" 0
ok "cli: --help prints usage on stdout" grep -qi 'usage.*tarflat' o.out
ok "cli: --help mentions -o and -v" sh -c 'grep -q -- "-o" o.out && grep -q -- "-v" o.out'
run -h
is "cli: -h exits 0 with usage on stdout" "$rc $(grep -ci usage o.out)" "0 1"

run --version
is "cli: --version prints 'tarflat 1.0' and exits 0" "$rc $(cat o.out)" "0 tarflat 1.0"

run
is "cli: no layers -> exit 2" "$rc" 2
is "cli: no layers -> nothing on stdout, a message on stderr" \
	"$(wc -c <o.out) $(test -s o.err && echo msg)" "0 msg"

run --bogus l1.tar
is "cli: unknown long option -> exit 2, empty stdout" "$rc $(wc -c <o.out)" "2 0"
is "cli: unknown long option -> named, then the usage lines, then where to look" \
	"$(sed -n '1p;2s/ \[--format.*//p;$p' o.err)" \
	"tarflat: unknown option: --bogus
usage: tarflat [-tv] [-j N] [-o FILE]
Try 'tarflat --help' for more."
# every option the usage names is explained by --help, and the reverse
"$TARFLAT" --help >help.out 2>&1
is "cli: the usage and --help name the same long options" \
	"$(grep -o -- '--[a-z-]*' o.err | sort -u | grep -v -- '--bogus\|--help')" \
	"$(sed -n '/^  -/p' help.out | grep -o -- '--[a-z-]*' | sort -u | grep -v -- '--help\|--version')"
run -vq l1.tar
is "cli: unknown short option -> exit 2, empty stdout" "$rc $(wc -c <o.out)" "2 0"
is "cli: unknown short option -> named alone" "$(head -n 1 o.err)" "tarflat: unknown option: -q"
run l1.tar -o
is "cli: -o without FILE -> exit 2" "$rc $(wc -c <o.out)" "2 0"
is "cli: -o without FILE -> says so" "$(head -n 1 o.err)" "tarflat: option needs an argument: -o"
run - - <l1.tar
is "cli: - given twice -> exit 2" "$rc $(wc -c <o.out)" "2 0"

# never a tar on a terminal
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
	script -qec "$TARFLAT $T/l1.tar" /dev/null >tty.out 2>&1 </dev/null
	is "cli: stdout a terminal -> exit 2" "$?" 2
	ok "cli: stdout a terminal -> no tar written" sh -c '! grep -aq ustar tty.out'
	script -qec "$TARFLAT -o $T/tty.tar $T/l1.tar $T/l2.tar" /dev/null >/dev/null 2>&1 </dev/null
	is "cli: stdout a terminal with -o FILE -> exit 0" "$?" 0
	extract tty.tar ttyx
	is "cli: stdout a terminal with -o FILE -> FILE holds the image" "$(lst ttyx)" "$want12"
else
	skip "cli: stdout a terminal -> exit 2" "script(1) unavailable"
fi

# layers are applied oldest first
flatten_x out l1.tar l2.tar
is "cli: layers apply oldest first" "$(lst out)" "$want12"
ok "cli: success is silent on stderr" test ! -s .err
flatten_x out l2.tar l1.tar
is "cli: reversed layers give the other tree" "$(lst out --fields path,detail)" "$(cat <<EOF
d -
d/a $(h one)
d/b $(h bee)
d/s ->a
EOF
)"

# -o FILE
run -o o.tar l1.tar l2.tar
is "cli: -o FILE exits 0 and writes nothing on stdout" "$rc $(wc -c <o.out)" "0 0"
extract o.tar ox
is "cli: -o FILE writes the image to FILE" "$(lst ox)" "$want12"
mkdir odir && echo keep >odir/kept.tar
printf 'garbage that is not a tar archive %.0s' $(seq 1 40) >bad.tar
run -o odir/kept.tar l1.tar bad.tar
is "cli: -o FILE on error: exit 1, FILE left as it was" "$rc $(cat odir/kept.tar)" "1 keep"
is "cli: -o FILE on error: no temporary file left beside FILE" "$(ls -A odir)" "kept.tar"

# - is standard input: a pipe, gzip through a pipe, a redirected file
cat l2.tar | "$TARFLAT" l1.tar - >pipe.tar 2>pipe.err
is "cli: - reads a layer from a pipe (exit)" "$?" 0
extract pipe.tar pipex
is "cli: - reads a layer from a pipe" "$(lst pipex)" "$want12"
gzip -c l1.tar | "$TARFLAT" - l2.tar >gz.tar 2>gz.err
is "cli: gzip layer on stdin (exit)" "$?" 0
extract gz.tar gzx
is "cli: gzip layer on stdin" "$(lst gzx)" "$want12"
"$TARFLAT" l1.tar - <l2.tar >redir.tar 2>redir.err
extract redir.tar redirx
is "cli: - from a redirected regular file" "$(lst redirx)" "$want12"
"$TARFLAT" <(cat l1.tar) <(gzip -c l2.tar) >procsub.tar 2>procsub.err
is "cli: process substitution layers (exit)" "$?" 0
extract procsub.tar procsubx
is "cli: process substitution layers (non-seekable, plain and gzip)" "$(lst procsubx)" "$want12"
mkdir -p spool
cat l2.tar | TMPDIR=$T/spool "$TARFLAT" l1.tar - >/dev/null 2>&1
is "cli: the stdin spool file is gone afterwards" "$(ls -A spool)" ""
is_file "cli: a layer from stdin gives the same bytes as from a file" pipe.tar redir.tar

# -v names each written path on stderr
"$TARFLAT" -v l1.tar l2.tar >v.tar 2>v.err
is "cli: -v exits 0 and still writes the tar" "$? $(tar -tf v.tar | wc -l)" "0 4"
is "cli: -v lists every written path on stderr, one a line" \
	"$(sed 's,/$,,' v.err | sort)" "$(printf 'd\nd/a\nd/b\nd/s')"
is "cli: -v lists the paths in output order" "$(sed 's,/$,,' v.err)" "$(tar -tf v.tar | sed 's,/$,,')"
is_file "cli: -v does not change the output" v.tar pipe.tar

# files that cannot be read: exit 1, 'tarflat: NAME: ...', nothing on stdout
run l1.tar missing.tar
is "cli: missing file -> exit 1 and zero bytes on stdout" "$rc $(wc -c <o.out)" "1 0"
ok "cli: missing file -> 'tarflat: missing.tar: ...' on stderr" grep -q '^tarflat: missing\.tar: ' o.err
run missing.tar l1.tar
is "cli: missing first file -> exit 1 and zero bytes on stdout" "$rc $(wc -c <o.out)" "1 0"
mkdir adir
run l1.tar adir
is "cli: a directory as layer -> exit 1 and zero bytes on stdout" "$rc $(wc -c <o.out)" "1 0"
ok "cli: a directory as layer -> 'tarflat: adir: ...' on stderr" grep -q '^tarflat: adir: ' o.err
# a failed write is an I/O error
if [ -w /dev/full ]; then
	"$TARFLAT" l1.tar >/dev/full 2>full.err
	is "cli: write error (stdout /dev/full) -> exit 1" "$?" 1
	ok "cli: write error -> a 'tarflat: ' message" grep -q '^tarflat: ' full.err
else
	skip "cli: write error (stdout /dev/full) -> exit 1" "no /dev/full"
fi

done_testing
