# gentcp -- one GNU Makefile.  Variants build side by side:
#   make                  release-ish build in build/
#   make VARIANT=asan     AddressSanitizer + UBSan build in build-asan/
#   make VARIANT=tsan     ThreadSanitizer build in build-tsan/
#   make VARIANT=aarch64  AArch64 cross build in build-aarch64/ (qemu-user)
#   make test             the whole suite (scripts/test.sh)
#   make fuzz             long fuzz runs (FUZZ_SECONDS per target)
#   make bench            benchmarks against plain C and Erlang
#   make install          PREFIX=/usr/local DESTDIR=
VARIANT ?=
PREFIX  ?= /usr/local
DESTDIR ?=

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
else ifeq ($(VARIANT),tsan)
B        := build-tsan
CC       := clang
OPT      := -O1 -fno-omit-frame-pointer
SAN      := -fsanitize=thread
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
CFLAGS   += -std=c17 -g $(OPT) $(WARN) $(SAN) -fPIC -pthread -MMD -MP
LDFLAGS  += $(SAN) -pthread
LDLIBS   += -lpthread

LIB_C    := $(shell find src -name '*.c' | sort)
LIB_S    := $(shell find src -name '*.S' | sort)
LIB_O    := $(LIB_C:%.c=$(B)/%.o) $(LIB_S:%.S=$(B)/%.o)
GTCAT_O  := $(patsubst %.c,$(B)/%.o,$(wildcard tools/gtcat/*.c))
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
TEST_SRC := $(wildcard tests/unit/*_test.c tests/integ/*_test.c)
TESTS    := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))
BENCHES  := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))

.PHONY: all lib tests examples bench-bin test fuzz bench install clean
all: lib $(B)/gtcat examples tests

lib: $(B)/libgentcp.a $(B)/libgentcp.so
examples: $(EXAMPLES)
tests: $(TESTS)
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
	$(CC) -shared -Wl,-soname,libgentcp.so.0 $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/gtcat: $(GTCAT_O) $(B)/libgentcp.a
	$(CC) $(LDFLAGS) -o $@ $(GTCAT_O) $(B)/libgentcp.a $(LDLIBS)

$(B)/examples/%: $(B)/examples/%.o $(B)/libgentcp.a
	$(CC) $(LDFLAGS) -o $@ $< $(B)/libgentcp.a $(LDLIBS)

$(B)/tests/%: $(B)/tests/%.o $(B)/tests/runner.o $(B)/libgentcp.a
	$(CC) $(LDFLAGS) -o $@ $< $(B)/tests/runner.o $(B)/libgentcp.a $(LDLIBS)

# fault_test makes internal allocations fail on demand (see the test).
$(B)/tests/integ/fault_test: LDFLAGS += -Wl,--wrap=gt__timer_add,--wrap=gt__msg_new

$(B)/bench/%: $(B)/bench/%.o $(B)/libgentcp.a
	$(CC) $(LDFLAGS) -o $@ $< $(B)/libgentcp.a $(LDLIBS) -lm

test:
	bash scripts/test.sh

fuzz:
	bash scripts/fuzz.sh $${FUZZ_SECONDS:-1800}

bench:
	bash bench/run.sh

install: lib $(B)/gtcat
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/gentcp.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(B)/libgentcp.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libgentcp.so $(DESTDIR)$(PREFIX)/lib/libgentcp.so.0
	ln -sf libgentcp.so.0 $(DESTDIR)$(PREFIX)/lib/libgentcp.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|0.1.0|g' gentcp.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gentcp.pc
	install -m 755 $(B)/gtcat $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-asan build-tsan build-aarch64 build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
