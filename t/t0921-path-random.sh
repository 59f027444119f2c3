#!/bin/bash
# the output rules (tarflat.1 OUTPUT): extracting it with any tar is safe, as a property over random
# hostile stacks: three small layers of names that climb ('..', '/',
# './'), symlinks to '/', '..', '../..' and each other, hardlinks through
# them, whiteouts and opaque markers. For every stack tarflat must either
# exit 0 with output that passes t/hostile.py's header check (no absolute
# name, no '..', nothing through a symlink of the output, hardlinks to
# earlier members, no duplicates) and that GNU tar and bsdtar extract into
# scratch/box without touching scratch/ outside box, or exit 1 with no
# output. Never another status, never a timeout.
# Seeded and deterministic; TARFLAT_RANDOM_PATHS sets the number of stacks
# (default 150).
. "$(dirname "$0")/lib.sh"
need timeout bsdtar

N=${TARFLAT_RANDOM_PATHS:-150}
PYTHONPATH=$TDIR $PY - "$TARFLAT" "$N" >results.txt 2>&1 <<'EOF'
import os, random, shutil, subprocess, sys
from hostile import *
tarflat, n = sys.argv[1], int(sys.argv[2])
COMP = ["a", "b", "c", "etc", "a", "b", "..", "."]
TARGETS = ["/", "..", "../..", "a", "a/b", "/etc", "b/../..", ".", "c/..",
           "/a/../..", "../etc", "etc/passwd", "/etc/passwd", "b"]

def name(r):
    s = "/".join(r.choice(COMP) for _ in range(r.randint(1, 3)))
    return r.choice(["", "", "", "/", "./", "../"]) + s

def layer(r, files):
    """FILES: names of regular files written so far (hardlink targets)"""
    out = []
    for _ in range(r.randint(3, 8)):
        k = r.random()
        nm = name(r)
        leaf = nm.rstrip("/") + "/f%d" % r.randint(0, 5)    # files rarely become parents
        if k < 0.25:
            nm = leaf
            out.append(member(nm, data="d%d" % r.randint(0, 9)))
            files.append(nm)
        elif k < 0.40:
            out.append(member(nm.rstrip("/") + "/", "5"))
        elif k < 0.65:
            out.append(member(nm, "2", linkname=r.choice(TARGETS + [name(r)])))
        elif k < 0.80:
            t = r.choice(files) if files and r.random() < 0.9 else \
                r.choice([name(r), "etc/passwd", "../../etc/passwd"])
            out.append(member(leaf, "1", linkname=t))
        elif k < 0.92:
            d, _, b = nm.rpartition("/")
            out.append(member((d + "/" if d else "") + ".wh." + r.choice(["a", "b", "c", "etc"])))
        else:
            out.append(member(r.choice(["", "a/", "b/", "etc/"]) + ".wh..wh..opq"))
    return b"".join(out) + EOF

def snap(top):
    res = []
    for d, dirs, files in os.walk(top):
        if os.path.abspath(d) == os.path.abspath(os.path.join(top, "box")):
            dirs[:] = []
            continue
        for x in sorted(dirs + files):
            p = os.path.join(d, x)
            st = os.lstat(p)
            if os.path.relpath(p, top) == "box":
                continue
            res.append((os.path.relpath(p, top), st.st_mode, st.st_size, st.st_mtime_ns, st.st_nlink, st.st_ino))
    return sorted(res)

def mkscratch():
    shutil.rmtree("scratch", ignore_errors=True)
    os.makedirs("scratch/box")
    os.makedirs("scratch/etc")
    open("scratch/sentinel", "w").write("sentinel\n")
    open("scratch/etc/passwd", "w").write("root:x:0:0\n")

def check_output(path):
    """hostile.py check, in-process"""
    import io, contextlib
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            cmd_check(path)
    except SystemExit as e:
        return buf.getvalue() if e.code else ""
    return buf.getvalue()

fails = {"status": [], "refusal-output": [], "headers": [], "gnu": [], "bsd": [], "extract": []}
accepted = refused = 0
reasons = {}
for i in range(n):
    r = random.Random(0x7a2f0000 + i)
    os.makedirs("s%d" % i, exist_ok=True)
    layers, files = [], []
    for j in range(3):
        p = "s%d/l%d.tar" % (i, j)
        # half the stacks start with etc/passwd: links to ../../etc/passwd resolve
        pw = member("etc/passwd", data="image") if j == 0 and r.random() < 0.5 else b""
        open(p, "wb").write(pw + layer(r, files))
        layers.append(p)
    with open("out.tar", "wb") as o:
        why = ""
        try:
            p = subprocess.run([tarflat] + layers, stdout=o, stderr=subprocess.PIPE,
                               timeout=30)
            rc = p.returncode
            if b"Sanitizer" in p.stderr or b"runtime error:" in p.stderr:
                rc = "sanitizer report: " + p.stderr.decode(errors="replace")[-300:]
            why = p.stderr.decode(errors="replace").split(": ")[-1].strip()
        except subprocess.TimeoutExpired:
            rc = "timeout"
    size = os.path.getsize("out.tar")
    if rc == 1:
        refused += 1
        reasons[why] = reasons.get(why, 0) + 1
        if size:
            fails["refusal-output"].append("s%d: exit 1 with %d bytes out" % (i, size))
        shutil.rmtree("s%d" % i)
        continue
    if rc != 0:
        fails["status"].append("s%d: status %s" % (i, rc))
        continue
    accepted += 1
    bad = check_output("out.tar")
    if bad:
        fails["headers"].append("s%d: %s" % (i, bad.strip().replace("\n", "; ")))
    for tool, key in ((["tar", "-xf"], "gnu"), (["bsdtar", "-xf"], "bsd")):
        mkscratch()
        before = snap("scratch")
        x = subprocess.run(tool + [os.path.abspath("out.tar"), "-C", "scratch/box"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if snap("scratch") != before:
            fails[key].append("s%d: %s changed the scratch tree outside box" % (i, tool[0]))
        if x.returncode != 0:
            fails["extract"].append("s%d: %s -x: status %d: %s" % (i, tool[0], x.returncode,
                                    x.stdout.decode(errors="replace").strip()[:200]))
    if not any(any(("s%d:" % i) in f for f in v) for v in fails.values()):
        shutil.rmtree("s%d" % i)
print("counts %d %d" % (accepted, refused))
for k, v in sorted(reasons.items(), key=lambda x: -x[1])[:6]:
    print("refusal %d %s" % (v, k[:80]))
for k, v in fails.items():
    print("%s %d" % (k, len(v)))
    for f in v[:5]:
        print("  " + f)
EOF
sed 's/^/# /' results.txt | grep -v '^#   ' | head -n 30
read -r _ acc ref < <(grep '^counts ' results.txt)
ran=${acc:+yes}
# the property is only worth something if both outcomes occur often
ok "random paths: $N stacks ran (accepted ${acc:-?}, refused ${ref:-?})" \
	test -n "${acc:-}" -a "${acc:-0}" -ge $((N / 5)) -a "${ref:-0}" -ge 1
for k in status refusal-output headers gnu bsd extract; do
	case $k in
	status) d="every stack ends with exit 0 or 1 (no crash, no timeout)" ;;
	refusal-output) d="a refusal writes nothing" ;;
	headers) d="accepted outputs: no absolute name, no '..', nothing through a symlink, no dangling or forward hardlink, no duplicate" ;;
	gnu) d="GNU tar extracts each output without touching the scratch tree outside box" ;;
	bsd) d="bsdtar extracts each output without touching the scratch tree outside box" ;;
	extract) d="GNU tar and bsdtar extract each output without an error" ;;
	esac
	is "random paths: $d" "${ran:-the generator failed}$(sed -n "/^$k /,/^[a-z]/p" results.txt | grep '^  ' | head -n 5)" "yes"
done
rm -rf scratch

done_testing
