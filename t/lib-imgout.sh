# t/lib-imgout.sh - helpers for the image-output tests t0470 and t0475,
# sourced after t/lib.sh, t/lib-rules.sh and t/lib-image.sh. What an image
# holds is read by t/imgcheck.py (the OCI image-spec and docker's
# manifest.json, every digest and size checked), never by tarflat alone.
#   imgcheck ARGS...          t/imgcheck.py
#   toimage KIND OUT ARGS...  tarflat ARGS into the image OUT; KIND is
#                             oci-archive, docker-archive (-o OUT),
#                             oci-archive-pipe, docker-archive-pipe (through
#                             a pipe into OUT), oci (-o OUT, a layout);
#                             stderr in $T/.ierr; returns tarflat's status
#   roundtrip DESC REF OUT    OUT passes imgcheck.py verify, and tarflat OUT
#                             writes REF's bytes (two tests)
#   mkstack GEN SEED DIR [FORM]  t/genstack.py or t/wildstack.py (GEN) for
#                             SEED into DIR; DIR/layers lists the layers as
#                             plain tars (DIR/pN.tar), DIR/img.tar is them as
#                             an OCI archive (gzip and plain layers in turn,
#                             tagged t); FORM oci-dir: DIR/img, a layout

imgcheck() {
	$PY "$TDIR/imgcheck.py" "$@"
}

toimage() {
	_ik=$1 _io=$2; shift 2
	case $_ik in
	oci-archive | docker-archive | oci)
		"$TARFLAT" --format "$_ik" -o "$_io" "$@" 2>"$T/.ierr" ;;
	*-pipe)
		# the exit status of tarflat, not cat's
		{ "$TARFLAT" --format "${_ik%-pipe}" "$@" 2>"$T/.ierr"; echo $? >"$T/.irc"; } | cat >"$_io"
		return "$(cat "$T/.irc")" ;;
	*)
		echo "toimage: unknown kind $_ik" >&2
		return 9 ;;
	esac
}

roundtrip() {
	_rd=$1 _rr=$2 _ro=$3
	ok "$_rd: imgcheck.py verify (digests, sizes, diff_ids)" imgcheck verify "$_ro"
	same "$_rd: tarflat OUT = tarflat IMAGE" "$_rr" "$_ro"
}

mkstack() {
	_mg=$1 _ms=$2 _md=$3 _mf=${4:-oci-archive}
	rm -rf "$_md" && mkdir -p "$_md" || return 1
	$PY "$TDIR/$_mg.py" --seed "$_ms" "$_md/gen" >"$_md/gen.list" || return 1
	: >"$_md/layers"
	_mi=0
	while read -r _ml; do
		_mi=$((_mi + 1))
		case $_ml in
		*.gz) gzip -dc <"$_ml" >"$_md/p$_mi.tar" || return 1 ;;
		*) cp "$_ml" "$_md/p$_mi.tar" || return 1 ;;
		esac
		echo "$_md/p$_mi.tar" >>"$_md/layers"
	done <"$_md/gen.list"
	_mc=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), (NR % 2 ? "gzip" : "plain") }' "$_md/layers")
	# shellcheck disable=SC2046
	_mo=$_md/img.tar
	[ "$_mf" = oci-dir ] && _mo=$_md/img
	$PY "$TDIR/mkimage.py" "$_mf" "$_mo" $(cat "$_md/layers") compress="$_mc" tag=t >"$_mo.info"
}
