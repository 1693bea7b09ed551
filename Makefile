# sxgate - plain Makefile.  `make` builds every program into bin/,
# `make test` runs the whole suite, `make run` the demo, `make bench` the
# benchmarks.  See README.md.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CPPFLAGS += -D_GNU_SOURCE -Iengine -Iloader -Iserver -Iclient -MMD -MP
LDLIBS_ENGINE = -lxxhash -lroaring -lm
JEMALLOC = -ljemalloc
# sd_notify (server/notify.c): libsystemd, as pkg-config names it
SYSTEMD_CFLAGS := $(shell pkg-config --cflags libsystemd 2>/dev/null)
SYSTEMD_LIBS   := $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)
CPPFLAGS += $(SYSTEMD_CFLAGS)

ifeq ($(V),1)
Q =
else
Q = @
endif

BUILD = build
BIN   = bin

# Every .c of a component is library code except its program's main file.
# Each program links only the components it calls (checked with nm -u):
# the server uses no loader code, the CLI only its CSV reader, and sxgate-gen and
# sxgate-bench no engine code (sx.h's inline helpers need no object).
ENGINE_SRC = $(wildcard engine/*.c)
LOADER_SRC = $(filter-out loader/main.c,$(wildcard loader/*.c))
SERVER_SRC = $(filter-out server/main.c,$(wildcard server/*.c))
CLIENT_SRC = $(wildcard client/*.c)
TOOLS_SRC  = $(filter-out tools/cli.c,$(wildcard tools/*.c))
GEN_SRC    = $(wildcard tools/gen/*.c)
BENCH_SRC  = $(wildcard bench/bench*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
ENGINE_OBJ = $(call obj,$(ENGINE_SRC))
LOADER_OBJ = $(call obj,$(LOADER_SRC))
SERVER_OBJ = $(call obj,$(SERVER_SRC))
CLIENT_OBJ = $(call obj,$(CLIENT_SRC))
TOOLS_OBJ  = $(call obj,$(TOOLS_SRC))
GEN_OBJ    = $(call obj,$(GEN_SRC))
BENCH_OBJ  = $(call obj,$(BENCH_SRC))

PROGRAMS = $(BIN)/sxgate-build $(BIN)/sxgate $(BIN)/sxgate-gen
ifneq ($(wildcard server/main.c),)
PROGRAMS += $(BIN)/sxgated
endif
ifneq ($(wildcard bench/bench.c),)
PROGRAMS += $(BIN)/sxgate-bench
endif

TEST_SRC = $(wildcard tests/test_*.c)
TESTS    = $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

all: $(PROGRAMS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

define link
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(1)
endef

$(BIN)/sxgate-build: $(BUILD)/loader/main.o $(LOADER_OBJ) $(ENGINE_OBJ)
	$(call link,$(LDLIBS_ENGINE) $(JEMALLOC) -lpthread)

$(BIN)/sxgated: $(BUILD)/server/main.o $(SERVER_OBJ) $(CLIENT_OBJ) $(ENGINE_OBJ)
	$(call link,$(LDLIBS_ENGINE) $(JEMALLOC) -luring -lcrypt -lssl -lcrypto -ljansson $(SYSTEMD_LIBS) -lpthread)

# GET /openapi.json serves docs/openapi.json, built in (server/openapi.c).
$(BUILD)/server/openapi.o: docs/openapi.json

# `sxgate screen` reads its input with the loader's CSV reader (csv.o
# alone: the rest of the loader stays out of the CLI).
$(BIN)/sxgate: $(BUILD)/tools/cli.o $(TOOLS_OBJ) $(BUILD)/loader/csv.o $(CLIENT_OBJ) $(ENGINE_OBJ)
	$(call link,$(LDLIBS_ENGINE) -lcrypt -lssl -lcrypto -lpthread)

$(BIN)/sxgate-gen: $(GEN_OBJ)
	$(call link,)

$(BIN)/sxgate-bench: $(BENCH_OBJ) $(CLIENT_OBJ)
	$(call link,-lssl -lcrypto -lm -lpthread)

$(BUILD)/bench-engine: $(BUILD)/bench/engine.o $(ENGINE_OBJ)
	$(call link,$(LDLIBS_ENGINE))

# The ID parse on its own, ns per ID (bench/idparse.c).
$(BUILD)/bench-idparse: $(BUILD)/bench/idparse.o $(ENGINE_OBJ)
	$(call link,$(LDLIBS_ENGINE))

# A feedback log of any size through the engine's writer (bench/fbgen.c).
$(BUILD)/bench-fbgen: $(BUILD)/bench/fbgen.o $(ENGINE_OBJ)
	$(call link,$(LDLIBS_ENGINE) -lpthread)

# `sxgate feedback report` on a 10 M-record log (FB_RECORDS to change):
# the log is made once in $(BUILD)/bench-fbreport and kept.
FB_RECORDS ?= 10000000
bench-fbreport: all $(BUILD)/bench-fbgen
	$(Q)mkdir -p $(BUILD)/bench-fbreport
	$(Q)log=$(BUILD)/bench-fbreport/feedback-$(FB_RECORDS); \
	[ -f $$log ] || $(BUILD)/bench-fbgen $$log $(FB_RECORDS) 90; \
	ls -l $$log; \
	/usr/bin/time -f "feedback report --html --csv --json: %e s wall, %U s user, %S s sys, max RSS %M KiB" \
	  $(BIN)/sxgate feedback report $$log --html $(BUILD)/bench-fbreport/report.html \
	  --csv $(BUILD)/bench-fbreport/report.csv --json $(BUILD)/bench-fbreport/report.json; \
	/usr/bin/time -f "feedback summarize --json: %e s wall, %U s user, %S s sys, max RSS %M KiB" \
	  $(BIN)/sxgate feedback summarize --json $$log >/dev/null; \
	ls -l $(BUILD)/bench-fbreport/report.*

.PHONY: bench-fbreport

# Unit and integration tests: one Criterion binary per tests/test_*.c,
# linked against every library object (not the programs' mains).
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(SERVER_OBJ) $(CLIENT_OBJ) $(LOADER_OBJ) $(ENGINE_OBJ)
	$(call link,$(LDLIBS_ENGINE) -luring -lcrypt -lssl -lcrypto -ljansson $(SYSTEMD_LIBS) -lpthread -lcriterion)

# Packages a fresh Debian 12 machine needs (installed only when missing).
DEB_PKGS = build-essential pkg-config libjemalloc-dev libxxhash-dev liburing-dev \
           libroaring-dev libcriterion-dev libcrypt-dev redis-server redis-tools \
           python3 prometheus libssl-dev openssl curl python3-redis libsystemd-dev \
           systemd libjansson-dev python3-yaml

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The layer rules of docs/layers.txt over the built objects (nm), with the
# pairs of docs/layers-allow.txt; fails on an upward edge or a cycle.
CHECK_ARCH = python3 tools/check_arch.py --build $(BUILD)

check-arch: all
	$(Q)$(CHECK_ARCH)

# The test binaries, then the systemd units (tests/check_units.sh:
# systemd-analyze security and verify), the Prometheus rules and config
# (tests/check_prometheus.sh: promtool check and test rules), the Grafana
# dashboard (tests/check_grafana.py: structure, and every panel's query on
# a real Prometheus scraping a real sxgated), the checker's self-test and
# the checker; each runs (and prints its results) even when one before it
# failed.
test: deps
	$(Q)$(MAKE) --no-print-directory all $(TESTS)
	$(Q)rc=0; tests/run-tests.sh $(TESTS) || rc=1; \
	tests/check_units.sh || rc=1; \
	tests/check_prometheus.sh || rc=1; \
	/usr/bin/python3 tests/check_grafana.py || rc=1; \
	tests/check_arch_selftest.sh || rc=1; \
	$(CHECK_ARCH) || rc=1; exit $$rc

DEMO = $(BUILD)/demo
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/demo.sh $(DEMO)

# The engine on 10 M generated records (BENCH_RECORDS to change).
bench-engine: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench-engine $(BUILD)/bench-idparse
	$(Q)bench/engine.sh $(BUILD)/bench

# `sxgate screen` on a 10 M-row manifest, file to file, offline and against
# a local sxgated, beside bench-engine's batched decision rate and
# sxgate-bench's binary peak measured in the same run (bench/screen.sh).
bench-screen: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench-engine $(BUILD)/bench-idparse
	$(Q)bench/screen.sh $(BUILD)/bench

bench-idparse: $(BUILD)/bench-idparse
	$(Q)$(BUILD)/bench-idparse

clean:
	rm -rf $(BUILD) $(BIN)

.PHONY: all deps test run clean bench-engine bench-screen bench-idparse check-arch
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Fuzzing and sanitizer builds (make fuzz, make test-sanitize).
-include tests/fuzz/fuzz.mk

# The whole benchmark suite on this machine: engine, binary and RESP
# protocols against redis-server, memory, build vs load, reload under load.
# Writes docs/BENCHMARKS.md and docs/bench-throughput-latency.svg
# (BENCH_RECORDS, default 10 M; BENCH_SECONDS per run, default 5).
$(BUILD)/bench-redis-ids: $(BUILD)/bench/redis_ids.o $(BUILD)/loader/csv.o $(ENGINE_OBJ)
	$(call link,$(LDLIBS_ENGINE))

bench: deps
	$(Q)$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) wrk nginx-light"
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench-engine $(BUILD)/bench-idparse $(BUILD)/bench-redis-ids
	$(Q)bench/run.sh $(BUILD)/bench
	$(Q)bench/resp.sh $(BUILD)/bench-resp
	$(Q)bench/http.sh $(BUILD)/bench-http

# RESP against Redis in one run: redis-benchmark, sxgate-bench, open-loop
# latency, TLS (bench/resp.sh; make bench runs it last).
bench-resp: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench-redis-ids
	$(Q)bench/resp.sh $(BUILD)/bench-resp

# Open-loop latency at 10/50/90% of Redis's closed-loop peak, sxgated RESP
# CHECK against Redis SISMEMBER, the same client (bench/latency.sh; make
# bench-resp runs it as its section 3).
bench-latency: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench-redis-ids
	$(Q)bench/latency.sh $(BUILD)/bench-resp

# What fresh memory and a new file cost here (bench/memcost.c): the
# figures behind sxgate-build's memory and O_DIRECT choices.
$(BUILD)/bench-memcost: $(BUILD)/bench/memcost.o
	$(call link,)

bench-memcost: $(BUILD)/bench-memcost
	$(Q)mkdir -p $(BUILD)/bench && $(BUILD)/bench-memcost $(BUILD)/bench

# What TLS costs, against the plain ports and redis-server --tls-port
# (bench/tls.sh).
bench-tls: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/tls.sh $(BUILD)/bench-tls

# The HTTP/JSON API against nginx serving the same bytes, RESP and the
# binary protocol (bench/http.sh; wrk and nginx-light from Debian).
bench-http:
	$(Q)$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) wrk nginx-light"
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/http.sh $(BUILD)/bench-http

.PHONY: bench bench-resp bench-latency bench-memcost bench-tls bench-http

# Three sxgated replicas behind HAProxy fed by one Redis Stream, on
# 127.0.0.1 (tests/cluster/, docs/DEPLOY.md); last line "N passed, N failed".
test-cluster:
	$(Q)$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) haproxy"
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/cluster/run.sh

.PHONY: test-cluster
