#!/usr/bin/env python3
"""Read an image tarflat wrote, by the OCI image-spec and Docker's
manifest.json alone, and check every digest and size in it.

usage: imgcheck.py verify IMAGE[:TAG]
       imgcheck.py config IMAGE[:TAG]            the config's bytes on stdout
       imgcheck.py blob IMAGE[:TAG] WHAT OUT     WHAT: N (layer N, 1-based, as
                                                 stored), tarN (layer N
                                                 uncompressed), config, manifest
       imgcheck.py get IMAGE[:TAG] PATH          config value at PATH (keys
                                                 joined by '.'; '' the whole)
                                                 as compact JSON
       imgcheck.py cmpconfig IN OUT              two configs (files)

IMAGE is an OCI image layout directory or a tar of one (an OCI archive, or a
docker-archive: the layout plus manifest.json). `verify` checks oci-layout,
index.json (one manifest, or the one whose org.opencontainers.image.ref.name
is TAG), the manifest and config it names (media types, sizes, sha256
digests), each layer's blob (size, digest) and its uncompressed tar (gzip by
Python's zlib, which must find one gzip member and nothing after it; zstd by
`zstd -dc`; a plain tar as it is) against the config's rootfs.diff_ids; with
manifest.json, that it names the same config and layers (blobs/sha256/HEX)
and RepoTags as a list; that the image holds no file nothing names (a blob
left over). It prints what it read, one line each:
  manifest DIGEST SIZE
  config DIGEST SIZE
  layer N DIGEST SIZE MEDIATYPE DIFF_ID
  refs NAME,...        (index.json's ref.name annotations, or -)
  names NAME,...       (index.json's io.containerd.image.name, or -)
  repotags TAG,...     (manifest.json's, docker-archive only; - when empty)
and exits 1 with a message on the first thing wrong.

`cmpconfig` exits 0 when OUT is IN with only rootfs.diff_ids and history
changed: every other key, at every depth, with the same value, in the same
order (objects compared as lists of pairs, so order and duplicates count);
else it prints the first difference and exits 1.
"""
import hashlib, json, os, subprocess, sys, tarfile, zlib

MT = {
    "manifest": "application/vnd.oci.image.manifest.v1+json",
    "index": "application/vnd.oci.image.index.v1+json",
    "config": "application/vnd.oci.image.config.v1+json",
}
LAYER_TYPES = {
    "application/vnd.oci.image.layer.v1.tar": "none",
    "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd": "zstd",
}
# IMGCHECK_DOCKER_TYPES=1: Docker schema 2 media types are taken too (to
# read an input image; tarflat writes OCI types)
if os.environ.get("IMGCHECK_DOCKER_TYPES") == "1":
    MT = {k: [v, d] for (k, v), d in zip(MT.items(), (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.container.image.v1+json"))}
    LAYER_TYPES.update({"application/vnd.docker.image.rootfs.diff.tar": "none",
                        "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
                        "application/vnd.docker.image.rootfs.diff.tar.zstd": "zstd"})
else:
    MT = {k: [v] for k, v in MT.items()}


class Bad(Exception):
    pass


class Image:
    """The files of a layout: a directory, or the members of a tar."""

    def __init__(self, path):
        self.path = path
        self.files = {}
        if os.path.isdir(path):
            for d, _, names in os.walk(path):
                for n in names:
                    full = os.path.join(d, n)
                    self.files[os.path.relpath(full, path)] = full
            self.tar = None
        else:
            self.tar = tarfile.open(path)
            for m in self.tar.getmembers():
                name = m.name[2:] if m.name.startswith("./") else m.name
                if m.isdir():
                    continue
                if not m.isreg():
                    raise Bad("%s: member %s is not a regular file" % (path, m.name))
                if name in self.files:
                    raise Bad("%s: member %s twice" % (path, name))
                self.files[name] = m
        self.used = set()

    def read(self, name):
        if name not in self.files:
            raise Bad("%s: no %s" % (self.path, name))
        self.used.add(name)
        f = self.files[name]
        if self.tar is None:
            with open(f, "rb") as fh:
                return fh.read()
        return self.tar.extractfile(f).read()


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_path(digest):
    alg, _, hexd = digest.partition(":")
    return "blobs/%s/%s" % (alg, hexd)


def fetch(img, desc, what, mtypes=None):
    for k in ("mediaType", "digest", "size"):
        if k not in desc:
            raise Bad("%s descriptor has no %s" % (what, k))
    if mtypes is not None and desc["mediaType"] not in mtypes:
        raise Bad("%s media type %s" % (what, desc["mediaType"]))
    data = img.read(blob_path(desc["digest"]))
    if len(data) != desc["size"]:
        raise Bad("%s %s: %d bytes, its descriptor says %d" % (what, desc["digest"], len(data),
                                                               desc["size"]))
    if sha(data) != desc["digest"]:
        raise Bad("%s %s: the bytes hash to %s" % (what, desc["digest"], sha(data)))
    return data


def uncompressed(data, how):
    if how == "none":
        return data
    if how == "gzip":
        d = zlib.decompressobj(31)
        out = d.decompress(data) + d.flush()
        if not d.eof:
            raise Bad("the gzip layer ends early")
        if d.unused_data:
            raise Bad("the gzip layer has %d bytes after its first member" % len(d.unused_data))
        return out
    return subprocess.run(["zstd", "-q", "-d", "-c"], input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def load(arg):
    """IMAGE[:TAG] -> (Image, manifest descriptor, manifest, config bytes)."""
    path, tag = arg, None
    if not os.path.exists(arg) and ":" in arg:
        path, _, tag = arg.rpartition(":")
    img = Image(path)
    if json.loads(img.read("oci-layout")) != {"imageLayoutVersion": "1.0.0"}:
        raise Bad("oci-layout is not {\"imageLayoutVersion\":\"1.0.0\"}")
    index = json.loads(img.read("index.json"))
    if index.get("schemaVersion") != 2 or index.get("mediaType", MT["index"][0]) not in MT["index"]:
        raise Bad("index.json: schemaVersion or mediaType")
    mans = index.get("manifests", [])
    if tag is not None:
        mans = [m for m in mans
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    if len(mans) != 1:
        raise Bad("index.json: %d manifests%s, want 1" % (len(mans),
                                                          " tagged " + tag if tag else ""))
    mdesc = mans[0]
    manifest = json.loads(fetch(img, mdesc, "manifest", MT["manifest"]))
    if manifest.get("schemaVersion") != 2 or manifest.get("mediaType") not in MT["manifest"]:
        raise Bad("manifest: schemaVersion or mediaType")
    config = fetch(img, manifest["config"], "config", MT["config"])
    return img, index, mdesc, manifest, config


def verify(arg):
    img, index, mdesc, manifest, cbytes = load(arg)
    config = json.loads(cbytes)
    if not isinstance(config, dict):
        raise Bad("config is not an object")
    rootfs = config.get("rootfs", {})
    diff_ids = rootfs.get("diff_ids")
    if rootfs.get("type") != "layers" or not isinstance(diff_ids, list):
        raise Bad("config: rootfs is not {type: layers, diff_ids: [...]}")
    layers = manifest.get("layers", [])
    if len(diff_ids) != len(layers):
        raise Bad("config: %d diff_ids for %d layers" % (len(diff_ids), len(layers)))
    out = ["manifest %s %d" % (mdesc["digest"], mdesc["size"]),
           "config %s %d" % (manifest["config"]["digest"], manifest["config"]["size"])]
    for i, d in enumerate(layers, 1):
        data = fetch(img, d, "layer %d" % i, LAYER_TYPES)
        tar = uncompressed(data, LAYER_TYPES[d["mediaType"]])
        if sha(tar) != diff_ids[i - 1]:
            raise Bad("layer %d: its tar hashes to %s, diff_id %s" % (i, sha(tar), diff_ids[i - 1]))
        out.append("layer %d %s %d %s %s" % (i, d["digest"], d["size"], d["mediaType"], sha(tar)))
    ann = [m.get("annotations", {}) for m in index["manifests"]]
    out.append("refs " + (",".join(a["org.opencontainers.image.ref.name"] for a in ann
                                   if "org.opencontainers.image.ref.name" in a) or "-"))
    out.append("names " + (",".join(a["io.containerd.image.name"] for a in ann
                                    if "io.containerd.image.name" in a) or "-"))
    if "manifest.json" in img.files:
        dm = json.loads(img.read("manifest.json"))
        if not isinstance(dm, list) or len(dm) != 1:
            raise Bad("manifest.json: not a list of one image")
        e = dm[0]
        if e.get("Config") != blob_path(manifest["config"]["digest"]):
            raise Bad("manifest.json: Config %s" % e.get("Config"))
        if e.get("Layers") != [blob_path(d["digest"]) for d in layers]:
            raise Bad("manifest.json: Layers %s" % e.get("Layers"))
        if not isinstance(e.get("RepoTags"), list):
            raise Bad("manifest.json: RepoTags is not a list")
        out.append("repotags " + (",".join(e["RepoTags"]) or "-"))
    left = sorted(set(img.files) - img.used)
    if left:
        raise Bad("files nothing names: %s" % ", ".join(left))
    print("\n".join(out))


def cmpconfig(a_path, b_path):
    def parse(p):
        with open(p, "rb") as f:
            return json.loads(f.read(), object_pairs_hook=lambda kv: ("{}", kv))

    def diff(x, y, where):
        if isinstance(x, tuple) and isinstance(y, tuple):
            kx, ky = [k for k, _ in x[1]], [k for k, _ in y[1]]
            if kx != ky:
                return "%s: keys %s, want %s" % (where or "/", ky, kx)
            for (k, vx), (_, vy) in zip(x[1], y[1]):
                w = where + "/" + k
                if w in ("/rootfs/diff_ids", "/history"):
                    continue
                d = diff(vx, vy, w)
                if d:
                    return d
            return None
        if isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                return "%s: %d items, want %d" % (where, len(y), len(x))
            for i, (vx, vy) in enumerate(zip(x, y)):
                d = diff(vx, vy, "%s[%d]" % (where, i))
                if d:
                    return d
            return None
        if type(x) is not type(y) or x != y:
            return "%s: %r, want %r" % (where, y, x)
        return None

    d = diff(parse(a_path), parse(b_path), "")
    if d:
        print(d)
        return 1
    return 0


def main():
    a = sys.argv[1:]
    try:
        if len(a) == 2 and a[0] == "verify":
            verify(a[1])
        elif len(a) == 2 and a[0] == "config":
            sys.stdout.buffer.write(load(a[1])[4])
        elif len(a) == 4 and a[0] == "blob":
            img, _, mdesc, manifest, config = load(a[1])
            what = a[2]
            if what == "config":
                data = config
            elif what == "manifest":
                data = img.read(blob_path(mdesc["digest"]))
            else:
                n = int(what[3:] if what.startswith("tar") else what)
                d = manifest["layers"][n - 1]
                data = img.read(blob_path(d["digest"]))
                if what.startswith("tar"):
                    data = uncompressed(data, LAYER_TYPES[d["mediaType"]])
            with open(a[3], "wb") as f:
                f.write(data)
        elif len(a) == 3 and a[0] == "get":
            v = json.loads(load(a[1])[4])
            for k in a[2].split(".") if a[2] else []:
                v = v[k]
            print(json.dumps(v, separators=(",", ":")))
        elif len(a) == 3 and a[0] == "cmpconfig":
            return cmpconfig(a[1], a[2])
        else:
            sys.exit(__doc__.split("\n\n")[1])
    except (Bad, KeyError, ValueError, tarfile.TarError, OSError,
            subprocess.CalledProcessError) as e:
        print("imgcheck.py: %s: %s" % (a[1], e), file=sys.stderr)
        return 1
    return 0


sys.exit(main())
