#!/bin/bash
# Corpus images: every docker save archive and OCI archive of ../shared/corpus
# (go-containerregistry's testdata) read as an image gives exactly the bytes
# of its layers given to tarflat --layers, oldest first; an archive whose
# digests do not match is refused with nothing written.
#
# The script below finds the images itself, never by asking tarflat: a plain
# tar whose top-level manifest.json is a docker save manifest naming a config
# member that is there, or whose oci-layout and index.json name blobs that
# are there. It extracts each image's layer members in manifest order
# (following symlink members, as in test_link.tar), checks them: docker
# save, the config against its name (HEX.json, sha256:HEX, blobs/sha256/HEX)
# and each layer, decompressed, against the config's rootfs.diff_ids; OCI,
# every blob against its descriptor's digest and size. Then, per image:
#   tarflat IMAGE[:TAG]          == tarflat --layers L1 L2 ... (exit 0, bytes)
#   tarflat - < IMAGE            the same bytes (one image per archive)
#   digests do not match:        exit 1, "mismatch" on stderr, no stdout
#   several images, no TAG:      exit 1, every image's tag named, no stdout
# and, once, no other corpus file is read as an image: tarflat -t FILE lists
# what tarflat --layers -t FILE lists.
. "$(dirname "$0")/lib.sh"

[ -d "$CORPUS" ] && [ -f "$CORPUS/MANIFEST.tsv" ] ||
	skip_all "no corpus at ../shared/corpus"
need python3

mkdir -p "$T/work" || exit 1
$PY - "$CORPUS" "$TARFLAT" "$T/work" >"$T/results" 2>"$T/check.err" <<'EOF'
import csv
import gzip
import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile

corpus, tarflat, work = sys.argv[1:4]
TIMEOUT = 120
n = 0


def result(desc, want, got, skip=None):
    """One test: WANT and GOT (lists of lines) go to N.want and N.got."""
    global n
    n += 1
    with open(os.path.join(work, "%d.want" % n), "w") as f:
        f.write("\n".join(want) + "\n")
    with open(os.path.join(work, "%d.got" % n), "w") as f:
        f.write("\n".join(got) + "\n")
    print("%d\t%s%s" % (n, desc, "\tSKIP " + skip if skip else ""), flush=True)


def is_plain_tar(path):
    with open(path, "rb") as f:
        b = f.read(512)
    if len(b) < 512:
        return False
    try:
        want = int(b[148:156].replace(b"\0", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    u = sum(b[:148]) + 32 * 8 + sum(b[156:512])
    s = sum((x - 256 if x > 127 else x) for x in b[:148]) + 32 * 8 + \
        sum((x - 256 if x > 127 else x) for x in b[156:512])
    return want in (u, s)


def norm(name):
    name = posixpath.normpath("/" + name).lstrip("/")
    return "" if name == "." else name


class Archive:
    """The members of a plain tar by normalised name (the last of a name
    wins, as tar -x does), read through symlink and hardlink members."""

    def __init__(self, path):
        self.tf = tarfile.open(path, "r:")
        self.m = {}
        for ti in self.tf.getmembers():
            self.m[norm(ti.name)] = ti

    def top(self):
        return set(self.m)

    def resolve(self, name, hops=0):
        ti = self.m.get(norm(name))
        if ti is None or hops > 40:
            return None
        if ti.issym():
            t = ti.linkname
            t = t if t.startswith("/") else posixpath.join(posixpath.dirname(norm(name)), t)
            return self.resolve(t, hops + 1)
        if ti.islnk():
            return self.resolve(ti.linkname, hops + 1)
        return ti if ti.isreg() else None

    def has(self, name):
        return self.resolve(name) is not None

    def read(self, name):
        ti = self.resolve(name)
        return self.tf.extractfile(ti).read()


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def uncompressed(b):
    """A layer's bytes as the tar they hold (diff_ids are digests of that).
    A valid tar header first makes it a plain tar, as for tarflat."""
    head = b[:512]
    if len(head) == 512 and b"ustar" in head[257:265]:
        return b
    if b[:2] == b"\x1f\x8b":
        return gzip.decompress(b)
    if b[:6] == b"\xfd7zXZ\0":
        return __import__("lzma").decompress(b)
    if b[:3] == b"BZh":
        return __import__("bz2").decompress(b)
    if b[:4] == b"\x28\xb5\x2f\xfd" or (b[1:4] == b"\x2a\x4d\x18" and 0x50 <= b[0] <= 0x5f):
        p = subprocess.run(["zstd", "-q", "-dc"], input=b, capture_output=True)
        if p.returncode != 0:
            raise RuntimeError("zstd -dc failed")
        return p.stdout
    return b


HEX_NAME = re.compile(r"^(?:.*/)?(?:sha256[:/])?([0-9a-f]{64})(?:\.json)?$")


def docker_images(a):
    """docker save: [{tags, id, layers: [member], problems: [str]}], or None
    when manifest.json is no docker save manifest naming present configs."""
    if "manifest.json" not in a.top() or not a.has("manifest.json"):
        return None
    try:
        man = json.loads(a.read("manifest.json"))
    except ValueError:
        return None
    if not isinstance(man, list) or not man:
        return None
    out = []
    for e in man:
        if not isinstance(e, dict) or not isinstance(e.get("Config"), str) \
                or not a.has(e["Config"]) or not isinstance(e.get("Layers"), list):
            return None
        cname = e["Config"]
        cbytes = a.read(cname)
        problems = []
        m = HEX_NAME.match(cname)
        if m and m.group(1) != sha256(cbytes):
            problems.append("config %s: its content hashes to sha256:%s"
                            % (cname, sha256(cbytes)))
        try:
            diff_ids = json.loads(cbytes)["rootfs"]["diff_ids"]
        except (ValueError, KeyError, TypeError):
            diff_ids = None
        layers = e["Layers"]
        if not isinstance(diff_ids, list) or len(diff_ids) != len(layers):
            problems.append("config %s: %s diff_ids for %d layers"
                            % (cname, len(diff_ids) if isinstance(diff_ids, list) else "no",
                               len(layers)))
        else:
            for l, d in zip(layers, diff_ids):
                if not a.has(l):
                    problems.append("layer %s: not in the archive" % l)
                    continue
                h = "sha256:" + sha256(uncompressed(a.read(l)))
                if h != d:
                    problems.append("layer %s: hashes to %s, diff_id %s" % (l, h, d))
        out.append({"tags": e.get("RepoTags") or [],
                    "id": "sha256:" + sha256(cbytes),
                    "layers": layers, "problems": problems})
    return out


def blob(a, desc, problems):
    """The blob a descriptor names, checked against its digest and size."""
    d = desc.get("digest", "") if isinstance(desc, dict) else ""
    alg, _, hx = d.partition(":")
    name = "blobs/%s/%s" % (alg, hx)
    if alg not in ("sha256", "sha512") or not a.has(name):
        return name, None
    b = a.read(name)
    h = (hashlib.sha256 if alg == "sha256" else hashlib.sha512)(b).hexdigest()
    if h != hx:
        problems.append("blob %s: its content hashes to %s:%s" % (name, alg, h))
    if desc.get("size") != len(b):
        problems.append("blob %s: size %s, descriptor says %s"
                        % (name, len(b), desc.get("size")))
    return name, b


INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")


def oci_images(a):
    """OCI archive: the same list as docker_images, or None when oci-layout
    and index.json do not name present blobs. Raises NotModelled for an
    index of several platforms (tarflat picks this machine's)."""
    top = a.top()
    if "oci-layout" not in top or "index.json" not in top or not a.has("index.json"):
        return None
    try:
        idx = json.loads(a.read("index.json"))
    except ValueError:
        return None
    if not isinstance(idx, dict) or not isinstance(idx.get("manifests"), list) \
            or not idx["manifests"]:
        return None
    leaves = []

    def walk(descs, tags, depth):
        for d in descs:
            if not isinstance(d, dict):
                continue
            ann = d.get("annotations") or {}
            if ann.get("vnd.docker.reference.type") == "attestation-manifest":
                continue
            t = tags + [v for k, v in ann.items()
                        if k in ("org.opencontainers.image.ref.name", "io.containerd.image.name")]
            problems = []
            name, b = blob(a, d, problems)
            if b is None:
                raise LookupError(name)
            if d.get("mediaType") in INDEX_TYPES and depth < 8:
                walk(json.loads(b).get("manifests") or [], t, depth + 1)
            else:
                leaves.append((d, t, json.loads(b), problems))

    try:
        walk(idx["manifests"], [], 0)
    except LookupError:
        return None
    plats = {json.dumps(d.get("platform"), sort_keys=True) for d, _, _, _ in leaves}
    if len(plats) > 1 and len({tuple(t) for _, t, _, _ in leaves}) < len(leaves):
        raise NotModelled("an index of several platforms")
    out = []
    for d, tags, man, problems in leaves:
        blob(a, man.get("config"), problems)
        layers = []
        for l in man.get("layers") or []:
            name, b = blob(a, l, problems)
            if b is None:
                problems.append("layer %s: not in the archive" % name)
            layers.append(name)
        out.append({"tags": tags, "id": d.get("digest"), "layers": layers,
                    "problems": problems})
    return out


class NotModelled(Exception):
    pass


def run(args, stdin=None):
    with open(os.path.join(work, "out"), "wb") as o, \
            open(os.path.join(work, "err"), "wb") as e:
        try:
            rc = subprocess.run(args, stdin=stdin, stdout=o, stderr=e,
                                timeout=TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    with open(os.path.join(work, "out"), "rb") as f:
        out = f.read()
    with open(os.path.join(work, "err"), "rb") as f:
        err = f.read().decode("utf-8", "backslashreplace").splitlines()
    return rc, out, err


def listing(b):
    """What a tar holds, for a failure's diff."""
    import io
    try:
        with tarfile.open(fileobj=io.BytesIO(b), mode="r:") as tf:
            return ["  %s %s %d %s" % (m.type.decode("latin-1"), m.name, m.size,
                                       sha256(tf.extractfile(m).read())[:12] if m.isreg() else "")
                    for m in tf]
    except (tarfile.TarError, EOFError) as ex:
        return ["  not a tar: %s" % ex]


def same_bytes(desc, args, stdin, ref_rc, ref_out, ref_err):
    """tarflat ARGS must give REF_OUT with exit 0 (REF_RC 0 too)."""
    f = open(stdin, "rb") if stdin else None
    try:
        rc, out, err = run(args, f)
    finally:
        if f:
            f.close()
    want = ["--layers: exit 0", "exit 0", "stdout: %d bytes, sha256 %s" %
            (len(ref_out), sha256(ref_out))]
    got = ["--layers: exit %s" % ref_rc + ("" if ref_rc == 0 else ": " + " | ".join(ref_err)),
           "exit %s" % rc + ("" if rc == 0 else ": " + " | ".join(err)),
           "stdout: %d bytes, sha256 %s" % (len(out), sha256(out))]
    if out != ref_out:
        want += ["members:"] + listing(ref_out)
        got += ["members:"] + listing(out)
    result(desc, want, got)


def refused(desc, args, stdin, pattern, what):
    f = open(stdin, "rb") if stdin else None
    try:
        rc, out, err = run(args, f)
    finally:
        if f:
            f.close()
    want = ["exit 1", "stdout: 0 bytes", "stderr: tarflat: ... %s" % what]
    ok = bool(err) and err[0].startswith("tarflat: ") and all(re.search(p, "\n".join(err))
                                                             for p in pattern)
    got = ["exit %s" % rc, "stdout: %d bytes" % len(out),
           want[2] if ok else "stderr: " + (" | ".join(err) or "(nothing)")]
    result(desc, want, got)


with open(os.path.join(corpus, "MANIFEST.tsv"), encoding="utf-8") as f:
    rows = list(csv.DictReader(f, delimiter="\t"))

not_images = []
count = 0
for row in rows:
    rel = row["path"]
    path = os.path.join(corpus, rel)
    if not os.path.isfile(path):
        continue
    images, why = None, None
    if is_plain_tar(path):
        try:
            a = Archive(path)
        except Exception:      # Python's tarfile fails on some of them
            a = None
        if a is not None:
            try:
                images = oci_images(a)
                dimages = docker_images(a)
            except NotModelled as ex:
                images, dimages, why = [], None, str(ex)
            if images and dimages:
                # Docker 25: both name the same layers, or the archive is odd
                ol = [[sha256(uncompressed(a.read(l))) for l in im["layers"]] for im in images]
                dl = [[sha256(uncompressed(a.read(l))) for l in im["layers"]] for im in dimages]
                if sorted(ol) != sorted(dl):
                    why = "index.json and manifest.json name different layers"
            images = images or dimages
    if why:
        result("corpus %s: an image" % rel, ["-"], ["-"], skip="%s: not modelled here" % why)
        continue
    if not images:
        not_images.append(path)
        continue
    count += 1
    kind = "OCI archive" if "oci-layout" in a.top() and images is not dimages else "docker save"
    d = os.path.join(work, str(count))
    os.makedirs(d, exist_ok=True)
    multi = len(images) > 1
    if multi:
        tags = [im["tags"][0] for im in images if im["tags"]]
        refused("corpus %s: %s of %d images, none chosen: refused, naming them"
                % (rel, kind, len(images)), [tarflat, path], None,
                [re.escape(t) for t in tags], "the images: " + ", ".join(tags))
    for k, im in enumerate(images, 1):
        sels = []
        if multi:
            if im["tags"]:
                sels.append(":" + im["tags"][0])
            if im["id"]:
                sels.append("@" + im["id"])
        else:
            sels.append("")
        name = "%s%s" % (rel, " image %d (%s)" % (k, (im["tags"] or [im["id"]])[0])
                         if multi else "")
        if im["problems"]:
            for s in sels:
                refused("corpus %s%s: %s: digest mismatch (%s): refused, nothing written"
                        % (rel, s, kind, im["problems"][0]),
                        [tarflat, path + s], None, ["mismatch"], "mismatch ...")
            if not multi:
                refused("corpus %s on stdin: %s: digest mismatch: refused, nothing written"
                        % (rel, kind), [tarflat, "-"], path, ["mismatch"], "mismatch ...")
            continue
        files = []
        for j, l in enumerate(im["layers"], 1):
            fn = os.path.join(d, "%d.L%d" % (k, j))
            with open(fn, "wb") as o:
                o.write(a.read(l))
            files.append(fn)
        ref_rc, ref_out, ref_err = run([tarflat, "--layers"] + files)
        for s in sels:
            same_bytes("corpus %s%s: %s, %d layer%s: the bytes of tarflat --layers %s"
                       % (rel, s, kind, len(files), "" if len(files) == 1 else "s",
                          "L1" if len(files) == 1 else "L1..L%d" % len(files)),
                       [tarflat, path + s], None, ref_rc, ref_out, ref_err)
        if not multi:
            same_bytes("corpus %s on stdin: %s: the same bytes" % (rel, kind),
                       [tarflat, "-"], path, ref_rc, ref_out, ref_err)

# everything else is a layer: the listing does not change with --layers
bad = []
for path in not_images:
    r1 = run([tarflat, "-t", path])
    r2 = run([tarflat, "--layers", "-t", path])
    if r1 != r2:
        bad.append("%s: exit %s, %s" % (os.path.relpath(path, corpus), r1[0],
                                        (" | ".join(r1[2]) or r1[1][:200].decode("utf-8",
                                                                                "replace"))))
result("the other %d corpus files are layers: tarflat -t FILE lists what "
       "tarflat --layers -t FILE lists" % len(not_images), [], bad)
print("# done: %d image archives, %d other files" % (count, len(not_images)), flush=True)
EOF
rc=$?

while IFS=$'\t' read -r i desc reason; do
	case $i in
	'#'*) printf '%s\t%s\n' "$i" "$desc"; continue ;;
	esac
	if [ -n "$reason" ]; then
		skip "$desc" "${reason#SKIP }"
	else
		is_file "$desc" "$T/work/$i.got" "$T/work/$i.want"
	fi
done <"$T/results"

is "the image checker ran to the end" \
	"exit $rc, $(grep -c '^# done' "$T/results") done line$(sed 's/^/; /' "$T/check.err" | tail -n 5 | tr '\n' ' ')" \
	"exit 0, 1 done line"

done_testing
