# tarflat - flatten container image layers into one tar

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man

CFLAGS ?= -O2 -g
WARN = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wwrite-strings -Wformat=2
LDLIBS = -lz
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

OBJ = tarflat.o tar.o hlmap.o

all: tarflat

tarflat: $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

.c.o:
	$(CC) $(WARN) $(CFLAGS) -c $<

tarflat.o: tarflat.c tar.h hlmap.h
tar.o: tar.c tar.h
hlmap.o: hlmap.c hlmap.h

check test: tarflat t/tarlist t/hltest
	@t/run

# The example image of README's first command: go-containerregistry issue 977.
demo: tarflat
	sh t/demo.sh

# Test-only programs: the tar reader on its own, the hash map on its own.
t/tarlist: t/tarlist.c tar.c tar.h
	$(CC) $(WARN) $(CFLAGS) -I. -o $@ t/tarlist.c tar.c $(LDLIBS)

t/hltest: t/hltest.c hlmap.c hlmap.h
	$(CC) $(WARN) $(CFLAGS) -I. -o $@ t/hltest.c hlmap.c

# The whole suite against a sanitizer build, in its own directory so the
# ordinary objects are left alone.
asan:
	rm -rf .asan && mkdir .asan
	$(CC) $(WARN) -O1 -g $(SAN) -o .asan/tarflat tarflat.c tar.c hlmap.c $(LDLIBS)
	TARFLAT=$$PWD/.asan/tarflat t/run

install: tarflat
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	cp tarflat $(DESTDIR)$(BINDIR)/tarflat
	chmod 755 $(DESTDIR)$(BINDIR)/tarflat
	cp tarflat.1 $(DESTDIR)$(MANDIR)/man1/tarflat.1
	chmod 644 $(DESTDIR)$(MANDIR)/man1/tarflat.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tarflat $(DESTDIR)$(MANDIR)/man1/tarflat.1

clean:
	rm -rf tarflat *.o .asan t/trash t/tarlist t/hltest

.PHONY: all check test demo asan install uninstall clean
