# tests/fuzz/fuzz.mk - fuzzing and sanitizer builds, included at the end of
# the main Makefile.  docs/RELIABILITY.md says what each target proves and
# what the last long runs found.
#
#   make fuzz [FUZZ_SECONDS=N]   build every libFuzzer target with clang and
#                                ASan+UBSan, run each for N seconds (10)
#                                on a scratch copy of its seed corpus;
#                                stops at the first crash, leak, timeout or
#                                sanitizer report (make -k fuzz runs them
#                                all).  make -j2 fuzz runs two at a time.
#   make fuzz-run-NAME           one target (NAME: see FUZZ_NAMES)
#   make fuzz-build              build the targets only
#   make test-sanitize           the whole test suite and the programs with
#                                gcc ASan+UBSan, in build/asan
#   make test-tsan               the programs with ThreadSanitizer, in
#                                build/tsan, under the integration tests
#   make fuzz BUILD=build/known FUZZ_KNOWN=1
#                                the same targets, stepping around the open
#                                findings (see FUZZ_KNOWN below)
#
# Library objects are compiled again for each build in their own
# directory (build/fuzz/obj, build/asan, build/tsan), so the normal build
# is never mixed with instrumented objects.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 10
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   = -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN)

FUZZ_NAMES    = csv row id query rules snap_raw snap_struct overlay resp conn http proxy idsbody
# The journal and feedback log readers, where they exist.
ifneq ($(wildcard engine/journal.c),)
FUZZ_NAMES   += journal
endif
ifneq ($(wildcard engine/feedback.c),)
FUZZ_NAMES   += feedback
endif

# Longest input per target: enough for the structure each one parses.
FUZZ_MAXLEN_csv         = 65536
FUZZ_MAXLEN_row         = 4096
FUZZ_MAXLEN_id          = 256
FUZZ_MAXLEN_query       = 1024
FUZZ_MAXLEN_rules       = 4096
FUZZ_MAXLEN_snap_raw    = 65536
FUZZ_MAXLEN_snap_struct = 2048
FUZZ_MAXLEN_overlay     = 8192
FUZZ_MAXLEN_resp        = 65536
FUZZ_MAXLEN_conn        = 65536
FUZZ_MAXLEN_http        = 16384
FUZZ_MAXLEN_proxy       = 8192
FUZZ_MAXLEN_idsbody     = 4096
FUZZ_MAXLEN_journal     = 65536
FUZZ_MAXLEN_feedback    = 65536

FUZZ_BINS    = $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES))
FUZZ_LIB_OBJ = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(ENGINE_SRC) $(LOADER_SRC) $(SERVER_SRC) $(CLIENT_SRC))
FUZZ_LIB     = $(FUZZ_DIR)/libsxgate-fuzz.a
FUZZ_LDLIBS  = $(LDLIBS_ENGINE) -luring -lcrypt -lssl -lcrypto -ljansson $(SYSTEMD_LIBS) -lpthread

# clang and its libFuzzer runtime, installed like the rest (make deps)
# when missing; order-only, so it runs once and never forces a rebuild.
fuzz-deps:
	$(Q)$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) clang libclang-rt-14-dev"

# Instrumented for coverage (fuzzer-no-link) as well as for the sanitizers.
$(FUZZ_DIR)/obj/%.o: %.c | fuzz-deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN) -c -o $@ $<

# Known findings (docs/RELIABILITY.md) stop a target at the same place on
# every run.  Until they are fixed, FUZZ_KNOWN=1 (with a BUILD of its own,
# e.g. BUILD=build/known, as it compiles differently) steps around them so
# the fuzzer can look further: F1, sx_snapw_write passes NULL to qsort
# (every sx_build, so every target that builds a snapshot at startup);
# F2, report.c's sb_printf computes NULL + 0 (every INFO); F3, the
# snapshot header's max_query_records has no upper bound (fuzz_snap_struct
# then leaves that field as written); F4, the overlay's freeze() passes
# NULL to qsort (most updates); F5, posting lists that are not ascending
# pass the structure check (fuzz_snap_struct skips such files); F6, a
# RELOAD path with CR/LF breaks the RESP reply (fuzz_conn lets it be);
# F7, an append after sequence number 2^64 - 1 wraps to 0 (fuzz_journal
# does not append then); F8, an append without a source tag passes NULL
# to memcpy; F10, summarizing a feedback log without records passes NULL
# to qsort.
ifeq ($(FUZZ_KNOWN),1)
$(FUZZ_DIR)/obj/engine/snapwrite.o: FUZZ_CFLAGS += -fno-sanitize=nonnull-attribute
$(FUZZ_DIR)/obj/engine/overlay.o: FUZZ_CFLAGS += -fno-sanitize=nonnull-attribute
$(FUZZ_DIR)/obj/engine/journal.o: FUZZ_CFLAGS += -fno-sanitize=nonnull-attribute
$(FUZZ_DIR)/obj/engine/feedback.o: FUZZ_CFLAGS += -fno-sanitize=nonnull-attribute
$(FUZZ_DIR)/obj/server/report.o: FUZZ_CFLAGS += -fno-sanitize=pointer-overflow
$(FUZZ_DIR)/obj/tests/fuzz/%.o: FUZZ_CFLAGS += -DSX_FUZZ_KNOWN
endif

# An archive, so that a target links only the objects it needs.  The
# Makefile's .SECONDARY does not rebuild a missing object for a target that
# is otherwise up to date, so the archive also depends on the list of its
# objects (rewritten only when a source file comes or goes).
$(FUZZ_DIR)/objects.txt: fuzz-force
	@mkdir -p $(dir $@)
	@echo '$(FUZZ_LIB_OBJ)' | cmp -s - $@ || echo '$(FUZZ_LIB_OBJ)' >$@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ) $(FUZZ_DIR)/objects.txt
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $(FUZZ_LIB_OBJ)

fuzz-force:

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LDLIBS)

fuzz-build: $(FUZZ_BINS)

# Seeds are copied to a scratch corpus under build/, which keeps what the
# runs add (the repository's seeds are never written).  A crash, leak,
# timeout or sanitizer report makes libFuzzer exit non-zero and leaves the
# input in build/fuzz/artifacts/NAME-*.
fuzz-run-%: $(FUZZ_DIR)/fuzz_%
	@mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/artifacts
	@if [ -d tests/fuzz/corpus/$* ]; then cp -p tests/fuzz/corpus/$*/* $(FUZZ_DIR)/corpus/$*/ 2>/dev/null || true; fi
	@echo "  FUZZ    $* ($(FUZZ_SECONDS) s, log $(FUZZ_DIR)/$*.log)"
	$(Q)if $(FUZZ_DIR)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) \
	      -max_len=$(FUZZ_MAXLEN_$*) -timeout=30 -rss_limit_mb=2560 \
	      -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/$*- \
	      $(FUZZ_DIR)/corpus/$* >$(FUZZ_DIR)/$*.log 2>&1; then \
	  grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' $(FUZZ_DIR)/$*.log | tail -1 | sed 's/^/          /'; \
	else \
	  echo "fuzz target $* FAILED; the end of $(FUZZ_DIR)/$*.log:"; \
	  tail -60 $(FUZZ_DIR)/$*.log; exit 1; \
	fi

fuzz: $(addprefix fuzz-run-,$(FUZZ_NAMES))

# ---- sanitizer builds of the test suite ------------------------------------

SAN_ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
                 -fno-sanitize-recover=all
SAN_TSAN_FLAGS = -O1 -g -fsanitize=thread -fno-omit-frame-pointer

# Inside the sub-make (BUILD=build/asan or build/tsan): the programs and
# every test binary, linked as the normal build links them.
sanitize-all: all $(TESTS)

# jemalloc and the sanitizers' allocators do not mix: JEMALLOC is empty.
test-sanitize: deps
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/asan BIN=$(BUILD)/asan/bin CC=gcc \
	    CFLAGS="$(SAN_ASAN_FLAGS)" LDFLAGS="$(SAN_ASAN_FLAGS)" JEMALLOC= sanitize-all
	$(Q)bash tests/sanitize.sh asan $(BUILD)/asan $(TEST_SRC)

# ThreadSanitizer and Criterion do not mix (Criterion's inheritable arena
# crashes under the TSan runtime), so the threads that matter, sxgated's
# workers, job, metrics, journal and feedback threads, are checked where
# they run: the programs are built with TSan into build/tsan/bin, and the
# normal builds of the tests that start them are copied to
# build/tsan/tests, so that they find and start those programs.
TSAN_TEST_SRC = $(shell grep -l 'helpers/srvtest.h' $(TEST_SRC) 2>/dev/null)

test-tsan: deps
	$(Q)$(MAKE) --no-print-directory $(patsubst tests/%.c,$(BUILD)/tests/%,$(TSAN_TEST_SRC))
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan BIN=$(BUILD)/tsan/bin CC=gcc \
	    CFLAGS="$(SAN_TSAN_FLAGS)" LDFLAGS="$(SAN_TSAN_FLAGS)" JEMALLOC= all
	$(Q)mkdir -p $(BUILD)/tsan/tests && \
	    cp $(patsubst tests/%.c,$(BUILD)/tests/%,$(TSAN_TEST_SRC)) $(BUILD)/tsan/tests/
	$(Q)bash tests/sanitize.sh tsan $(BUILD)/tsan $(TSAN_TEST_SRC)

.PHONY: fuzz fuzz-deps fuzz-build fuzz-force sanitize-all test-sanitize test-tsan
