# tarflat - flatten container image layers into one tar

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man

CFLAGS ?= -O2 -g
WARN = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wwrite-strings -Wformat=2
LDLIBS = -lz -pthread
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# In pipeline order: the command line; the index (input, layer, over tar,
# gz, filter, image); the resolve (tree, over hlmap); the emit (emit, ahead)
# and its outputs (tar's writer, list); what they share.
LIB = input.o layer.o tar.o gz.o filter.o image.o json.o sha2.o tree.o hlmap.o \
	changeset.o emit.o select.o rewrite.o ahead.o list.o newc.o imgout.o imgmeta.o blobw.o \
	pgz.o jsonw.o path.o mem.o
OBJ = tarflat.o $(LIB)

all: tarflat fuzz-stubs

tarflat: $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

.c.o:
	$(CC) $(WARN) $(CFLAGS) -c $<

tarflat.o: tarflat.c changeset.h imgout.h blobw.h pgz.h emit.h input.h layer.h list.h newc.h output.h path.h rewrite.h \
	select.h tree.h tar.h image.h sha2.h mem.h
input.o: input.c input.h layer.h image.h sha2.h tar.h mem.h
layer.o: layer.c io.h layer.h filter.h hlmap.h image.h sha2.h mem.h path.h tar.h
tree.o: tree.c tree.h layer.h hlmap.h mem.h path.h tar.h image.h sha2.h
emit.o: emit.c emit.h ahead.h layer.h mem.h output.h path.h rewrite.h select.h tar.h \
	tree.h image.h sha2.h
list.o: list.c list.h mem.h output.h tar.h
newc.o: newc.c newc.h output.h tar.h
imgout.o: imgout.c io.h imgout.h blobw.h filter.h imgmeta.h json.h layer.h mem.h output.h pgz.h tar.h \
	image.h sha2.h
imgmeta.o: imgmeta.c imgmeta.h json.h jsonw.h mem.h pgz.h sha2.h
blobw.o: blobw.c blobw.h filter.h mem.h pgz.h sha2.h
jsonw.o: jsonw.c jsonw.h json.h mem.h
changeset.o: changeset.c changeset.h tree.h layer.h mem.h path.h tar.h image.h sha2.h
select.o: select.c select.h tree.h layer.h mem.h path.h tar.h image.h sha2.h
rewrite.o: rewrite.c rewrite.h mem.h tar.h
path.o: path.c path.h
mem.o: mem.c mem.h
tar.o: tar.c tar.h gz.h hlmap.h output.h
gz.o: gz.c gz.h
hlmap.o: hlmap.c hlmap.h
image.o: image.c image.h json.h sha2.h
json.o: json.c json.h
sha2.o: sha2.c sha2.h
filter.o: filter.c filter.h
ahead.o: ahead.c ahead.h tar.h
pgz.o: pgz.c pgz.h sha2.h

check test: tarflat t/tarlist t/hltest t/shatest t/jsontest t/gztest t/pgztest
	@t/run

# The example image of README's first command: go-containerregistry issue 977.
demo: tarflat
	sh t/demo.sh

# Test-only programs: the tar reader on its own, the hash map on its own.
t/tarlist: t/tarlist.c tar.c tar.h gz.c gz.h hlmap.c hlmap.h output.h
	$(CC) $(WARN) $(CFLAGS) -I. -o $@ t/tarlist.c tar.c gz.c hlmap.c $(LDLIBS)

t/hltest: t/hltest.c hlmap.c hlmap.h
	$(CC) $(WARN) $(CFLAGS) -I. -o $@ t/hltest.c hlmap.c

t/shatest: t/shatest.c sha2.c sha2.h
	$(CC) $(WARN) $(CFLAGS) -I. -o $@ t/shatest.c sha2.c

t/jsontest: t/jsontest.c json.c json.h
	$(CC) $(WARN) $(CFLAGS) -I. -o $@ t/jsontest.c json.c

# Tar cursors from several threads at once (t0427).
GZTEST_SRC = t/gztest.c tar.c gz.c hlmap.c sha2.c
t/gztest: $(GZTEST_SRC) tar.h gz.h hlmap.h sha2.h
	$(CC) $(WARN) $(CFLAGS) -I. -o $@ $(GZTEST_SRC) $(LDLIBS)

# The parallel gzip writer on its own (t0250).
PGZTEST_SRC = t/pgztest.c pgz.c sha2.c
t/pgztest: $(PGZTEST_SRC) pgz.h sha2.h
	$(CC) $(WARN) $(CFLAGS) -I. -o $@ $(PGZTEST_SRC) $(LDLIBS)

# The whole suite against a sanitizer build, in its own directory so the
# ordinary objects are left alone.
SRC = $(OBJ:.o=.c)
asan: t/hltest
	rm -rf .asan && mkdir .asan
	$(CC) $(WARN) -O1 -g $(SAN) -o .asan/tarflat $(SRC) $(LDLIBS)
	$(CC) $(WARN) -O1 -g $(SAN) -I. -o .asan/shatest t/shatest.c sha2.c
	$(CC) $(WARN) -O1 -g $(SAN) -I. -o .asan/jsontest t/jsontest.c json.c
	$(CC) $(WARN) -O1 -g $(SAN) -I. -o .asan/gztest $(GZTEST_SRC) $(LDLIBS)
	$(CC) $(WARN) -O1 -g $(SAN) -I. -o .asan/pgztest $(PGZTEST_SRC) $(LDLIBS)
	TARFLAT_SANITIZED=asan TARFLAT=$$PWD/.asan/tarflat SHATEST=$$PWD/.asan/shatest \
		JSONTEST=$$PWD/.asan/jsontest GZTEST=$$PWD/.asan/gztest \
		PGZTEST=$$PWD/.asan/pgztest t/run

# t0427's concurrent cursors, the emit's workers (ahead.c) in the tests
# that run them hardest, and the gzip writer's workers (t0250), under
# ThreadSanitizer.
tsan:
	rm -rf .tsan && mkdir .tsan
	$(CC) $(WARN) -O1 -g -fsanitize=thread -I. -o .tsan/gztest $(GZTEST_SRC) $(LDLIBS)
	$(CC) $(WARN) -O1 -g -fsanitize=thread -I. -o .tsan/pgztest $(PGZTEST_SRC) $(LDLIBS)
	$(CC) $(WARN) -O1 -g -fsanitize=thread -o .tsan/tarflat $(SRC) $(LDLIBS)
	TARFLAT_SANITIZED=tsan GZTEST=$$PWD/.tsan/gztest TARFLAT=$$PWD/.tsan/tarflat \
		PGZTEST=$$PWD/.tsan/pgztest t/run t0250-pgz.sh t0426-gzip-backwards.sh \
		t0427-gzip-cursors.sh t0428-ahead-plan.sh

# The reader tests again with tarflat under valgrind (slow: CI runs it once).
VALGRIND_TESTS = t0420-layers.sh t0425-writers.sh t0435-estargz.sh t0440-types.sh \
	t0490-errors.sh t0700-corpus.sh t0900-caps.sh t0925-bombs.sh
valgrind: tarflat
	TARFLAT=$$PWD/t/valgrind-tarflat TARFLAT_SLOW=1 t/run $(VALGRIND_TESTS)

install: tarflat
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	cp tarflat $(DESTDIR)$(BINDIR)/tarflat
	chmod 755 $(DESTDIR)$(BINDIR)/tarflat
	cp tarflat.1 $(DESTDIR)$(MANDIR)/man1/tarflat.1
	chmod 644 $(DESTDIR)$(MANDIR)/man1/tarflat.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tarflat $(DESTDIR)$(MANDIR)/man1/tarflat.1

clean:
	rm -rf tarflat *.o .asan .tsan t/trash t/tarlist t/hltest t/shatest t/jsontest t/gztest t/pgztest

# The program's files but the command line, for t0800's fuzz builds.
print-lib:
	@echo $(LIB:.o=.c)

.PHONY: all check test demo asan tsan valgrind install uninstall clean print-lib

# ---- fuzzing (t/fuzz/; kept by the fuzzing engineer) --------------------
# Every build links each libFuzzer target with a plain main() (driver.c) so
# the targets cannot rot; `make fuzz` builds the real libFuzzer binaries
# into t/fuzz/bin/ when clang is there. t/fuzz/ci.sh runs them; t/t0800
# runs the regression inputs.
FUZZ_TARGETS = fuzz_header fuzz_gzip fuzz_flatten fuzz_image fuzz_json
FUZZ_STUBS = $(FUZZ_TARGETS:%=t/fuzz/stub/%)
FUZZ_BINS = $(FUZZ_TARGETS:%=t/fuzz/bin/%)
FUZZ_CC = clang
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
# The sources each target is built from, besides t/fuzz/NAME.c.
FUZZ_SRC_fuzz_header = tar.c gz.c hlmap.c
FUZZ_SRC_fuzz_gzip = tar.c gz.c hlmap.c
FUZZ_SRC_fuzz_flatten = $(LIB:.o=.c)
FUZZ_SRC_fuzz_image = image.c json.c sha2.c
FUZZ_SRC_fuzz_json = json.c
FUZZ_DEPS = t/fuzz/fuzz.h tarflat.c $(LIB:.o=.c) $(wildcard *.h)

fuzz-stubs: $(FUZZ_STUBS)

$(FUZZ_STUBS): t/fuzz/stub/%: t/fuzz/%.c t/fuzz/driver.c $(FUZZ_DEPS)
	@mkdir -p t/fuzz/stub
	$(CC) $(WARN) $(CFLAGS) -I. -DTARFLAT_NO_MAIN -o $@ t/fuzz/$*.c \
		t/fuzz/driver.c $(FUZZ_SRC_$*) $(LDLIBS)

fuzz:
	@if command -v $(FUZZ_CC) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory fuzz-bins; \
	else \
		echo "make fuzz: $(FUZZ_CC) not found; building the stub-driver targets only"; \
		$(MAKE) --no-print-directory fuzz-stubs; \
	fi

fuzz-bins: $(FUZZ_BINS)

$(FUZZ_BINS): t/fuzz/bin/%: t/fuzz/%.c $(FUZZ_DEPS)
	@mkdir -p t/fuzz/bin
	$(FUZZ_CC) $(WARN) $(FUZZ_CFLAGS) -I. -DTARFLAT_NO_MAIN -o $@ t/fuzz/$*.c \
		$(FUZZ_SRC_$*) $(LDLIBS)

fuzz-clean:
	rm -rf t/fuzz/stub t/fuzz/bin

clean: fuzz-clean

.PHONY: fuzz fuzz-stubs fuzz-bins fuzz-clean
# ---- end of fuzzing -------------------------------------------------------
