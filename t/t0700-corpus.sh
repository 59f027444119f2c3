#!/bin/bash
# Corpus conformance (issue 3): every file of ../shared/corpus, flattened as
# a one-layer image (--layers: an image archive is read as the tar it is;
# zstd, xz and bzip2 through their programs), gives what its own project
# expects, after tarflat's rules; files their project calls invalid are
# rejected with no output; compressions tarflat does not read are refused
# by name. t0710 reads the corpus's image archives as images.
#
# t/corpus_check.py does the work: it tells the format from the content,
# lists each file with an independent reader (Python tarfile; GNU tar or
# bsdtar where the MANIFEST shows Python to be the odd one out), applies
# tarflat's rules to that list in its own code, runs tarflat and reads its
# output back. Files where the readers disagree are decided by hand in
# t/corpus-expect.tsv (the decisions by topic: doc/disputed-input.md).
# One test per corpus file; a failure shows the diff of want and got.
. "$(dirname "$0")/lib.sh"

[ -d "$CORPUS" ] && [ -f "$CORPUS/MANIFEST.tsv" ] ||
	skip_all "no corpus at ../shared/corpus"
need python3 tar bsdtar

mkdir -p "$T/work" || exit 1
python3 "$TDIR/corpus_check.py" "$CORPUS" "$TDIR/corpus-expect.tsv" \
	"$TARFLAT" "$T/work" >"$T/results" 2>"$T/check.err"
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

# the checker itself must have run to the end
is "corpus_check.py ran over the whole MANIFEST" \
	"exit $rc, $(grep -vc "^#" "$T/results") results$(sed 's/^/; /' "$T/check.err" | tail -n 5 | tr '\n' ' ')" \
	"exit 0, $(($(wc -l <"$CORPUS/MANIFEST.tsv") - 1)) results"

done_testing
