#!/bin/bash
# Image names (tarflat.1 DESCRIPTION): INPUT:NAME finds an image by any name it
# was saved under, with or without the default registry and namespace
# (docker.io/library/, docker.io/) and podman's localhost/ (podman stores
# app:1 as localhost/app:1), NAME without a tag being NAME:latest, also
# behind a registry with a port; and the messages that list the choices read
# the same for every form ("the input has: ...") and name every tag each
# image carries, once, with its digest.
. "$(dirname "$0")/lib.sh"
. "$TDIR/lib-rules.sh"
. "$TDIR/lib-image.sh"
need tar

mklayer l1.tar <<'EOF'
file etc/passwd data=root:x:0:0 mtime=101
EOF
mklayer l2.tar <<'EOF'
file etc/motd data=hello mtime=201
EOF
mklayer l3.tar <<'EOF'
file opt/app data=app mode=0755 mtime=301
EOF
ref r1.tar l1.tar
ref r12.tar l1.tar l2.tar
ref r13.tar l1.tar l3.tar

# ---- podman's localhost/ -------------------------------------------------
# a docker save archive as podman writes it (RepoTags localhost/app:1), an
# OCI archive as podman writes it (ref.name localhost/app:1)
mkimage docker-old pod-d.tar <<'EOF'
image one l1.tar l2.tar tag=localhost/app:1
image two l1.tar l3.tar tag=localhost/web
EOF
mkimage oci-archive pod-o.tar <<'EOF'
image one l1.tar l2.tar tag=localhost/app:1
image two l1.tar l3.tar tag=localhost/web:latest
EOF
for f in pod-d.tar pod-o.tar; do
	same "$f: INPUT:app:1 finds localhost/app:1" r12.tar $f:app:1
	same "$f: INPUT:localhost/app:1 too" r12.tar $f:localhost/app:1
	same "$f: INPUT:docker.io/library/app:1 too (both names are short for it)" r12.tar \
		$f:docker.io/library/app:1
	same "$f: INPUT:web finds localhost/web:latest" r13.tar $f:web
	same "$f: INPUT:localhost/web finds it too" r13.tar $f:localhost/web
	ifails "$f: INPUT:app:2 -> exit 1 listing both images by their names" \
		"no image tagged app:2; the input has: localhost/app:1 \(sha256:[0-9a-f]{12}\), localhost/web:latest \(sha256:[0-9a-f]{12}\)" \
		$f $f:app:2
	ifails "$f: INPUT:otherhost/app:1 is another image -> exit 1" "no image tagged otherhost/app:1" \
		$f $f:otherhost/app:1
	ifails "$f: INPUT:pp:1 (a suffix of the name) -> exit 1" "no image tagged pp:1" $f $f:pp:1
done

# a registry with a port: the ':' of the port is no tag, so NAME is NAME:latest
mkimage docker-old port.tar l1.tar l2.tar tag=registry.example:5000/team/app
same "registry with a port: INPUT:registry.example:5000/team/app finds ...:latest" r12.tar \
	port.tar:registry.example:5000/team/app
same "registry with a port: and with :latest" r12.tar port.tar:registry.example:5000/team/app:latest
ifails "registry with a port: INPUT:team/app is another name -> exit 1" "no image tagged team/app" \
	port.tar port.tar:team/app
mkimage oci-dir bare <<'EOF'
image one l1.tar tag=v1
image two l1.tar l2.tar tag=latest
EOF
same "OCI ref.name a bare tag: INPUT:v1" r1.tar bare:v1
ifails "OCI ref.name a bare tag: INPUT:app (app:latest) is not the tag latest" \
	"no image tagged app" bare bare:app

# ---- the messages listing the choices: one wording, every tag -----------
# two images, the first under two tags, the second untagged, in each form
mkimage oci-dir two-od <<'EOF'
image one l1.tar l2.tar tag=foo:1.0 tag=foo:latest
image two l1.tar l3.tar
EOF
mkimage oci-archive two-oa.tar <<'EOF'
image one l1.tar l2.tar tag=foo:1.0 tag=foo:latest
image two l1.tar l3.tar
EOF
mkimage docker-old two-do.tar <<'EOF'
image one l1.tar l2.tar tag=foo:1.0 tag=foo:latest
image two l1.tar l3.tar
EOF
mkimage docker25 two-25.tar <<'EOF'
image one l1.tar l2.tar tag=foo:1.0 tag=foo:latest
image two l1.tar l3.tar
EOF
# what each form calls the two images: OCI by manifest, docker save by config
for f in two-od two-oa.tar two-25.tar; do
	eval "one_$(echo $f | tr -c 'a-z0-9\n' _)=$(hex12 "$(dig $f one manifest)")"
	eval "two_$(echo $f | tr -c 'a-z0-9\n' _)=$(hex12 "$(dig $f two manifest)")"
done
one_two_do_tar=$(hex12 "$(dig two-do.tar one config)")
two_two_do_tar=$(hex12 "$(dig two-do.tar two config)")
for f in two-od two-oa.tar two-do.tar two-25.tar; do
	v=$(echo $f | tr -c 'a-z0-9\n' _)
	eval "o=\$one_$v t=\$two_$v"
	ifails "$f: none chosen -> exit 1, 'the input has:' both images, the first with both tags" \
		"2 images; the input has: foo:1\.0 foo:latest \(sha256:$o\), \(sha256:$t\) \(choose one with INPUT:TAG or INPUT@DIGEST\)" \
		$f $f
	cat .ferr >>all.err
	ifails "$f: an unknown tag -> exit 1, the same list" \
		"no image tagged foo:9; the input has: foo:1\.0 foo:latest \(sha256:$o\), \(sha256:$t\)$" \
		$f $f:foo:9
	cat .ferr >>all.err
	same "$f: INPUT:foo:1.0" r12.tar $f:foo:1.0
	same "$f: INPUT:foo (foo:latest, the same image)" r12.tar $f:foo
	same "$f: the untagged image by digest" r13.tar "$f@$(dig $f two "$([ $f = two-do.tar ] && echo config || echo manifest)")"
done
is "the eight messages above each say 'the input has:', none 'the image has' or 'the archive has'" \
	"$(grep -c 'the input has: ' all.err) $(grep -cE 'the (image|archive) has' all.err)" "8 0"

# platforms in the list, and an index's candidates named the same way
mkimage oci-dir plat <<'EOF'
image amd l1.tar l2.tar platform=linux/amd64 tag=multi
image arm l1.tar l3.tar platform=linux/arm64/v8 tag=multi
EOF
ifails "index: a platform none has -> the candidates with tag, digest and platform" \
	"no image for platform linux/s390x; the input has: multi \(sha256:$(hex12 "$(dig plat amd manifest)") linux/amd64\), multi \(sha256:$(hex12 "$(dig plat arm manifest)") linux/arm64/v8\) \(choose one with --platform\)" \
	plat --platform linux/s390x plat
ifails "index: a digest none has -> the images listed" \
	"no manifest with digest .*; the input has: multi \(sha256:[0-9a-f]{12} linux/amd64\)" \
	plat "plat@$(dig plat amd config)"

# many tags: the list ends in "..." where the message has no more room
{
	printf 'image one l1.tar'
	for i in $(seq 1 80); do printf ' tag=a-rather-long-repository-name/number-%d:v%d' $i $i; done
	printf '\nimage two l1.tar l2.tar tag=other\n'
} >many.spec
mkimage docker-old many.tar <many.spec
ifails "80 tags: the list is cut with '...', and the message still ends in what to do" \
	"the input has: a-rather-long-repository-name/number-1:v1 .*\.\.\..*\(choose one with" \
	many.tar many.tar

done_testing
