# bounced - bounce processing for mailing lists.
#
#   make            build libbounce and ./bounced/bounced
#   make check      install what is missing, build, run every test
#   make demo       install what is missing, build, run the main job
#   make eval       accuracy on ../shared/corpus (skipped without ../shared)
#   make bench      speed against GMime-only and Sisimai baselines
#   make bench-classify  ns per classification, ms per context
#   make bench-store  batch ingest into PostgreSQL against parse --json
#   make SAN=1 ...  the same with AddressSanitizer and UBSan
#   make memcheck   valgrind over the parse of every fixture
#   make fuzz       mutated fixtures through the ASan/UBSan build
#   make lint       exported symbols, banned functions, formatting
#
# Sources are found by wildcard: a new libbounce/*.c, bounced/*.c or
# tests/*/check_*.c is built without touching this file.

CC ?= cc
PKG_CONFIG ?= pkg-config
SHARED ?= ../shared

ifeq ($(SAN),1)
VARIANT := san
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
# the fortify checks and ASan overlap; ASan wants them off
FORTIFY :=
else
VARIANT := release
OPT := -O2 -g
FORTIFY := -D_FORTIFY_SOURCE=2
endif

B := build/$(VARIANT)

# V=1 shows the compiler command lines
ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -fno-common \
	-fstack-protector-strong
LIB_PKGS := gmime-3.0
BIN_PKGS := gmime-3.0 json-c libcurl libpq libcrypto

# pkg-config is asked lazily so `make deps` works before the -dev
# packages are there
LIB_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(LIB_PKGS) 2>/dev/null)
BIN_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(BIN_PKGS) 2>/dev/null)
BIN_LIBS = $(shell $(PKG_CONFIG) --libs $(BIN_PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(FORTIFY) \
	-Ilibbounce
CFLAGS += $(WARN) $(OPT)
# --as-needed: link only the libraries used; every library costs page
# faults at each start, and `bounced ingest` starts once per message
LDFLAGS += -Wl,--as-needed -Wl,-O1 $(filter -fsanitize=%,$(OPT))

LIB_SRC := $(sort $(wildcard libbounce/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/rules_builtin.o
RULE_FILES := $(sort $(wildcard libbounce/rules/*.rules))
BIN_SRC := $(sort $(wildcard bounced/*.c))
BIN_OBJ := $(BIN_SRC:%.c=$(B)/%.o) $(B)/gen/schema_builtin.o
SCHEMA_FILES := $(sort $(wildcard schema/*.sql))
BIN_LIB_OBJ := $(filter-out $(B)/bounced/main.o,$(BIN_OBJ))
LIB_TESTS := $(patsubst tests/libbounce/%.c,$(B)/tests/%,\
	$(sort $(wildcard tests/libbounce/check_*.c)))
BIN_TESTS := $(patsubst tests/bounced/%.c,$(B)/tests/%,\
	$(sort $(wildcard tests/bounced/check_*.c)))
LIB_HDR := $(wildcard libbounce/*.h)
BIN_HDR := $(wildcard bounced/*.h)
TEST_HDR := $(wildcard tests/support/*.h)
TEST_SUPPORT := $(patsubst %.c,$(B)/%.o,$(wildcard tests/support/*.c))

# objects are kept between runs
.SECONDARY:

.PHONY: all deps check test demo eval bench bench-classify bench-store \
	memcheck fuzz lint \
	clean FORCE

all: bounced/bounced $(B)/libbounce.so

# libbounce: static for the program and the tests, shared to prove the
# exported surface is only bounce_* (see `make lint`)
$(B)/libbounce.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/libbounce.so: $(LIB_SRC) $(B)/gen/rules_builtin.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -shared \
		$(LIB_CFLAGS) -o $@ $(LIB_SRC) $(B)/gen/rules_builtin.c \
		$(LDFLAGS) $(shell $(PKG_CONFIG) --libs $(LIB_PKGS) 2>/dev/null)

$(B)/libbounce/%.o: libbounce/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -fvisibility=hidden $(LIB_CFLAGS) -c -o $@ $<

# the built-in rules are rules files, the format operators use, compiled
# in as one string
$(B)/gen/rules_builtin.c: $(RULE_FILES) scripts/embed-rules.sh
	@mkdir -p $(@D)
	$(Q)sh scripts/embed-rules.sh $(RULE_FILES) > $@.tmp && mv $@.tmp $@

$(B)/gen/rules_builtin.o: $(B)/gen/rules_builtin.c
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -fvisibility=hidden -c -o $@ $<

# the schema migrations travel inside the binary (bounced/migrate.h)
$(B)/gen/schema_builtin.c: $(SCHEMA_FILES) scripts/embed-schema.sh
	@mkdir -p $(@D)
	$(Q)sh scripts/embed-schema.sh $(SCHEMA_FILES) > $@.tmp && mv $@.tmp $@

$(B)/gen/schema_builtin.o: $(B)/gen/schema_builtin.c bounced/migrate.h
	$(Q)$(CC) $(CPPFLAGS) -Ibounced $(CFLAGS) -c -o $@ $<

$(B)/bounced/%.o: bounced/%.c $(BIN_HDR) libbounce/bounce.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Ibounced $(CFLAGS) $(BIN_CFLAGS) -c -o $@ $<

$(B)/bounced/bounced: $(BIN_OBJ) $(B)/libbounce.a
	$(Q)$(CC) $(CFLAGS) -o $@ $(BIN_OBJ) $(B)/libbounce.a $(LDFLAGS) $(BIN_LIBS)

# ./bounced/bounced is the variant last built
bounced/bounced: $(B)/bounced/bounced FORCE
	@cmp -s $< $@ || { cp $< $@.tmp && mv -f $@.tmp $@; }

# tests: one Check program per module
$(B)/tests/support/%.o: tests/support/%.c $(TEST_HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Ibounced -Itests/support $(CFLAGS) $(BIN_CFLAGS) \
		$(CHECK_CFLAGS) -c -o $@ $<

$(B)/tests/check_%: tests/libbounce/check_%.c $(B)/libbounce.a $(TEST_SUPPORT) $(TEST_HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Itests/support $(CFLAGS) $(BIN_CFLAGS) \
		$(CHECK_CFLAGS) -o $@ $< $(TEST_SUPPORT) $(B)/libbounce.a \
		$(LDFLAGS) $(BIN_LIBS) $(CHECK_LIBS)

$(B)/tests/check_%: tests/bounced/check_%.c $(BIN_LIB_OBJ) $(B)/libbounce.a $(TEST_SUPPORT) $(TEST_HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Ibounced -Itests/support $(CFLAGS) $(BIN_CFLAGS) \
		$(CHECK_CFLAGS) -o $@ $< $(TEST_SUPPORT) $(BIN_LIB_OBJ) \
		$(B)/libbounce.a $(LDFLAGS) $(BIN_LIBS) $(CHECK_LIBS)

deps:
	@sh scripts/deps.sh

test: all $(LIB_TESTS) $(BIN_TESTS)
	@sh tests/run.sh $(B)/tests $(SHARED)

check: deps
	@$(MAKE) --no-print-directory test

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

eval: all
	@sh scripts/eval.sh $(SHARED)

bench:
	@BOUNCED_DEPS_BENCH=1 sh scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory $(B)/bench/gmime_baseline
	@sh bench/run.sh $(B) $(SHARED)

# the classifier's speed: ns per classification, ms per context
$(B)/bench/classify_bench: bench/classify_bench.c $(B)/libbounce.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(BIN_CFLAGS) -o $@ $< \
		$(B)/libbounce.a $(LDFLAGS) $(BIN_LIBS)

bench-classify: $(B)/bench/classify_bench
	@$(B)/bench/classify_bench tests/fixtures/classify/cases.jsonl

# ingest (parse + store, private cluster) against parse --json, same files
bench-store: all $(B)/bench/store_bench
	@SHARED=$(SHARED) sh bench/store.sh

# the store benchmark needs the bounced objects and a database
$(B)/bench/store_bench: bench/store_bench.c $(BIN_LIB_OBJ) $(B)/libbounce.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Ibounced $(CFLAGS) $(BIN_CFLAGS) -o $@ $< \
		$(BIN_LIB_OBJ) $(B)/libbounce.a $(LDFLAGS) $(BIN_LIBS)

$(B)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LIB_CFLAGS) -o $@ $< $(LDFLAGS) \
		$(shell $(PKG_CONFIG) --libs $(LIB_PKGS) 2>/dev/null)

memcheck: all
	@sh tests/memcheck.sh

# mutation fuzzing under ASan/UBSan: make fuzz [ROUNDS=5] [FUZZ_SEEDS=DIR]
fuzz:
	@$(MAKE) --no-print-directory SAN=1 build/san/bounced/bounced
	@sh tests/fuzz/run.sh $(or $(ROUNDS),5)

lint: $(B)/libbounce.so
	@sh scripts/lint.sh $(B)/libbounce.so

clean:
	rm -rf build bounced/bounced

