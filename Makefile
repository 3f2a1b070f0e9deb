# hato: a plain Makefile. Every library is found with pkg-config; libcsv ships
# no .pc file on Debian, so it falls back to -lcsv.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
VERSION := 0.1.0

PKGS    := ncursesw sqlcipher libcurl libsodium opendkim libcmark libssl libcrypto libidn2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CSV_LIBS   := $(shell pkg-config --libs libcsv 2>/dev/null || echo -lcsv)
LIBS       := $(PKG_LIBS) $(CSV_LIBS) -lunistring -lresolv -lm -pthread

WARN    := -std=c17 -Wall -Wextra -Wshadow -Wmissing-prototypes -Werror
DEFS    := -D_GNU_SOURCE -DHATO_VERSION='"$(VERSION)"' -DSQLITE_HAS_CODEC
INCS    := -I. $(PKG_CFLAGS)
CFLAGS  ?= -O2 -g
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

MODULES := store templates send tui
SRC     := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
LIBSRC  := $(filter-out tui/main.c,$(SRC))
TESTSRC := $(wildcard tests/*/test_*.c)
FUZZSRC := $(wildcard tests/fuzz/fuzz_*.c)
BENCHSRC := $(wildcard tests/bench/bench_*.c)

REL := build/release
TST := build/test

REL_OBJ  := $(SRC:%.c=$(REL)/%.o)
TST_OBJ  := $(SRC:%.c=$(TST)/%.o)
TST_LIBOBJ := $(LIBSRC:%.c=$(TST)/%.o)
REL_LIBOBJ := $(LIBSRC:%.c=$(REL)/%.o)
TEST_BINS := $(TESTSRC:tests/%.c=$(TST)/tests/%)
BENCH_BINS := $(BENCHSRC:tests/%.c=$(REL)/tests/%)

.PHONY: all test run bench fuzz install clean deps format unit
.SECONDARY:
all: hato

hato: $(REL)/hato
	cp $< $@

$(REL)/hato: $(REL_OBJ)
	@echo "LD $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(REL)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(WARN) $(DEFS) $(INCS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(TST)/hato: $(TST_OBJ)
	@echo "LD (sanitizers) $@"
	@$(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

$(TST)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC (sanitizers) $<"
	@$(CC) $(WARN) $(DEFS) $(INCS) $(SANFLAGS) -MMD -MP -c -o $@ $<

$(TST)/tests/%: tests/%.c $(TST_LIBOBJ)
	@mkdir -p $(dir $@)
	@echo "LD (sanitizers) $@"
	@$(CC) $(WARN) $(DEFS) $(INCS) -Itests $(SANFLAGS) -Wno-missing-prototypes -MMD -MP -o $@ $< $(TST_LIBOBJ) $(LIBS) -lcmocka

$(REL)/tests/%: tests/%.c $(REL_LIBOBJ)
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(WARN) $(DEFS) $(INCS) -Itests $(CFLAGS) -Wno-missing-prototypes -MMD -MP -o $@ $< $(REL_LIBOBJ) $(LIBS)

deps:
	@bash tests/deps.sh

# The README's test command: install what is missing, build with sanitizers,
# start the services the tests need and run every test. The benchmarks are
# built too, so that a change to an interface can't leave them broken.
test: deps
	$(MAKE) --no-print-directory $(TST)/hato $(TEST_BINS) hato $(BENCH_BINS)
	bash tests/run.sh

unit: $(TEST_BINS)

run: deps
	$(MAKE) --no-print-directory hato
	bash tui/demo.sh

bench: deps
	$(MAKE) --no-print-directory hato $(BENCH_BINS)
	bash tests/bench/run.sh

FUZZ_BINS := $(FUZZSRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_LIBOBJ := $(LIBSRC:%.c=build/fuzz/obj/%.o)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(WARN) $(DEFS) $(INCS) -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -MMD -MP -c -o $@ $<
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIBOBJ)
	@mkdir -p $(dir $@)
	clang $(WARN) $(DEFS) $(INCS) -Wno-missing-prototypes -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -MMD -MP -o $@ $< $(FUZZ_LIBOBJ) $(LIBS)

fuzz: deps
	$(MAKE) --no-print-directory $(FUZZ_BINS)
	bash tests/fuzz/run.sh $(FUZZ_BINS)

install: hato
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 hato $(DESTDIR)$(PREFIX)/bin/hato
	install -m 0644 docs/hato.1 $(DESTDIR)$(PREFIX)/share/man/man1/hato.1

format:
	clang-format -i $(SRC) $(wildcard */*.h) $(TESTSRC)

clean:
	rm -rf build hato

-include $(shell find build -name '*.d' 2>/dev/null)
