#!/usr/bin/env python3
"""Build a test container image from layer files, deterministically.

usage: mkimage.py [--docker-layout dirs|skopeo] FORM OUT LAYER... [OPT...]
       mkimage.py [--docker-layout dirs|skopeo] FORM OUT < SPEC

FORM is the kind of image written to OUT:
  oci-dir      an OCI image layout directory (oci-layout, index.json,
               blobs/ALG/HEX)
  oci-archive  a tar of that layout
  docker-old   a `docker save` archive as Docker <= 24 writes it: manifest.json,
               repositories, the config as HEX.json (rootfs.diff_ids), each
               layer uncompressed as ID/layer.tar beside ID/VERSION and ID/json
               (after a directory member ID/);
               a layer already saved under another ID is a symlink member
               ID/layer.tar -> ../ID0/layer.tar, as docker does.
               --docker-layout skopeo writes what `skopeo copy docker-archive:`
               does instead: layers as HEX.tar named so by manifest.json, and
               ID/layer.tar symlinks to them (no directory members).
  docker25     a `docker save` archive as Docker 25+ writes it: an OCI layout
               (blobs/sha256, uncompressed layers, index.json entries annotated
               with io.containerd.image.name and org.opencontainers.image.ref.name,
               one entry per tag) plus manifest.json (blobs/sha256/HEX paths)
               and repositories.
  dir          a directory as `skopeo copy ... dir:OUT` and `podman save
               --format docker-dir` write it (containers/image's directory
               transport): manifest.json, the image manifest itself (OCI, or
               Docker schema 2 with types=docker), `version` ("Directory
               Transport Version: 1.1"), every blob as a file named by its bare
               hex digest. One top line only: an image, or an index (skopeo
               copy --all), which is manifest.json, its manifests then being
               HEX.manifest.json. Tags are not written (the layout has none).

LAYER files are uncompressed tars (what mklayer.py writes); mkimage.py
compresses them as asked. With LAYERs on the command line the image is one
image line (below) named "image" holding them, and the OPTs are that line's;
otherwise SPEC on stdin has one line per image or index, words split like a
shell's, '#' starts a comment:

  image NAME LAYER... [OPT...]   an image manifest with its config and layers
  index NAME [OPT...]            an image index (a blob) holding the lines
                                 that say in=NAME, in their order

Lines without in= are listed by index.json (docker-old: by manifest.json).
OPTs:
  tag=T              (repeatable) OCI: annotation org.opencontainers.image.ref.name;
                     docker-old: a RepoTags entry (T without ':' is written
                     T:latest, as docker does); docker25: RepoTags T, and an
                     index.json entry with io.containerd.image.name
                     docker.io/library/T (T without ':' gets ':latest') and
                     ref.name the part after the last ':'
  in=INDEX           list this line's descriptor in index INDEX
  platform=OS/ARCH[/VARIANT]   the descriptor's platform (also the config's)
  cplatform=OS/ARCH[/VARIANT]  the config's platform only: the descriptor says
                     none (an image saved without an index; default for the
                     config: linux/amd64)
  attest=IMAGE       an attestation manifest for IMAGE (annotations
                     vnd.docker.reference.type=attestation-manifest and
                     vnd.docker.reference.digest=IMAGE's manifest digest)
  compress=C[,C...]  per layer (the last repeats): plain, gzip, zstd (run as
                     `zstd -q -c`); default gzip for oci-* and dir, plain for
                     docker-*
  types=oci|docker   OCI media types (default) or Docker schema 2 ones
  alg=sha256|sha512  the digest algorithm of this line's blobs (oci-*, dir)
  mediatype=N:TYPE   layer N's (1-based) media type is TYPE
  annotation.K=V     an annotation on the descriptor
  config=FILE        the config is the JSON object in FILE, its keys in their
                     order, with rootfs.diff_ids set to the layers' (a rootfs
                     added at the end when FILE has none) and, when FILE has no
                     history, the default one (an entry per layer); the
                     platform keys are FILE's alone
  rawconfig=FILE     the config blob is FILE's bytes as they are (e.g. `[]`,
                     valid JSON that is no object); its digest is theirs
  tamper=WHAT        (repeatable) break the image for error tests:
    layer-digest:N     layer N's stored bytes differ from the ones its digest
                       (and, for docker, its diff_id) was computed from (one
                       content byte changed, recompressed); the descriptor's
                       size is the stored size, so only the digest is wrong
    layer-size:N[:D]   layer N's descriptor size is off by D (default 1)
    layer-missing:N    layer N's blob is not written
    layer-foreign:N    layer N is a foreign (non-distributable) layer with
                       urls and no blob
    layer-foreign-present:N   the same, but the blob is there
    diffid:N           the config's rootfs.diff_ids[N] is wrong
    config-digest | config-size[:D] | config-missing
    manifest-digest | manifest-size[:D] | manifest-missing
    index-digest | index-size[:D] | index-missing    (on an index line)
  (layer-missing:N, layer-digest:N and diffid:N also work for docker-old.)

On stdout, one line per SPEC line for the tests to pick digests from:
  image NAME manifest=DIGEST config=DIGEST layers=D1,D2,.. diffids=X1,X2,..
  index NAME index=DIGEST
(docker-old has no manifest blob: its manifest= is the config's digest, which
is what INPUT@DIGEST names there.) Tampering changes what is stored, never
what is reported: the digests are those the descriptors name.

Examples:
  mkimage.py oci-dir img l1.tar l2.tar tag=v1 compress=gzip,zstd
  mkimage.py oci-archive bad.tar l1.tar l2.tar tamper=layer-digest:2
  mkimage.py oci-dir multi <<EOF
  index top tag=multi
  image amd l1.tar l2.tar platform=linux/amd64 in=top
  image arm l1.tar l3.tar platform=linux/arm64/v8 in=top
  image att attest.tar platform=linux/amd64 attest=amd in=top compress=plain
  EOF
Everything written is a function of the arguments and the layer files: no
time stamps, no randomness (archive members are 0:0, mtime 1000000000).
"""
import argparse, gzip, hashlib, io, json, os, shlex, subprocess, sys, tarfile

MTIME = 1000000000
CREATED = "2001-09-09T01:46:40Z"

OCI = {
    "manifest": "application/vnd.oci.image.manifest.v1+json",
    "index": "application/vnd.oci.image.index.v1+json",
    "config": "application/vnd.oci.image.config.v1+json",
    "plain": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "foreign": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
}
DOCKER = {
    "manifest": "application/vnd.docker.distribution.manifest.v2+json",
    "index": "application/vnd.docker.distribution.manifest.list.v2+json",
    "config": "application/vnd.docker.container.image.v1+json",
    "plain": "application/vnd.docker.image.rootfs.diff.tar",
    "gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "zstd": "application/vnd.docker.image.rootfs.diff.tar.zstd",
    "foreign": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
}


def die(msg):
    sys.exit("mkimage.py: " + msg)


def jdump(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def digest(data, alg="sha256"):
    return alg + ":" + hashlib.new(alg, data).hexdigest()


def compress(raw, how):
    if how == "plain":
        return raw
    if how == "gzip":
        return gzip.compress(raw, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE,
                              check=True).stdout
    die("unknown compression %r" % how)


def repotag(tag):
    """A RepoTags entry as docker writes it: always REPO:TAG."""
    return tag if ":" in tag.rsplit("/", 1)[-1] else tag + ":latest"


def altered(raw):
    """RAW (a tar) with one byte of the first non-empty regular file's content
    changed: still a valid tar of the same size, but other bytes."""
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        for m in tf:
            if m.isreg() and m.size > 0:
                b = bytearray(raw)
                b[m.offset_data] ^= 0x01
                return bytes(b)
    die("tamper: the layer has no regular file with content to alter")


class Line:
    def __init__(self, words, lineno):
        self.kind = words[0]
        if self.kind not in ("image", "index") or len(words) < 2:
            die("line %d: want 'image NAME LAYER...' or 'index NAME'" % lineno)
        self.name = words[1]
        self.layers, self.tags, self.tamper, self.annotations = [], [], [], {}
        self.opts = {}
        for w in words[2:]:
            if "=" not in w:
                if self.kind == "index":
                    die("line %d: an index has no layers" % lineno)
                self.layers.append(w)
                continue
            k, v = w.split("=", 1)
            if k == "tag":
                self.tags.append(v)
            elif k == "tamper":
                self.tamper.append(v)
            elif k.startswith("annotation."):
                self.annotations[k[11:]] = v
            elif k in ("in", "platform", "cplatform", "attest", "compress", "types", "alg",
                       "mediatype", "config", "rawconfig"):
                if k == "mediatype":
                    self.opts.setdefault(k, []).append(v)
                else:
                    self.opts[k] = v
            else:
                die("line %d: unknown option %r" % (lineno, k))
        self.built = None

    def tampered(self, what):
        """The argument of tamper WHAT (WHAT:ARG), True for a bare WHAT, or None."""
        for t in self.tamper:
            k, _, arg = t.partition(":")
            if k == what:
                return arg if arg else True
        return None

    def layer_tamper(self, what, n):
        for t in self.tamper:
            parts = t.split(":")
            if parts[0] == what and len(parts) > 1 and int(parts[1]) == n:
                return parts[2:] or [True]
        return None

    def size_delta(self, what):
        v = self.tampered(what)
        if v is None:
            return 0
        return 1 if v is True else int(v)


class Builder:
    def __init__(self, form, docker_layout):
        self.form, self.docker_layout = form, docker_layout
        self.blobs = {}         # "blobs/ALG/HEX" -> bytes, in insertion order
        self.manifests = set()  # the keys of self.blobs that are manifests or indexes
        self.members = []       # extra archive members: (name, bytes or ('symlink', target))
        self.lines, self.byname = [], {}

    def put(self, data, alg, stored=None, missing=False):
        """Store a blob: its descriptor names DATA's digest; the file holds
        STORED (default DATA) unless MISSING."""
        d = digest(data, alg)
        if not missing:
            self.blobs["blobs/%s/%s" % tuple(d.split(":"))] = data if stored is None else stored
        return d

    def types(self, line):
        return DOCKER if line.opts.get("types") == "docker" else OCI

    def platform(self, line, key="platform"):
        p = line.opts.get(key)
        if not p:
            return None
        parts = p.split("/")
        out = {"architecture": parts[1], "os": parts[0]}
        if len(parts) > 2:
            out["variant"] = parts[2]
        return out

    def build_image(self, line):
        docker = self.form.startswith("docker")
        t = self.types(line)
        alg = line.opts.get("alg", "sha256")
        if docker and alg != "sha256":
            die("%s: docker archives use sha256" % line.name)
        comps = line.opts.get("compress", "plain" if docker else "gzip").split(",")
        mtypes = {}
        for mt in line.opts.get("mediatype", []):
            n, _, ty = mt.partition(":")
            mtypes[int(n)] = ty
        descs, diffids, raws = [], [], []
        for i, path in enumerate(line.layers, 1):
            with open(path, "rb") as f:
                raw = f.read()
            if docker and raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)      # docker save holds plain tars
            raws.append(raw)
            comp = comps[min(i - 1, len(comps) - 1)]
            if docker and comp != "plain":
                die("%s: docker archives hold uncompressed layers" % line.name)
            diffids.append(digest(raw))
            data = compress(raw, comp)
            stored = data
            if line.layer_tamper("layer-digest", i):
                stored = compress(altered(raw), comp)
            foreign = line.layer_tamper("layer-foreign", i)
            foreign_present = line.layer_tamper("layer-foreign-present", i)
            missing = bool(line.layer_tamper("layer-missing", i) or foreign)
            d = digest(data, alg)
            desc = {"mediaType": mtypes.get(i, t[comp]), "digest": d, "size": len(stored)}
            if foreign or foreign_present:
                desc["mediaType"] = mtypes.get(i, t["foreign"])
                desc["urls"] = ["https://example.invalid/blobs/" + d]
            sz = line.layer_tamper("layer-size", i)
            if sz:
                desc["size"] += 1 if sz == [True] else int(sz[0])
            if self.form == "docker-old":
                self.docker_old_layer(line, i, raw, stored, missing)
            elif not missing:
                self.blobs["blobs/%s/%s" % tuple(d.split(":"))] = stored
            descs.append(desc)
        for n in range(1, len(diffids) + 1):
            if line.layer_tamper("diffid", n):
                diffids[n - 1] = digest(b"not this layer %d" % n)
        plat = (self.platform(line, "cplatform") or self.platform(line) or
                {"architecture": "amd64", "os": "linux"})
        config = dict(plat)
        config.update({
            "created": CREATED,
            "config": {"Env": ["PATH=/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": diffids},
            "history": [{"created": CREATED, "created_by": "mkimage.py %s layer %d" % (line.name, i)}
                        for i in range(1, len(diffids) + 1)],
        })
        if "config" in line.opts:
            config = self.config_from(line.opts["config"], diffids, config["history"])
        cfg = jdump(config)
        if "rawconfig" in line.opts:
            with open(line.opts["rawconfig"], "rb") as f:
                cfg = f.read()
        cfg_stored = cfg + b" " if line.tampered("config-digest") else cfg
        cfg_digest = digest(cfg, alg)
        built = {"config": cfg_digest, "layers": [x["digest"] for x in descs], "diffids": diffids,
                 "raws": raws}
        if self.form == "docker-old":
            if not line.tampered("config-missing"):
                self.members.append((cfg_digest.split(":")[1] + ".json", cfg_stored))
            built["manifest"] = cfg_digest
            line.built = built
            return
        self.put(cfg, alg, cfg_stored, missing=bool(line.tampered("config-missing")))
        manifest = {"schemaVersion": 2, "mediaType": t["manifest"],
                    "config": {"mediaType": t["config"], "digest": cfg_digest,
                               "size": len(cfg_stored) + line.size_delta("config-size")},
                    "layers": descs}
        m = jdump(manifest)
        built["manifest_bytes"] = m
        built["desc"] = self.describe(line, m, t["manifest"], alg, "manifest")
        built["manifest"] = built["desc"]["digest"]
        line.built = built

    def config_from(self, path, diffids, history):
        """The config in file PATH (a JSON object, its keys kept in their
        order) with rootfs.diff_ids set to DIFFIDS, and HISTORY unless it
        has a history of its own."""
        with open(path, "rb") as f:
            config = json.loads(f.read())
        if not isinstance(config, dict):
            die("config=%s: not a JSON object (rawconfig= writes any bytes)" % path)
        rootfs = config.setdefault("rootfs", {"type": "layers"})
        rootfs["diff_ids"] = diffids
        config.setdefault("history", history)
        return config

    def describe(self, line, data, mtype, alg, what):
        stored = data + b"\n" if line.tampered(what + "-digest") else data
        d = self.put(data, alg, stored, missing=bool(line.tampered(what + "-missing")))
        self.manifests.add("blobs/%s/%s" % tuple(d.split(":")))
        desc = {"mediaType": mtype, "digest": d, "size": len(stored) + line.size_delta(what + "-size")}
        plat = self.platform(line)
        if plat:
            desc["platform"] = plat
        ann = {}
        target = line.opts.get("attest")
        if target:
            ann["vnd.docker.reference.digest"] = self.byname[target].built["manifest"]
            ann["vnd.docker.reference.type"] = "attestation-manifest"
        ann.update(line.annotations)
        if ann:
            desc["annotations"] = ann
        return desc

    def docker_old_layer(self, line, i, raw, stored, missing):
        # the v1 layer ID: a chain over the diff_ids, as docker's v1 IDs are
        prev = line._ids[-1] if getattr(line, "_ids", None) else ""
        chain = hashlib.sha256((prev + " " + digest(raw)).encode()).hexdigest()
        line._ids = getattr(line, "_ids", []) + [chain]
        hexd = hashlib.sha256(raw).hexdigest()
        skopeo = self.docker_layout == "skopeo"
        line._paths = getattr(line, "_paths", []) + [hexd + ".tar" if skopeo else chain + "/layer.tar"]
        names = {n for n, _ in self.members}
        if chain + "/json" in names:
            return              # the same chain in an image written before
        v1 = {"id": chain, "created": CREATED, "container_config": {}, "os": "linux"}
        if prev:
            v1["parent"] = prev
        if not skopeo:
            self.members.append((chain, None))      # docker writes ID/ first
        self.members.append((chain + "/VERSION", b"1.0"))
        self.members.append((chain + "/json", jdump(v1)))
        if skopeo:
            if not missing and hexd + ".tar" not in names:
                self.members.insert(0, (hexd + ".tar", stored))
            self.members.append((chain + "/layer.tar", ("symlink", "../%s.tar" % hexd)))
            return
        if missing:
            return
        saved = self.__dict__.setdefault("_saved", {})
        if hexd in saved:
            self.members.append((chain + "/layer.tar", ("symlink", "../%s/layer.tar" % saved[hexd])))
        else:
            self.members.append((chain + "/layer.tar", stored))
            saved[hexd] = chain

    def build_index(self, line):
        t = self.types(line)
        children = [c for c in self.lines if c.opts.get("in") == line.name]
        idx = {"schemaVersion": 2, "mediaType": t["index"],
               "manifests": [self.descriptors(c) for c in children]}
        idx["manifests"] = [d for ds in idx["manifests"] for d in ds]
        data = jdump(idx)
        desc = self.describe(line, data, t["index"], line.opts.get("alg", "sha256"), "index")
        line.built = {"desc": desc, "manifest": desc["digest"]}

    def descriptors(self, line):
        """The descriptors naming LINE in its parent: one, or (docker25 at the
        top level, or OCI with several tags) one per tag."""
        desc = line.built["desc"]
        if not line.tags:
            return [desc]
        out = []
        for tag in line.tags:
            d = json.loads(jdump(desc))
            ann = d.setdefault("annotations", {})
            if self.form == "docker25" and "in" not in line.opts:
                full = repotag(tag)
                if "/" not in full.split(":")[0] or "." not in full.split("/")[0]:
                    full = "docker.io/" + ("library/" if "/" not in full else "") + full
                ann["io.containerd.image.name"] = full
                ann["org.opencontainers.image.ref.name"] = full.rsplit(":", 1)[1]
            else:
                ann["org.opencontainers.image.ref.name"] = tag
            out.append(d)
        return out

    def build(self, line, seen=()):
        if line.built is not None:
            return
        if line.name in seen:
            die("%s: a cycle of in=" % line.name)
        seen = seen + (line.name,)
        for c in self.lines:
            if c.opts.get("in") == line.name:
                self.build(c, seen)
        target = line.opts.get("attest")
        if target:
            if target not in self.byname:
                die("%s: attest=%s: no such line" % (line.name, target))
            self.build(self.byname[target], seen)
        if line.kind == "image":
            self.build_image(line)
        else:
            self.build_index(line)

    def run(self, lines):
        self.lines = lines
        for line in lines:
            if line.name in self.byname:
                die("%s: two lines have this name" % line.name)
            self.byname[line.name] = line
            p = line.opts.get("in")
            if p and self.form == "docker-old":
                die("docker-old has no index")
        for line in lines:
            p = line.opts.get("in")
            if p and (p not in self.byname or self.byname[p].kind != "index"):
                die("%s: in=%s: no such index" % (line.name, p))
        for line in lines:
            self.build(line)
        top = [l for l in lines if "in" not in l.opts]
        files = []   # (name, bytes or ('symlink', target) or None for a directory)
        if self.form == "dir":
            return self.dir_files(top)
        if self.form == "docker-old":
            manifest = []
            repos = {}
            for l in top:
                if l.kind != "image":
                    die("docker-old has no index")
                manifest.append({"Config": l.built["config"].split(":")[1] + ".json",
                                 "RepoTags": [repotag(x) for x in l.tags] or None,
                                 "Layers": l._paths})
                for tag in l.tags:
                    repo, _, tg = repotag(tag).rpartition(":")
                    repos.setdefault(repo, {})[tg] = l._ids[-1]
            files = list(self.members)
            files.append(("manifest.json", jdump(manifest)))
            if repos:
                files.append(("repositories", jdump(repos)))
            return files
        index = {"schemaVersion": 2, "mediaType": OCI["index"],
                 "manifests": [d for l in top for d in self.descriptors(l)]}
        layout = jdump({"imageLayoutVersion": "1.0.0"})
        dirs = sorted({os.path.dirname(p) for p in self.blobs})
        if self.form == "docker25":
            files = [("blobs", None)] + [(d, None) for d in dirs]
            files += sorted(self.blobs.items())
            files.append(("index.json", jdump(index)))
            manifest, repos = [], {}
            for l in top:
                if l.kind != "image":
                    continue
                manifest.append({"Config": "blobs/sha256/" + l.built["config"].split(":")[1],
                                 "RepoTags": [repotag(x) for x in l.tags] or None,
                                 "Layers": ["blobs/sha256/" + d.split(":")[1]
                                            for d in l.built["layers"]]})
                for tag in l.tags:
                    repo, _, tg = repotag(tag).rpartition(":")
                    repos.setdefault(repo, {})[tg] = l.built["manifest"].split(":")[1]
            files.append(("manifest.json", jdump(manifest)))
            files.append(("oci-layout", layout))
            if repos:
                files.append(("repositories", jdump(repos)))
            return files
        files = [("oci-layout", layout), ("index.json", jdump(index)), ("blobs", None)]
        files += [(d, None) for d in dirs]
        files += list(self.blobs.items())
        return files


    def dir_files(self, top):
        """The files of a dir: layout: manifest.json (the top line's manifest
        or index, as stored), version, HEX blobs, HEX.manifest.json below an
        index."""
        if len(top) != 1:
            die("dir: one top line (an image or an index), not %d" % len(top))
        key = "blobs/%s/%s" % tuple(top[0].built["desc"]["digest"].split(":"))
        files = [("version", b"Directory Transport Version: 1.1\n")]
        for k, data in self.blobs.items():
            hexd = k.rsplit("/", 1)[1]
            if k == key:
                files.append(("manifest.json", data))
            elif k in self.manifests:
                files.append((hexd + ".manifest.json", data))
            else:
                files.append((hexd, data))
        return files


def write_tar(out, files):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = MTIME, 0, 0, "", ""
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            elif isinstance(data, tuple):
                ti.type, ti.mode, ti.linkname = tarfile.SYMTYPE, 0o777, data[1]
                tf.addfile(ti)
            else:
                ti.mode, ti.size = 0o644, len(data)
                tf.addfile(ti, io.BytesIO(data))


def write_dir(out, files):
    os.makedirs(out, exist_ok=False)
    for name, data in files:
        p = os.path.join(out, name)
        if data is None:
            os.makedirs(p, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1][len("usage: "):],
                                 description="see the docstring of t/mkimage.py")
    ap.add_argument("--docker-layout", choices=("dirs", "skopeo"), default="dirs")
    ap.add_argument("form", choices=("oci-dir", "oci-archive", "docker-old", "docker25", "dir"))
    ap.add_argument("out")
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    if a.args:
        lines = [Line(["image", "image"] + a.args, 0)]
    else:
        lines = []
        for n, text in enumerate(sys.stdin, 1):
            words = shlex.split(text, comments=True)
            if words:
                lines.append(Line(words, n))
    if not lines:
        die("no image")
    b = Builder(a.form, a.docker_layout)
    files = b.run(lines)
    if a.form in ("oci-dir", "dir"):
        write_dir(a.out, files)
    else:
        write_tar(a.out, files)
    for l in lines:
        if l.kind == "image":
            print("image %s manifest=%s config=%s layers=%s diffids=%s" % (
                l.name, l.built["manifest"], l.built["config"], ",".join(l.built["layers"]),
                ",".join(l.built["diffids"])))
        else:
            print("index %s index=%s" % (l.name, l.built["manifest"]))


main()
