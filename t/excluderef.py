#!/usr/bin/env python3
"""A reference for tarflat's --exclude, written apart from select.c.

usage: excluderef.py cut LISTING [--path P]... [--nothing FILE] PATTERN...
       excluderef.py draw --seed N [--sets K] LISTING OUTDIR

LISTING is t/treedump.py's listing of a full extraction (tab-separated,
path first, the link column '=FIRST' seventh).  `cut` prints the listing
that tarflat [--path P]... --exclude PATTERN... must give: with --path,
only P, what is under it and its ancestors (as t0465 cuts); then every
path a pattern matches left out, with everything under it; the hardlink
column made again among the names kept (the first kept name in sorted
order, '-' for a name left alone).  --nothing FILE gets the patterns that
match no path of the selection, one a line: the ones tarflat must warn
about.  `draw` picks K sets of patterns from LISTING's paths at random
(seeded) and writes for set I: OUTDIR/I.pat (its patterns, one a line),
OUTDIR/I.path (--path operands, maybe none), OUTDIR/I.want (the cut) and
OUTDIR/I.nothing.

The rules, from tarflat.1 and select.h, not from select.c: a pattern is
matched against the whole path from the root, component by component; a
leading '/' or './', empty components and a trailing '/' are dropped; a
component '**' matches any number of components, none included, but a
trailing '**' only what is inside (one component or more); any other
component matches one component by fnmatch(3) with flags 0.  Python's
fnmatch.fnmatchcase stands in for fnmatch(3) here, on names and patterns
decoded as Latin-1 so that it works on bytes as fnmatch(3) does in the C
locale (tarflat never calls setlocale): '?' is one byte.  The two agree on
what the drawn patterns hold -- '*' and '?' match a leading '.' in both
(no FNM_PERIOD), '[!x]' negates in both -- and the patterns avoid where
they differ: a backslash (an escape for fnmatch(3), a plain character
for Python), '[^x]' (a negation for glibc only) and '[:class:]'.  Where
the C library can be loaded (ctypes), every pattern component is also
matched against every name component with fnmatch(3) itself, and a
disagreement is an error: the stand-in is checked on what it is used on.
"""
import ctypes, fnmatch, os, random, sys


def comps(p):
    """A pattern or path as components (Latin-1 str)."""
    out = [c for c in p.split("/") if c]
    if out and out[0] == ".":
        out = out[1:]
    return out


def match_seq(pat, path):
    """Does the component list PAT match the whole component list PATH?"""
    if not pat:
        return not path
    if pat[0] == "**":
        return any(match_seq(pat[1:], path[k:]) for k in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], pat[0]) and match_seq(pat[1:], path[1:])


def matches(pattern, path):
    """Does PATTERN match PATH itself (not counting its ancestors)?"""
    pat, pc = comps(pattern), comps(path)
    if not pat:
        return False
    if pat[-1] == "**":
        # what is inside a name the rest matches: a proper prefix of PATH
        return any(match_seq(pat[:-1], pc[:k]) for k in range(len(pc)))
    return match_seq(pat, pc)


def libc_fnmatch():
    try:
        f = ctypes.CDLL(None).fnmatch
    except (OSError, AttributeError):
        return None
    f.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    return lambda p, n: f(p.encode("latin-1"), n.encode("latin-1"), 0) == 0


def agree(patterns, rows):
    """Exits if fnmatchcase and fnmatch(3) differ on a pattern component
    and a name component here."""
    libc = libc_fnmatch()
    if libc is None:
        return
    names = {c for r in rows for c in r[0].split("/")}
    for p in {c for pat in patterns for c in comps(pat) if c != "**"}:
        for n in names:
            if fnmatch.fnmatchcase(n, p) != libc(p, n):
                sys.exit("excluderef.py: fnmatchcase and fnmatch(3) disagree: %r %r" % (p, n))


def read_listing(fn):
    with open(fn, "rb") as f:
        return [l.decode("latin-1").rstrip("\n").split("\t") for l in f if l.strip()]


def in_paths(p, sel):
    return not sel or any(p == q or p.startswith(q + "/") or q.startswith(p + "/")
                          for q in sel)


def cut(rows, sel, patterns):
    """The rows tarflat must write, and the patterns that match nothing."""
    agree(patterns, rows)
    sel = ["/".join(comps(q)) for q in sel]
    rows = [r for r in rows if in_paths(r[0], sel)]
    hit = set()
    kept = []
    for r in rows:
        pc = r[0].split("/")
        out = False
        for i in range(1, len(pc) + 1):
            pre = "/".join(pc[:i])
            for j, pat in enumerate(patterns):
                if matches(pat, pre):
                    hit.add(j)
                    out = True
        if not out:
            kept.append(list(r))
    group = {}
    for r in kept:
        key = r[6][1:] if r[6] != "-" else r[0]
        group.setdefault(key, []).append(r[0])
    for r in kept:
        key = r[6][1:] if r[6] != "-" else r[0]
        names = sorted(group[key])
        if r[1] != "d":
            r[6] = "=" + names[0] if len(names) > 1 else "-"
    nothing = [p for j, p in enumerate(patterns) if j not in hit]
    return kept, nothing


def write_rows(f, rows):
    for r in rows:
        f.write(("\t".join(r) + "\n").encode("latin-1"))


# -- drawing patterns ----------------------------------------------------------

PLAIN = "abcdefghijklmnopqrstuvwxyz0123456789"
SPECIAL = "\\[]!^-*?"   # never next to a drawn class


def one_pattern(r, paths, dirs):
    p = r.choice(paths).split("/")
    how = r.choice(["exact", "star", "ques", "class", "neg", "mid", "lead", "inside",
                    "prefix", "none"])
    i = r.randrange(len(p))
    c = p[i]
    if how == "star":
        p[i] = "*"
    elif how == "ques":
        k = r.randrange(len(c))
        p[i] = c[:k] + "?" + c[k + 1:]
    elif how in ("class", "neg"):
        # a class that holds the byte, or a negated one that does not
        # exclude it; a special character stays out of the brackets
        k = r.randrange(len(c))
        other = r.choice([x for x in PLAIN if x != c[k]])
        if how == "neg":
            p[i] = c[:k] + "[!" + other + "]" + c[k + 1:]
        elif c[k] in SPECIAL:
            p[i] = c[:k] + "?" + c[k + 1:]
        else:
            p[i] = c[:k] + "[" + other + c[k] + "]" + c[k + 1:]
    elif how == "mid" and len(p) >= 2:
        a = r.randrange(len(p) - 1)
        b = r.randrange(a, len(p) - 1)
        p = p[:a] + ["**"] + p[b:] if r.random() < 0.7 else p[:a] + ["**"] + p[b + 1:]
    elif how == "lead":
        p = ["**", p[-1]]
    elif how == "inside" and dirs:
        p = r.choice(dirs).split("/") + ["**"]
    elif how == "prefix":
        p[i] = c[:r.randrange(len(c) + 1)] + "*"
    elif how == "none":
        p[i] = c + "-nothing"
    s = "/".join(p)
    # the spellings tarflat takes as the same pattern
    s = r.choice(["", "", "", "/", "./"]) + s + r.choice(["", "", "", "/"])
    return s


def draw(seed, listing, outdir, sets):
    rows = read_listing(listing)
    paths = [r[0] for r in rows]
    dirs = [r[0] for r in rows if r[1] == "d"]
    r = random.Random(seed)
    os.makedirs(outdir, exist_ok=True)
    for n in range(1, sets + 1):
        pats = [one_pattern(r, paths, dirs) for _ in range(r.choice([1, 1, 2, 2, 3, 4]))]
        sel = []
        if r.random() < 0.25:
            sel = [r.choice(dirs or paths)]
        kept, nothing = cut(rows, sel, pats)
        base = os.path.join(outdir, str(n))
        with open(base + ".pat", "wb") as f:
            f.write("".join(p + "\n" for p in pats).encode("latin-1"))
        with open(base + ".path", "wb") as f:
            f.write("".join(p + "\n" for p in sel).encode("latin-1"))
        with open(base + ".want", "wb") as f:
            write_rows(f, kept)
        with open(base + ".nothing", "wb") as f:
            f.write("".join(p + "\n" for p in nothing).encode("latin-1"))


def main():
    a = [x.encode(errors="surrogateescape").decode("latin-1") for x in sys.argv[1:]]
    if a[:1] == ["cut"]:
        listing, rest = a[1], a[2:]
        sel, nothing_file, pats = [], None, []
        while rest:
            if rest[0] == "--path":
                sel.append(rest[1])
                rest = rest[2:]
            elif rest[0] == "--nothing":
                nothing_file = rest[1]
                rest = rest[2:]
            else:
                pats.append(rest[0])
                rest = rest[1:]
        kept, nothing = cut(read_listing(listing), sel, pats)
        write_rows(sys.stdout.buffer, kept)
        if nothing_file:
            with open(nothing_file, "wb") as f:
                f.write("".join(p + "\n" for p in nothing).encode("latin-1"))
    elif a[:1] == ["draw"] and len(a) >= 5 and a[1] == "--seed":
        sets = 3
        rest = a[3:]
        if rest[0] == "--sets":
            sets, rest = int(rest[1]), rest[2:]
        draw(int(a[2]), rest[0], rest[1], sets)
    else:
        sys.exit(__doc__)


main()
