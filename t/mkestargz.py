#!/usr/bin/env python3
"""Re-pack a plain tar as an eStargz (or legacy stargz) layer.

usage: mkestargz.py [options] IN.tar OUT
       mkestargz.py --verify BLOB

Written after containerd/stargz-snapshotter docs/estargz.md and its Go
writer (estargz/build.go Build, estargz.go appendTar, gzip.go
WriteTOCAndFooter), and google/crfs stargz/stargz.go for the legacy form:

- Members go out in gzip members of their own: a new gzip member starts at
  the blob's top, at the payload of each non-empty regular file and at
  every CHUNK bytes of it (a chunk); a member's tar header, and the
  padding of the file before it, stay in the gzip member already open.
- Build() puts a landmark first: .no.prefetch.landmark (a regular file of
  one byte, 0x0f, mode 0, owner 0, mtime 0), or, with --prioritize, the
  prioritized members (their parent directories first), then
  .prefetch.landmark, then the rest.
- The TOC is the last tar member, stargz.index.json, in a gzip member of
  its own whose offset the footer gives; the tar end-of-archive (two zero
  blocks) follows it in that same gzip member. Build()/AppendTar writes no
  end-of-archive before it; AppendTarLossLess (BuildKit, --lossless) copies
  the input as it is, its own end-of-archive included, so the TOC comes
  after an end-of-archive there.
- The footer, eStargz: an empty gzip member of 51 bytes whose extra field
  holds the subfield SI1='S' SI2='G' LEN=22 "%016xSTARGZ" % TOC offset.
  Legacy stargz (crfs, --legacy): 47 bytes, the extra field is the 22
  bytes "%016xSTARGZ" bare, and the TOC's gzip header carries the extra
  field "stargz.toc". External TOC (--external-toc): 46 bytes, subfield
  "STARGZEXTERNALTOC", no TOC (and no end-of-archive) in the blob.

Options:
  --landmark none|no-prefetch|prefetch   which landmark; default no-prefetch
                         (prefetch with --prioritize), none with --legacy or
                         --lossless (neither crfs nor AppendTarLossLess adds one)
  --prioritize NAME      a member (as named in IN) to put before
                         .prefetch.landmark; repeatable
  --chunk-size N         bytes a chunk (default 4 MiB, Go's default)
  --lossless             AppendTarLossLess: IN's bytes, end-of-archive included
  --legacy               the crfs form and its 47-byte footer
  --external-toc         the 46-byte external-TOC footer, TOC left out
  --toc-offset N         write N in the footer instead of the TOC's offset
  --toc-out FILE         also write the TOC JSON to FILE
--verify reads BLOB back as the Go reader does (footer, TOC, each chunk
at its offset against its digest) and prints what it found.

Prints the TOC's digest (sha256:HEX, the value of the layer descriptor's
containerd.io/snapshot/stargz/toc.digest annotation) on standard output.
Standard library only.
"""
import argparse, base64, hashlib, io, json, struct, sys, tarfile, time, zlib

BLOCK = 512
TOC_NAME = "stargz.index.json"
LANDMARKS = {"prefetch": ".prefetch.landmark", "no-prefetch": ".no.prefetch.landmark"}
LANDMARK_BYTE = b"\x0f"


def gzip_member(data, extra=None, level=9):
    """One gzip member as Go's compress/gzip writes it: mtime 0, OS 255,
    XFL 2 at best compression, FEXTRA when EXTRA is given."""
    flg = 0x04 if extra is not None else 0
    xfl = 2 if level == 9 else 0
    head = struct.pack("<BBBBIBB", 0x1F, 0x8B, 8, flg, 0, xfl, 255)
    if extra is not None:
        head += struct.pack("<H", len(extra)) + extra
    co = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = co.compress(data) + co.flush()
    return head + body + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)


def empty_stored_member(extra):
    """The footers: an empty gzip member, one final stored block of length
    0 (01 00 00 ff ff), CRC and ISIZE 0."""
    head = struct.pack("<BBBBIBB", 0x1F, 0x8B, 8, 0x04, 0, 0, 255)
    return head + struct.pack("<H", len(extra)) + extra + b"\x01\x00\x00\xff\xff" + bytes(8)


def footer(kind, toc_off):
    if kind == "estargz":
        sub = b"%016xSTARGZ" % toc_off
        f = empty_stored_member(b"SG" + struct.pack("<H", len(sub)) + sub)
        assert len(f) == 51
    elif kind == "legacy":
        f = empty_stored_member(b"%016xSTARGZ" % toc_off)
        assert len(f) == 47
    else:
        sub = b"STARGZEXTERNALTOC"
        f = empty_stored_member(b"SG" + struct.pack("<H", len(sub)) + sub)
        assert len(f) == 46
    return f


class Member:
    """One member of IN as its raw bytes: headers (extension headers
    included), payload, padding."""

    def __init__(self, ti, hdr, data, pad):
        self.ti, self.hdr, self.data, self.pad = ti, hdr, data, pad


def read_members(raw):
    tf = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
    infos = tf.getmembers()
    end = tf.offset     # where the end-of-archive starts
    out = []
    for i, ti in enumerate(infos):
        stop = infos[i + 1].offset if i + 1 < len(infos) else end
        dlen = ti.size if ti.isreg() else 0
        out.append(Member(ti, raw[ti.offset:ti.offset_data],
                          raw[ti.offset_data:ti.offset_data + dlen],
                          raw[ti.offset_data + dlen:stop]))
    return out, raw[end:]


def synthetic(name, data):
    """A member as Go's tar.Writer makes it from a bare Header: ustar,
    mode 0, owner 0, mtime 0."""
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mode, ti.mtime = tarfile.REGTYPE, len(data), 0, 0
    hdr = ti.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
    return Member(ti, hdr, data, bytes(-len(data) % BLOCK))


def tar_name(ti):
    return ti.name + "/" if ti.isdir() else ti.name


def prioritized(members, names):
    """Build's sortEntries: each prioritized name, its parents first."""
    by_name = {m.ti.name.strip("/"): m for m in members}
    picked, first = set(), []
    for n in names:
        n = n.strip("/")
        if n not in by_name:
            sys.exit("mkestargz.py: %s: no such member" % n)
        parts = n.split("/")
        for k in range(1, len(parts) + 1):
            p = "/".join(parts[:k])
            if p in by_name and p not in picked:
                picked.add(p)
                first.append(by_name[p])
    rest = [m for m in members if m.ti.name.strip("/") not in picked]
    return first, rest


def toc_entry(ti):
    types = {tarfile.REGTYPE: "reg", tarfile.AREGTYPE: "reg", tarfile.DIRTYPE: "dir",
             tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink",
             tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}
    if ti.type not in types:
        sys.exit("mkestargz.py: %s: unsupported input tar entry %r" % (ti.name, ti.type))
    e = {"name": tar_name(ti), "type": types[ti.type]}
    if e["type"] == "reg" and ti.size:
        e["size"] = ti.size
    if ti.mtime:
        e["modtime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ti.mtime)))
    if ti.type in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        e["linkName"] = ti.linkname
    for key, val in (("mode", ti.mode), ("uid", ti.uid), ("gid", ti.gid),
                     ("userName", ti.uname), ("groupName", ti.gname)):
        if val:
            e[key] = val
    if ti.type in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        e["devMajor"], e["devMinor"] = ti.devmajor, ti.devminor
    xattrs = {k[len("SCHILY.xattr."):]: base64.b64encode(v.encode("utf-8", "surrogateescape")).decode()
              for k, v in ti.pax_headers.items() if k.startswith("SCHILY.xattr.")}
    if xattrs:
        e["xattrs"] = xattrs
    return e


class Writer:
    """appendTar with MinChunkSize 0: the gzip members of the blob."""

    def __init__(self, chunk):
        self.out, self.cur, self.chunk, self.toc = bytearray(), None, chunk, []

    def open(self):
        if self.cur is None:
            self.cur = bytearray()

    def close(self):
        if self.cur is not None:
            self.out += gzip_member(bytes(self.cur))
            self.cur = None

    def append(self, m):
        self.open()
        self.cur += m.hdr
        ent = toc_entry(m.ti)
        if m.ti.isreg():
            ent["digest"] = "sha256:" + hashlib.sha256(m.data).hexdigest()
        written = 0
        while written < len(m.data):
            n = min(self.chunk, len(m.data) - written)
            if n == self.chunk:
                ent["chunkSize"] = n    # Go sets it unless remain < chunk
            self.close()
            ent["offset"] = len(self.out)
            if written:
                ent["chunkOffset"] = written
            self.open()
            piece = m.data[written:written + n]
            self.cur += piece
            ent["chunkDigest"] = "sha256:" + hashlib.sha256(piece).hexdigest()
            self.toc.append(ent)
            written += n
            ent = {"name": tar_name(m.ti), "type": "chunk"}
        if not m.data:
            self.toc.append(ent)
        self.cur += m.pad


def toc_json(entries):
    # json.MarshalIndent(toc, "", "\t") with the struct's field order
    order = ["name", "type", "size", "modtime", "linkName", "mode", "uid", "gid",
             "userName", "groupName", "offset", "innerOffset", "devMajor", "devMinor",
             "xattrs", "digest", "chunkOffset", "chunkSize", "chunkDigest"]
    ents = [{k: e[k] for k in order if k in e} for e in entries]
    return json.dumps({"version": 1, "entries": ents}, indent="\t").encode()


def verify(path):
    """--verify: read BLOB as estargz.Open and VerifyTOC do: the footer,
    the TOC at the offset it gives (the first member of the tar in that
    gzip member), and every reg and chunk at its offset against its
    chunkDigest. Prints what it found; exits 1 on a mismatch."""
    with open(path, "rb") as f:
        b = f.read()
    kind = toc_off = None
    if len(b) >= 51 and b[-51:-51 + 16] == footer("estargz", 0)[:16] and b[-6 - 13:-13] == b"STARGZ":
        kind, toc_off = "estargz", int(b[-51 + 16:-51 + 32], 16)
    elif len(b) >= 47 and b[-47:-47 + 12] == footer("legacy", 0)[:12] and b[-6 - 13:-13] == b"STARGZ":
        kind, toc_off = "legacy", int(b[-47 + 12:-47 + 28], 16)
    if kind is None:
        sys.exit("mkestargz.py: %s: no eStargz or stargz footer" % path)
    tz = zlib.decompressobj(31)
    try:
        tocgz = tz.decompress(b[toc_off:])
    except zlib.error as err:
        sys.exit("mkestargz.py: %s: no gzip member at the TOC offset %d: %s" % (path, toc_off, err))
    if tz.unused_data != b[-(51 if kind == "estargz" else 47):]:
        sys.exit("mkestargz.py: %s: the TOC's gzip member is not followed by the footer" % path)
    with tarfile.open(fileobj=io.BytesIO(tocgz), mode="r:") as tf:
        ti = tf.next()
        if ti is None or ti.name != TOC_NAME:
            sys.exit("mkestargz.py: %s: no %s at the TOC offset" % (path, TOC_NAME))
        toc = json.loads(tf.extractfile(ti).read())
    checked, size = 0, 0
    for e in toc["entries"]:
        if e["type"] == "reg":
            size = e.get("size", 0)
        if e["type"] not in ("reg", "chunk") or "offset" not in e:
            continue
        n = e.get("chunkSize") or size - e.get("chunkOffset", 0)
        data = zlib.decompressobj(31).decompress(b[e["offset"]:])[:n]
        if "sha256:" + hashlib.sha256(data).hexdigest() != e["chunkDigest"]:
            sys.exit("mkestargz.py: %s: %s at %d: chunk digest mismatch" % (path, e["name"], e["offset"]))
        checked += 1
    print("%s toc=%d entries=%d chunks=%d" % (kind, toc_off, len(toc["entries"]), checked))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        return verify(sys.argv[2])
    ap = argparse.ArgumentParser()
    ap.add_argument("--landmark", choices=["none", "no-prefetch", "prefetch"])
    ap.add_argument("--prioritize", action="append", default=[])
    ap.add_argument("--chunk-size", type=int, default=4 << 20)
    ap.add_argument("--lossless", action="store_true")
    ap.add_argument("--legacy", action="store_true")
    ap.add_argument("--external-toc", action="store_true")
    ap.add_argument("--toc-offset", type=int)
    ap.add_argument("--toc-out")
    ap.add_argument("inp")
    ap.add_argument("out")
    a = ap.parse_args()
    if a.chunk_size <= 0:
        sys.exit("mkestargz.py: --chunk-size must be positive")
    landmark = a.landmark
    if landmark is None:
        landmark = ("none" if a.legacy or a.lossless else
                    "prefetch" if a.prioritize else "no-prefetch")

    with open(a.inp, "rb") as f:
        members, trailer = read_members(f.read())
    if any(m.ti.name.strip("/") == TOC_NAME for m in members):
        if a.lossless:
            sys.exit("mkestargz.py: existing TOC JSON is not allowed (as Go's lossless writer)")
        # appendTar reserves the name: a layer stargzified twice has one TOC
        members = [m for m in members if m.ti.name.strip("/") != TOC_NAME]
    first, rest = prioritized(members, a.prioritize) if a.prioritize else ([], members)
    mark = [] if landmark == "none" else [synthetic(LANDMARKS[landmark], LANDMARK_BYTE)]
    w = Writer(a.chunk_size)
    for m in first + mark + rest:
        w.append(m)
    if a.lossless:
        w.open()
        w.cur += trailer        # the input's own end-of-archive
    w.close()

    toc_off = len(w.out)
    tj = toc_json(w.toc)
    blob = w.out
    if not a.external_toc:
        t = synthetic(TOC_NAME, tj)
        blob += gzip_member(t.hdr + t.data + t.pad + bytes(2 * BLOCK),
                            extra=b"stargz.toc" if a.legacy else None)
    kind = "external" if a.external_toc else "legacy" if a.legacy else "estargz"
    blob += footer(kind, toc_off if a.toc_offset is None else a.toc_offset)
    with open(a.out, "wb") as f:
        f.write(blob)
    if a.toc_out:
        with open(a.toc_out, "wb") as f:
            f.write(tj)
    print("sha256:" + hashlib.sha256(tj).hexdigest())


main()
