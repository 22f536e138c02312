# gentcp -- one GNU Makefile.  Variants build side by side:
#   make                  release-ish build in build/
#   make VARIANT=asan     AddressSanitizer + UBSan build in build-asan/
#   make VARIANT=tsan     ThreadSanitizer build in build-tsan/
#                         (both check the lock order: -DGT_LOCK_DEBUG, src/util/lock.h)
#   make VARIANT=aarch64  AArch64 cross build in build-aarch64/ (qemu-user)
#   make test             the whole suite (scripts/test.sh)
#   make fuzz             long fuzz runs (FUZZ_SECONDS per target)
#   make bench            benchmarks: bench/run.sh, then every peer (bench/peers.sh)
#                         and docs/PERFORMANCE.md (bench/report.sh); QUICK=1 = smoke
#   make bench-peers      the peers only; bench-report: the page only;
#   make bench-deps       installs the peers' toolchains (bench/deps.sh, root)
#   make install          PREFIX=/usr/local DESTDIR= (also LIBDIR, INCLUDEDIR,
#                         BINDIR, MANDIR, DOCDIR); make uninstall undoes it
VARIANT ?=
PREFIX  ?= /usr/local
DESTDIR ?=
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/gentcp

# The version is written once, in include/gentcp.h.
version_part = $(shell sed -n 's/^\#define GT_VERSION_$(1) \([0-9][0-9]*\)$$/\1/p' include/gentcp.h)
MAJOR   := $(call version_part,MAJOR)
MINOR   := $(call version_part,MINOR)
VERSION := $(MAJOR).$(MINOR).$(call version_part,PATCH)
# The ABI version names the SONAME: the major number, but major.minor while
# the major is 0 (every 0.x minor bump breaks the ABI, as CHANGELOG.md says),
# so that the loader refuses a program built against another 0.x.
ABI     := $(if $(filter 0,$(MAJOR)),$(MAJOR).$(MINOR),$(MAJOR))
SONAME  := libgentcp.so.$(ABI)

ifeq ($(VARIANT),)
B        := build
CC       ?= cc
OPT      := -O2
SAN      :=
else ifeq ($(VARIANT),asan)
B        := build-asan
CC       := clang
OPT      := -O1 -fno-omit-frame-pointer
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined
CPPFLAGS += -DGT_LOCK_DEBUG
else ifeq ($(VARIANT),tsan)
B        := build-tsan
CC       := clang
OPT      := -O1 -fno-omit-frame-pointer
SAN      := -fsanitize=thread
CPPFLAGS += -DGT_LOCK_DEBUG
else ifeq ($(VARIANT),aarch64)
# cross build, run under qemu-user by tests/cross/aarch64.sh
B        := build-aarch64
CC       := aarch64-linux-gnu-gcc
OPT      := -O2
SAN      :=
LDFLAGS  += -static
else
$(error unknown VARIANT $(VARIANT))
endif

WARN     := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
CPPFLAGS += -D_GNU_SOURCE -Iinclude -Isrc
# Hidden by default: only what gentcp.h declares is exported from the .so.
CFLAGS   += -std=c17 -g $(OPT) $(WARN) $(SAN) -fPIC -fvisibility=hidden -pthread -MMD -MP
LDFLAGS  += $(SAN) -pthread
LDLIBS   += -lpthread

# TLS (src/tls/) links OpenSSL 3; TLS=0 (the AArch64 cross build, which has
# no arm64 libssl) builds src/tls/none.c instead: every gt_tls_* call
# answers -EPROTONOSUPPORT.
TLS ?= 1
ifeq ($(VARIANT),aarch64)
TLS := 0
endif
ifeq ($(TLS),1)
LIB_C    := $(filter-out src/tls/none.c,$(shell find src -name '*.c' | sort))
LDLIBS   += -lssl -lcrypto
else
LIB_C    := $(filter-out src/tls/%,$(shell find src -name '*.c' | sort)) src/tls/none.c
endif
LIB_S    := $(shell find src -name '*.S' | sort)
LIB_O    := $(LIB_C:%.c=$(B)/%.o) $(LIB_S:%.S=$(B)/%.o)
GTCAT_O  := $(patsubst %.c,$(B)/%.o,$(wildcard tools/gtcat/*.c))
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
TEST_SRC := $(wildcard tests/unit/*_test.c tests/integ/*_test.c)
TESTS    := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))
BENCHES  := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
# the gentcp side of tests/interop/diff.sh: its own main, no test runner
DIFF_GT  := $(B)/tests/interop/diff_gt

.PHONY: all lib tests examples bench-bin test fuzz bench bench-peers bench-report bench-deps \
        install uninstall clean
# Objects are kept (make would delete them as intermediates of the implicit
# chain .c -> .o -> program, and rebuild them all on the next run).
.SECONDARY:

all: lib $(B)/gtcat examples tests

lib: $(B)/libgentcp.a $(B)/libgentcp.so
examples: $(EXAMPLES)
tests: $(TESTS) $(DIFF_GT)
bench-bin: $(BENCHES)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libgentcp.a: $(LIB_O)
	@rm -f $@
	ar rcs $@ $^

$(B)/libgentcp.so: $(LIB_O)
	$(CC) -shared -Wl,-soname,$(SONAME) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/gtcat: $(GTCAT_O) $(B)/libgentcp.a
	$(CC) $(LDFLAGS) -o $@ $(GTCAT_O) $(B)/libgentcp.a $(LDLIBS)

$(B)/examples/%: $(B)/examples/%.o $(B)/libgentcp.a
	$(CC) $(LDFLAGS) -o $@ $< $(B)/libgentcp.a $(LDLIBS)

$(B)/tests/%: $(B)/tests/%.o $(B)/tests/runner.o $(B)/libgentcp.a
	$(CC) $(LDFLAGS) -o $@ $< $(B)/tests/runner.o $(B)/libgentcp.a $(LDLIBS)

$(DIFF_GT): $(B)/tests/interop/diff_gt.o $(B)/libgentcp.a
	$(CC) $(LDFLAGS) -o $@ $< $(B)/libgentcp.a $(LDLIBS)

# fault_test makes internal allocations fail on demand (see the test).
$(B)/tests/integ/fault_test: LDFLAGS += -Wl,--wrap=gt__timer_add,--wrap=gt__msg_new

$(B)/bench/%: $(B)/bench/%.o $(B)/libgentcp.a
	$(CC) $(LDFLAGS) -o $@ $< $(B)/libgentcp.a $(LDLIBS) -lm

test:
	bash scripts/test.sh

fuzz:
	bash scripts/fuzz.sh $${FUZZ_SECONDS:-1800}

# A peer whose toolchain is missing shows n/a with the reason; the rest runs.
bench:
	bash bench/run.sh; rc=$$?; bash bench/peers.sh && bash bench/report.sh && exit $$rc

bench-peers:
	bash bench/peers.sh && bash bench/report.sh

bench-report:
	bash bench/report.sh

bench-deps:
	bash bench/deps.sh

# Installed files, relative to DESTDIR; uninstall removes exactly these.
EXAMPLE_SRC := $(wildcard examples/*.c)
INSTALLED := $(INCLUDEDIR)/gentcp.h $(LIBDIR)/libgentcp.a \
	$(LIBDIR)/libgentcp.so.$(VERSION) $(LIBDIR)/$(SONAME) $(LIBDIR)/libgentcp.so \
	$(LIBDIR)/pkgconfig/gentcp.pc $(LIBDIR)/cmake/gentcp/gentcpConfig.cmake \
	$(LIBDIR)/cmake/gentcp/gentcpConfigVersion.cmake $(BINDIR)/gtcat \
	$(MANDIR)/man3/gentcp.3 $(MANDIR)/man1/gtcat.1 \
	$(EXAMPLE_SRC:examples/%=$(DOCDIR)/examples/%)

# The CMake package finds the headers relative to itself, so that a copy
# installed under DESTDIR (or moved) still works.
CMAKE_INC_REL = $(shell realpath -m --relative-to=$(LIBDIR)/cmake/gentcp $(INCLUDEDIR))
subst_vars = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@INCLUDEDIR_REL@|$(CMAKE_INC_REL)|g' \
	-e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' -e 's|@ABI@|$(ABI)|g' -e 's|@SONAME@|$(SONAME)|g' \
	-e 's|@SIZEOF_VOID_P@|$(SIZEOF_VOID_P)|g'
SIZEOF_VOID_P = $(shell echo | $(CC) -dM -E - | sed -n 's/^\#define __SIZEOF_POINTER__ //p')

install: lib $(B)/gtcat
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(LIBDIR)/cmake/gentcp $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(DOCDIR)/examples
	install -m 644 include/gentcp.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(B)/libgentcp.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libgentcp.so $(DESTDIR)$(LIBDIR)/libgentcp.so.$(VERSION)
	ln -sf libgentcp.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libgentcp.so
	$(subst_vars) gentcp.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/gentcp.pc
	$(subst_vars) cmake/gentcpConfig.cmake.in > $(DESTDIR)$(LIBDIR)/cmake/gentcp/gentcpConfig.cmake
	$(subst_vars) cmake/gentcpConfigVersion.cmake.in > \
		$(DESTDIR)$(LIBDIR)/cmake/gentcp/gentcpConfigVersion.cmake
	install -m 755 $(B)/gtcat $(DESTDIR)$(BINDIR)/
	install -m 644 man/gentcp.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 man/gtcat.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(EXAMPLE_SRC) $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(DESTDIR)$(LIBDIR)/cmake/gentcp $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true

clean:
	rm -rf build build-asan build-tsan build-aarch64 build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
