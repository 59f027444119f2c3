#!/bin/bash
# --exclude PATTERN and --exclude-from FILE (select.h): a pattern is matched
# against the whole path from the root, component by component ('*', '?',
# '[...]' within one, '**' any number of them, a trailing '/**' only what is
# inside); a match leaves out the path and everything under it; a hardlink
# group with names left out carries its content on its first kept name;
# with --path, select then exclude; a pattern that matches nothing is named
# in a warning; excluded content is not read.
#
# The expectation is always the full output's extraction cut by
# t/excluderef.py, a matcher written apart from select.c (its header says
# how it stands for fnmatch(3)): on named cases, then on random stacks
# (t/genstack.py, t/wildstack.py) with patterns drawn from their paths.
#
#   TARFLAT_EXCLUDE_STACKS=N  genstack seeds (default 10; wildstack seeds
#                             twice as many, as tarflat refuses about half)
#   TARFLAT_EXCLUDE_FIRST=S   first seed (default 1)
#   TARFLAT_EXCLUDE_SETS=K    pattern sets a stack (default 4)
#
# A failing seed keeps its stack and work directory under
# t/trash/t0880-exclude/{g,w}SEED.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
need tar
need_root
export TAR_OPTIONS=--warning=no-timestamp
REF="$PY $TDIR/excluderef.py"

# run OUT ERR ARG...: tarflat ARG... "${LAYERS[@]}" into OUT, its standard
# error into ERR; returns its status
run() {
	_o=$1 _e=$2; shift 2
	"$TARFLAT" "$@" "${LAYERS[@]}" >"$_o" 2>"$_e"
}

# refargs ARG...: tarflat's --path/--exclude/--exclude-from arguments as
# excluderef.py cut takes them (one a line, NUL-free)
refargs() {
	while [ $# -gt 0 ]; do
		case $1 in
		--path) printf '%s\n' --path "$2"; shift 2 ;;
		--exclude) printf '%s\n' "$2"; shift 2 ;;
		--exclude-from) grep -v '^$' "$2"; shift 2 ;;
		*) shift ;;
		esac
	done
}

# check DESC ARG...: tarflat ARG... on LAYERS, extracted, is the listing of
# FULL cut by the reference; its standard error holds exactly one warning
# for each pattern the reference says matches nothing; it exits 0
check() {
	_cdesc=$1; shift
	run c.tar c.err "$@"
	_rc=$?
	{ extract c.tar c.x && tree c.x; } >c.got 2>&1
	printf -- '-- exit %s\n' $_rc >>c.got
	sed 's/^/stderr: /' c.err >>c.got
	mapfile -t _ra < <(refargs "$@")
	$REF cut "$FULL" --nothing c.nothing "${_ra[@]}" >c.want
	printf -- '-- exit 0\n' >>c.want
	sed 's/^/stderr: tarflat: warning: --exclude /; s/$/ matched nothing/' c.nothing >>c.want
	is_file "$_cdesc" c.got c.want
}

# full DIR: flatten LAYERS with no option into DIR and its listing; sets FULL
full() {
	run "$1.tar" "$1.err" && extract "$1.tar" "$1" && tree "$1" >"$1.lst" ||
		{ echo "Bail out! cannot flatten ${LAYERS[*]}"; exit 1; }
	FULL=$T/$1.lst
}

# ---- named cases ---------------------------------------------------------------

mklayer l1.tar <<'EOF'
dir dev mode=0755 mtime=100
char dev/null 1 3 mode=0666
dir dev/pts mtime=101
dir dev/shm mode=1777 mtime=102
dir etc mtime=110
file etc/passwd data=root:x:0:0 mtime=111
file etc/.pwd.lock data= mode=0600 mtime=112
dir node_modules mtime=120
dir node_modules/next mtime=121
dir node_modules/next/server mtime=122
dir node_modules/next/server/dev mtime=123
file node_modules/next/server/dev/hot-reloader.js data=hot mtime=124
dir node_modules/next/server/dev/dev mtime=125
file node_modules/next/server/dev/dev/x.js data=x mtime=126
file node_modules/next/server/render.js data=render mtime=127
dir usr mtime=130
dir usr/bin mtime=131
file usr/bin/busybox size=3000 mode=0755 mtime=132
hardlink usr/bin/sh usr/bin/busybox
hardlink usr/bin/ls usr/bin/busybox
dir usr/share mtime=133
dir usr/share/doc mtime=134
file usr/share/doc/README data=readme mtime=135
dir usr/share/dev mtime=136
file usr/share/dev/notes data=notes mtime=137
dir a mtime=140
file a/.hidden data=dot mtime=141
dir a/.config mtime=142
file a/.config/rc data=rc mtime=143
file a/visible data=vis mtime=144
dir z mode=0700 uid=7 gid=8 mtime=150
file z/content data=shared-content mode=0640 uid=5 gid=6 mtime=151
dir m mtime=160
hardlink m/h z/content
hardlink a/g z/content
symlink bin usr/bin mtime=170
file été data=summer mtime=180
file ete data=plain mtime=181
EOF
LAYERS=(l1.tar)
full full

check "dev/* (udocker #457): dev/ kept empty, node_modules/next/server/dev untouched" \
	--exclude 'dev/*'
is "dev/*: the dev directories under node_modules and usr/share are all there" \
	"$(cd c.x && find . -path '*dev*' | sort)" \
	"./dev
./node_modules/next/server/dev
./node_modules/next/server/dev/dev
./node_modules/next/server/dev/dev/x.js
./node_modules/next/server/dev/hot-reloader.js
./usr/share/dev
./usr/share/dev/notes"
check "dev: the directory and all under it, nothing else" --exclude dev
check "**/dev: every dev at any depth, with what is under it" --exclude '**/dev'
is "**/dev: no dev left, render.js and usr/share/doc kept" \
	"$(cd c.x && find . -path '*dev*' | wc -l) $(ls c.x/node_modules/next/server) $(ls c.x/usr/share)" \
	"0 render.js doc"
check "node_modules/**/dev: the two dev directories below node_modules, not dev/" \
	--exclude 'node_modules/**/dev'
check "node_modules/** : what is inside, node_modules itself kept" --exclude 'node_modules/**'
is "node_modules/**: node_modules/ is there, empty" \
	"$(test -d c.x/node_modules && ls -A c.x/node_modules | wc -l)" 0
check "**/dev/**: inside every dev, the dev directories kept" --exclude '**/dev/**'
check "node_modules/**/**/x.js: ** twice" --exclude 'node_modules/**/**/x.js'
check "** alone: everything" --exclude '**'
is "** alone: nothing extracted" "$(cd c.x && find . -mindepth 1 | wc -l)" 0
check "n**: not a whole component, a plain '*' in it" --exclude 'n**'
check "a/*: '*' matches a leading dot (fnmatch(3) without FNM_PERIOD)" --exclude 'a/*'
is "a/*: .hidden and .config gone with visible" "$(cd c.x && ls -A a | wc -l)" 0
check "a/?hidden and etc/.p*: '?' and '*' on a leading dot" \
	--exclude 'a/?hidden' --exclude 'etc/.p*'
check "[...] classes: [a-d]ev/[!x]*, usr/[bs]??" --exclude '[a-d]ev/[!x]*' --exclude 'usr/[bs]??'
check "'?' is one byte (tarflat reads no locale): ??t?? is été (5 bytes), ?t? is ete" \
	--exclude '??t??' --exclude '?t?'
check "a pattern is anchored: share/doc is not usr/share/doc" --exclude share/doc
check "* never crosses a '/': usr*doc" --exclude 'usr*doc'
check "a symlink is a name: bin leaves usr/bin alone" --exclude bin

run want.tar want.err --exclude 'dev/*'
for p in '/dev/*' './dev/*' 'dev/*/' 'dev//*' '/./dev/*//'; do
	run sp.tar sp.err --exclude "$p"
	is_file "'$p' is dev/*: the same bytes" sp.tar want.tar
done

# hardlink groups: z/content (the content in the layer), a/g, m/h; in the
# output a/g comes first and carries it
members full.tar | sort >m.txt
is "(setup) the group's carrier is a/g" "$(grep -E '^(a/g|m/h|z/content) ' m.txt)" \
	"a/g 0 -
m/h 1 a/g
z/content 1 a/g"
check "the carrier a/g excluded: the group on z/content (the next in output order)" \
	--exclude a/g
members c.tar | sort >m.txt
is "a/g excluded: z/content carries the content, m/h links to it" \
	"$(grep -E '^(a/g|m/h|z/content) ' m.txt)" "m/h 1 z/content
z/content 0 -"
check "a excluded (the carrier's directory), and z: m/h alone" --exclude a --exclude z
members c.tar | sort >m.txt
is "a and z excluded: m/h a plain file" "$(grep -E '^(a/g|m/h|z/content) ' m.txt)" "m/h 0 -"
check "the entry holding the content (z/content) excluded: a/g still carries it" \
	--exclude z/content
check "usr/bin/busybox and usr/bin/ls excluded: usr/bin/sh keeps the bytes" \
	--exclude usr/bin/busybox --exclude usr/bin/ls

# --exclude-from: several lines, an empty one, the same as the options
printf 'dev/*\n\nusr/share/**\n**/.config\n' >pats
check "--exclude-from: three patterns and an empty line" --exclude-from pats
cp c.tar from.tar
run opt.tar opt.err --exclude 'dev/*' --exclude 'usr/share/**' --exclude '**/.config'
is_file "--exclude-from gives the bytes of the same --exclude options" from.tar opt.tar
"$TARFLAT" --exclude-from - "${LAYERS[@]}" <pats >stdin.tar 2>stdin.err
is_file "--exclude-from - reads standard input" stdin.tar opt.tar
check "--exclude-from with --exclude: both count" --exclude-from pats --exclude etc
"$TARFLAT" --exclude-from nowhere "${LAYERS[@]}" >nf.out 2>nf.err
is "--exclude-from a missing file: exit 2, nothing written, the file named" \
	"$? $(wc -c <nf.out) $(grep -c 'nowhere' nf.err)" "2 0 1"

# a pattern that matches nothing: a warning naming it, exit 0, the full bytes
check "usr/shar/doc (a typo): a warning naming it" --exclude usr/shar/doc
is_file "usr/shar/doc: the output is the full one" c.tar full.tar
check "two patterns, one matching nothing: only that one named" \
	--exclude 'etc/passwd' --exclude 'ect/*'
check "the root matches nothing: '/', '.', ''" --exclude / --exclude . --exclude ''
# A pattern whose matches all lie under a path another pattern left out, or
# that matches only what an earlier pattern matched, still matched something:
# no warning (select.h: "a pattern that matches nothing the selection holds")
check "usr and usr/share/doc: no warning for usr/share/doc" --exclude usr --exclude usr/share/doc
check "'usr*' and 'u*' both match usr: no warning" --exclude 'usr*' --exclude 'u*'
check "the same pattern twice: no warning" --exclude etc --exclude etc

# --path, then --exclude
check "--path node_modules --exclude '**/dev'" --path node_modules --exclude '**/dev'
check "--path usr --exclude 'usr/*/*' : usr/bin and usr/share kept empty" \
	--path usr --exclude 'usr/*/*'
check "--path usr/bin --exclude usr: the selection's ancestor, nothing left" \
	--path usr/bin --exclude usr
is "--path usr/bin --exclude usr: an empty archive" "$(members c.tar | wc -l)" 0
check "--path usr --exclude etc: etc is not in the selection, a warning" --path usr --exclude etc
check "--path z --path m --exclude z/content: m/h carries the content" \
	--path z --path m --exclude z/content

# -t and newc leave out the same names
run t.txt t.err -t --exclude 'dev/*' --exclude usr/bin/busybox --exclude a
run x.tar x.err --exclude 'dev/*' --exclude usr/bin/busybox --exclude a
is "-t --exclude: the names of the tar output" \
	"$(awk '{ r = $0; for (i = 0; i < 6; i++) sub(/^[^ ]+ +/, "", r); sub(/ (->|link to) .*/, "", r); sub(/\/$/, "", r); print r }' t.txt)" \
	"$(members x.tar | cut -d' ' -f1)"
if command -v cpio >/dev/null; then
	run x.cpio x.err --format newc --exclude 'dev/*' --exclude usr/bin/busybox --exclude a
	rm -rf cx && mkdir cx && (cd cx && cpio -idm --quiet --no-absolute-filenames <../x.cpio)
	extract x.tar tx
	is "--format newc --exclude: GNU cpio extracts the tree GNU tar extracts from the tar" \
		"$(tree cx --fields path,type,mode,owner,detail,link)" \
		"$(tree tx --fields path,type,mode,owner,detail,link)"
else
	skip "--format newc --exclude: GNU cpio extracts the tar's tree" "cpio not installed"
fi

# ---- excluded content is not read ----------------------------------------------

# A plain layer with a 200 MiB member big/blob, written sparse (a hole, so
# it costs no disk and no time to make), and a hardlink to it in a second
# layer. What tarflat reads is rchar of /proc/self/io, which counts every
# byte read() or copied, whether from the page cache or the disk; a waited
# child's counts are added to its parent's, so rch.py reads its own before
# and after running tarflat (about 30 KB are the loader's).
$PY - big.tar <<'EOF'
import sys, tarfile
n = 200 << 20
with open(sys.argv[1], "wb") as f:
    def hdr(name, size, typ=tarfile.REGTYPE, link=""):
        ti = tarfile.TarInfo(name)
        ti.size, ti.type, ti.linkname, ti.mtime = size, typ, link, 1000000000
        if typ == tarfile.DIRTYPE:
            ti.mode = 0o755
        f.write(ti.tobuf(tarfile.USTAR_FORMAT))
    hdr("keep/", 0, tarfile.DIRTYPE)
    hdr("keep/small", 5)
    f.write(b"small" + b"\0" * 507)
    hdr("big/", 0, tarfile.DIRTYPE)
    hdr("big/blob", n)
    f.seek(n, 1)
    hdr("keep/after", 5)
    f.write(b"after" + b"\0" * 507)
    f.write(b"\0" * 1024)
EOF
mklayer link.tar <<'EOF'
hardlink keep/blob big/blob
EOF
cat >rch.py <<'EOF'
import subprocess, sys
def rchar():
    with open("/proc/self/io") as f:
        return int([l for l in f if l.startswith("rchar:")][0].split()[1])
before = rchar()
with open(sys.argv[1], "wb") as out:
    rc = subprocess.call(sys.argv[2:], stdout=out)
print(rchar() - before if rc == 0 else "exit %d" % rc)
EOF
MB=$((1 << 20))
if [ -r /proc/self/io ]; then
	all=$($PY rch.py /dev/null "$TARFLAT" big.tar)
	ex=$($PY rch.py /dev/null "$TARFLAT" --exclude big big.tar)
	ex2=$($PY rch.py /dev/null "$TARFLAT" --exclude 'big/*' big.tar)
	exl=$($PY rch.py /dev/null "$TARFLAT" --exclude big big.tar link.tar)
	# relative to the full flatten: a wrapper's own reads (valgrind,
	# sanitizers) are in both
	fewer() { # A B: B is a count of bytes read 199 MiB or more below A
		case $1$2 in *[!0-9]*) echo "not counts: $1, $2"; return 1 ;; esac
		[ $(($1 - $2)) -ge $((199 * MB)) ] || { echo "$1 - $2 is under 199 MiB"; return 1; }
	}
	if [ "${all%% *}" -ge $((200 * MB)) ] 2>/dev/null; then
		ok "--exclude big: 200 MiB fewer read than the full flatten ($all bytes; this: $ex)" \
			fewer "$all" "$ex"
		ok "--exclude 'big/*': 200 MiB fewer read ($ex2 bytes)" fewer "$all" "$ex2"
		ok "--exclude big with keep/blob linked to big/blob: the content is read ($exl bytes)" \
			fewer "$exl" "$ex"
	else
		skip "--exclude: excluded content not read" "rchar does not see the full flatten read ($all)"
	fi
else
	skip "--exclude: excluded content not read" "no /proc/self/io"
fi
"$TARFLAT" --exclude big big.tar link.tar >bl.tar
is "--exclude big, keep/blob linked to it: keep/blob is the 200 MiB file" \
	"$(members bl.tar | sort | tr '\n' ' ') $(tar -tvf bl.tar keep/blob | awk '{ print $3 }')" \
	"keep 5 - keep/after 0 - keep/blob 0 - keep/small 0 -  $((200 * MB))"

# ---- random stacks -------------------------------------------------------------

N=${TARFLAT_EXCLUDE_STACKS:-10}
FIRST=${TARFLAT_EXCLUDE_FIRST:-1}
SETS=${TARFLAT_EXCLUDE_SETS:-4}
JOBS=$(nproc 2>/dev/null || echo 2)

# stack GEN SEED: the stack, its full listing, SETS pattern sets and each
# set's result; in D/result: "ok N", "refused" (tarflat refused the stack:
# nothing to cut) or a failure, in D/warn the warnings that differ
stack() {
	_g=$1 _s=$2
	_dd=$T/${_g:0:1}$_s
	mkdir -p "$_dd" && cd "$_dd" || return
	{
		$PY "$TDIR/$_g.py" --seed "$_s" s >layers || { echo "$_g.py failed"; return; }
		mapfile -t LAYERS <layers
		if ! run f.tar f.err; then
			echo refused >result
			return
		fi
		extract f.tar f && tree f >f.lst || { echo "cannot extract the full output"; return; }
		if [ ! -s f.lst ]; then
			echo empty >result
			return
		fi
		$REF draw --seed "$_s" --sets "$SETS" f.lst sets || { echo "excluderef.py failed"; return; }
		_bad=0 _out=0
		: >warn
		for _i in $(seq 1 "$SETS"); do
			_a=()
			while IFS= read -r _p; do _a+=(--path "$_p"); done <"sets/$_i.path"
			if [ $((_i % 2)) -eq 0 ]; then
				_a+=(--exclude-from "sets/$_i.pat")
			else
				while IFS= read -r _p; do _a+=(--exclude "$_p"); done <"sets/$_i.pat"
			fi
			run "o$_i.tar" "o$_i.err" "${_a[@]}" &&
				extract "o$_i.tar" "o$_i" && tree "o$_i" >"o$_i.lst" ||
				{ echo "set $_i: tarflat or tar failed: ${_a[*]}"; cat "o$_i.err"; _bad=1; continue; }
			if ! cmp -s "o$_i.lst" "sets/$_i.want"; then
				echo "set $_i: ${_a[*]}"
				diff -u "sets/$_i.want" "o$_i.lst" | head -n 30
				_bad=1
			fi
			sed -n 's/^tarflat: warning: --exclude \(.*\) matched nothing$/\1/p' "o$_i.err" |
				sort >"o$_i.warned"
			sort "sets/$_i.nothing" | diff - "o$_i.warned" >/dev/null ||
				echo "set $_i: ${_a[*]}: warned about [$(tr '\n' ' ' <"o$_i.warned")], want [$(sort "sets/$_i.nothing" | tr '\n' ' ')]" >>warn
			_out=$((_out + $(wc -l <f.lst) - $(wc -l <"sets/$_i.want")))
		done
		[ $_bad -eq 0 ] && echo "ok $_out" >result
	} >log 2>&1
}

runall() { # GEN COUNT
	_running=0
	for _s in $(seq "$FIRST" $((FIRST + $2 - 1))); do
		(stack "$1" "$_s") &
		_running=$((_running + 1))
		if [ $_running -ge "$JOBS" ]; then
			wait -n
			_running=$((_running - 1))
		fi
	done
	wait
}
runall genstack "$N"
runall wildstack $((2 * N))

report() { # GEN COUNT
	_d0=${1:0:1}
	for _rs in $(seq "$FIRST" $((FIRST + $2 - 1))); do
		_dd=$T/$_d0$_rs
		case $(cat "$_dd/result" 2>/dev/null) in
		refused) refused=$((refused + 1)) ;;
		empty) empty=$((empty + 1)) ;;
		ok*)
			sets=$((sets + SETS))
			left=$((left + $(cut -d' ' -f2 "$_dd/result")))
			ok "$1 seed $_rs: $SETS pattern sets cut the tree as the reference does" true
			if [ -s "$_dd/warn" ]; then
				warnfail="$warnfail$(sed "s/^/$1 seed $_rs: /" "$_dd/warn")
"
			fi
			rm -rf "$_dd"
			;;
		*)
			ok "$1 seed $_rs: $SETS pattern sets cut the tree as the reference does" \
				failed "$_dd"
			;;
		esac
	done
}
# failed DIR: why the stack in DIR failed, for ok() to show
failed() {
	echo "stack and work files in $1"
	cat "$1/log" "$1/result" 2>/dev/null
	return 1
}
refused=0 empty=0 sets=0 left=0 warnfail=
report genstack "$N"
report wildstack $((2 * N))
is "random stacks: the warnings name exactly the patterns that match nothing" "$warnfail" ""
echo "# $sets pattern sets on random stacks, $left paths left out in all;" \
	"$refused stacks tarflat refused, $empty empty (nothing to cut)"

done_testing
