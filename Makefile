# tarflat - flatten container image layers into one tar
.POSIX:

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
CC ?= cc
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

check test: tarflat
	@t/run

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
	rm -rf tarflat *.o .asan t/trash

.PHONY: all check test asan install uninstall clean
