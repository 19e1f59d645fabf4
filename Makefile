# tonetree build. `make run` and `make test` are the two commands a newcomer needs: both first
# install any missing Debian package (scripts/deps.sh), so they work on a fresh Debian 12 machine.

CC      ?= cc
CLANG   ?= clang
BUILD   ?= build
WARN    = -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
# libre's headers need three defines its pkg-config file leaves out (../shared/recipes/sip.md).
RE_DEFS = -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6
CPPFLAGS_ALL = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(RE_DEFS) -Iinclude -Isrc
# pkg-config runs when a recipe runs (recursive '='), after deps.sh has installed the packages.
PKG_MODULES = sndfile soxr espeak-ng portaudio-2.0 alsa libevdev rubberband libebur128 libre spandsp
PKG_CFLAGS = $(shell pkg-config --cflags $(PKG_MODULES))
FLITE_LIBS = -lflite_cmu_us_kal16 -lflite_cmu_us_slt -lflite_cmu_us_rms -lflite_cmu_us_awb \
             -lflite_usenglish -lflite_cmulex -lflite
LIBS       = $(shell pkg-config --libs $(PKG_MODULES)) -liniparser $(FLITE_LIBS) -lpthread -lm
SAN        = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TSAN       = -fsanitize=thread -fno-omit-frame-pointer

# src/ has one folder per layer (src/README.md); the command's own file is in src/cli/.
LIB_SRC  = $(filter-out src/cli/%,$(wildcard src/*/*.c))
TEST_SRC = $(wildcard tests/test_*.c)
# The tests also get the program's signal handlers (test_term checks them on a raw terminal).
# Programs the tests run as processes, each with its own main (not helpers linked into each test).
TEST_TOOLS = tests/rtt_caller.c
TEST_HELPERS = $(filter-out $(TEST_SRC) $(TEST_TOOLS),$(wildcard tests/*.c)) src/cli/signals.c
CLI_OBJ  = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(wildcard src/cli/*.c))
BENCH_SRC = $(wildcard bench/bench_*.c)

LIB_OBJ  = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
TESTS    = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES  = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
ASAN_OBJ = $(LIB_SRC:src/%.c=$(BUILD)/asan/obj/%.o)
# Under the sanitizers, the tests that run the tonetree command run the sanitized command
# (TONETREE=$(BUILD)/asan/tonetree): test_cli's every exit path, and the SIP service through a
# thousand calls and hostile input (test_sip_hostile), with a leak failing them at exit. The
# real-time tests of the command (the kiosk on a sound server, the SIP callers, the privacy
# scans) run once, plain: their sanitizer build would check only the test's own harness, at
# minutes of the suite, and the sanitized command is too slow for their real-time bounds.
# (test_rtt_caller runs two liblinphone callers against each other: nothing of ours to sanitize.)
PROCESS_TESTS = test_kiosk test_kiosk_lookup test_kiosk_stretch test_privacy test_sip \
                test_sip_balance test_sip_ops test_sip_hostile test_rtt_caller test_sip_text
ASAN_TESTS = $(filter-out $(PROCESS_TESTS:%=$(BUILD)/asan/tests/%),\
                          $(TEST_SRC:tests/%.c=$(BUILD)/asan/tests/%))
# The tests of code that shares memory between threads run again under ThreadSanitizer.
TSAN_OBJ = $(LIB_SRC:src/%.c=$(BUILD)/tsan/obj/%.o)
TSAN_TESTS = $(BUILD)/tsan/tests/test_ring $(BUILD)/tsan/tests/test_store_job \
             $(BUILD)/tsan/tests/test_inimem $(BUILD)/tsan/tests/test_call \
             $(BUILD)/tsan/tests/test_store_many $(BUILD)/tsan/tests/test_menuslot

DEPS_OK  = $(BUILD)/.deps-ok
GUIDE    = menus/no-contact-order.ini
CACHE   ?= $(BUILD)/cache
# The sample walk `make demo` renders: the steps, two pages on, where am I, then end.
RUN_KEYS ?= 3 \# \# 0 1 9

.PHONY: all run demo test test-build unit asan tsan fuzz check-layers check-menus check-install \
        review-page \
        conformance bench bench-compare bench-sip deps clean install uninstall FORCE
all: $(BUILD)/libtonetree.a $(BUILD)/libtonetree.so $(BUILD)/tonetree

deps: $(DEPS_OK)
$(DEPS_OK): scripts/deps.sh
	@./scripts/deps.sh
	@mkdir -p $(@D) && touch $@

$(BUILD)/obj/%.o: src/%.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) $(CFLAGS) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

# The library's objects serve both the archive and the shared library: position-independent,
# and with only the public API (TT_API in include/tonetree.h) visible outside the .so. Hidden
# symbols still link statically, so the tests reach the internals through the archive.
LIB_ONLY_CFLAGS = -fPIC -fvisibility=hidden
$(LIB_OBJ): LIB_CFLAGS = $(LIB_ONLY_CFLAGS)
# and are built again when those flags change: a stamp holds them, rewritten only when they do.
LIB_FLAGS_NOW = $(CC) $(CFLAGS) $(LIB_ONLY_CFLAGS)
$(BUILD)/.lib-cflags: FORCE
	@mkdir -p $(@D)
	@echo '$(LIB_FLAGS_NOW)' | cmp -s - $@ || echo '$(LIB_FLAGS_NOW)' >$@
$(LIB_OBJ) $(CLI_OBJ): $(BUILD)/.lib-cflags
FORCE:

$(BUILD)/libtonetree.a: $(LIB_OBJ)
	ar rcs $@ $^

VERSION := $(shell sed -n 's/^\#define TT_VERSION "\(.*\)"/\1/p' include/tonetree.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
$(BUILD)/libtonetree.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libtonetree.so.$(SOMAJOR) -Wl,--no-undefined -o $@ $^ $(LIBS)

$(BUILD)/tonetree: $(CLI_OBJ) $(BUILD)/libtonetree.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/%.c $(TEST_HELPERS) $(BUILD)/libtonetree.a | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(TEST_HELPERS) \
	    $(BUILD)/libtonetree.a -lcmocka $(LIBS)

# The real-time-text caller the SIP tests call with (tests/rtt_caller.c): a program of its own
# on liblinphone, which nothing else links. Debian 12's linphone.pc requires the libraries
# under liblinphone but has an empty Libs: line, so liblinphone itself is named here.
LINPHONE_CFLAGS = $(shell pkg-config --cflags linphone)
LINPHONE_LIBS   = -llinphone $(shell pkg-config --libs linphone)
$(BUILD)/tests/rtt_caller: tests/rtt_caller.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) $(CFLAGS) $(LINPHONE_CFLAGS) -o $@ $< $(LINPHONE_LIBS)
$(BUILD)/tests/test_rtt_caller $(BUILD)/tests/test_sip_text: $(BUILD)/tests/rtt_caller

$(BUILD)/asan/obj/%.o: src/%.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) -O1 -g $(SAN) -MMD -MP -c $< -o $@

$(BUILD)/asan/libtonetree.a: $(ASAN_OBJ)
	ar rcs $@ $^

$(BUILD)/asan/tests/%: tests/%.c $(TEST_HELPERS) $(BUILD)/asan/libtonetree.a | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) -O1 -g $(SAN) -o $@ $< $(TEST_HELPERS) \
	    $(BUILD)/asan/libtonetree.a -lcmocka $(LIBS)

# The command under AddressSanitizer and UndefinedBehaviorSanitizer (test_sip_hostile runs it).
ASAN_CLI_OBJ = $(patsubst src/%.c,$(BUILD)/asan/obj/%.o,$(wildcard src/cli/*.c))
$(BUILD)/asan/tonetree: $(ASAN_CLI_OBJ) $(BUILD)/asan/libtonetree.a
	$(CC) -g $(SAN) -o $@ $^ $(LIBS)

$(BUILD)/tsan/obj/%.o: src/%.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) -O1 -g $(TSAN) -MMD -MP -c $< -o $@

$(BUILD)/tsan/libtonetree.a: $(TSAN_OBJ)
	ar rcs $@ $^

$(BUILD)/tsan/tests/%: tests/%.c $(TEST_HELPERS) $(BUILD)/tsan/libtonetree.a | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) -O1 -g $(TSAN) -o $@ $< $(TEST_HELPERS) \
	    $(BUILD)/tsan/libtonetree.a -lcmocka $(LIBS)

# Every fuzz target stops at undefined behaviour (no recovery), so that it fails `make fuzz`
# rather than scroll by in the log.
FUZZ_SAN = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# The library is compiled once for the targets that take it whole (instrumented for the
# fuzzer, not linked with its main): each used to compile all of it again, a minute of the
# suite's build.
FUZZ_LIB_SAN = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_OBJ = $(LIB_SRC:src/%.c=$(BUILD)/fuzz/obj/%.o)
$(BUILD)/fuzz/obj/%.o: src/%.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) -O1 -g $(FUZZ_LIB_SAN) -MMD -MP -c $< -o $@
$(BUILD)/fuzz/libtonetree.a: $(FUZZ_OBJ)
	ar rcs $@ $^

$(BUILD)/fuzz/fuzz_menu: tests/fuzz/fuzz_menu.c $(BUILD)/fuzz/libtonetree.a | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) -O1 -g $(FUZZ_SAN) \
	    -o $@ $< $(BUILD)/fuzz/libtonetree.a $(LIBS)

# The same loader cutting the file for iniparser every 2 sections instead of 64, so that
# small fuzz inputs cross the cuts too.
$(BUILD)/fuzz/fuzz_menu_cuts: tests/fuzz/fuzz_menu.c $(LIB_SRC) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) -O1 -g $(FUZZ_SAN) \
	    -DTT_INI_CHUNK=2 -o $@ $< $(LIB_SRC) $(LIBS)

# The phrase and keymap loaders, each on any bytes (tests/fuzz/fuzz_phrase.c, fuzz_keymap.c).
$(BUILD)/fuzz/fuzz_phrase $(BUILD)/fuzz/fuzz_keymap: $(BUILD)/fuzz/%: tests/fuzz/%.c \
    $(BUILD)/fuzz/libtonetree.a | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) -O1 -g $(FUZZ_SAN) \
	    -o $@ $< $(BUILD)/fuzz/libtonetree.a $(LIBS)

# A SIP call's keys (tests/fuzz/fuzz_sip_keys.c): the RFC 4733 receiver, the INFO parser and
# their merge are pure code, so the target is built from those three alone.
SIP_KEYS_SRC = src/sip/telev.c src/sip/info.c src/sip/keys.c
# A call's offer and answer (tests/fuzz/fuzz_sip_sdp.c): the call's own SDP code on libre's
# parser, so the whole library is linked, as for the menu loader.
$(BUILD)/fuzz/fuzz_sip_sdp: tests/fuzz/fuzz_sip_sdp.c $(BUILD)/fuzz/libtonetree.a | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) -O1 -g $(FUZZ_SAN) \
	    -o $@ $< $(BUILD)/fuzz/libtonetree.a $(LIBS)

$(BUILD)/fuzz/fuzz_sip_keys: tests/fuzz/fuzz_sip_keys.c tests/fuzz/fuzz_input.h $(SIP_KEYS_SRC) \
    $(wildcard src/sip/*.h) \
    | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS_ALL) $(WARN) -O1 -g $(FUZZ_SAN) \
	    -o $@ $< $(SIP_KEYS_SRC)

# Real-time text (tests/fuzz/fuzz_sip_t140.c): the RFC 4103 sender and receiver are pure code
# of one file, so the target is built from it alone.
$(BUILD)/fuzz/fuzz_sip_t140: tests/fuzz/fuzz_sip_t140.c tests/fuzz/fuzz_input.h \
    tests/fuzz/fuzz_text.h src/sip/t140.c src/sip/t140.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS_ALL) $(WARN) -O1 -g $(FUZZ_SAN) -o $@ $< src/sip/t140.c

$(BUILD)/bench/%: bench/%.c bench/bench.h $(BUILD)/libtonetree.a | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(BUILD)/libtonetree.a $(LIBS)

# bench_dtmf's reference for the whole-process count of `tonetree dtmf`: spandsp and libsndfile
# only, nothing of ours (bench-deps.sh installs libspandsp-dev).
$(BUILD)/bench/spandsp_dtmf_file: bench/spandsp_dtmf_file.c | $(BENCH_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) -o $@ $< -lspandsp -lsndfile

# The floor under the SIP benchmark (issue 12): N streams of 20 ms UDP packets on 127.0.0.1
# with nothing but sockets, to read the engine's send-time error and CPU per stream against.
# A program of its own, like the one above, and not run by `make bench`: it takes the
# number of streams and seconds (build/bench/udp_floor 1000 5).
$(BUILD)/bench/udp_floor: bench/udp_floor.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $< -lpthread

# The capture that checks the engine's send times from outside (issue 12): an AF_PACKET socket
# on lo, root only, run by scripts/bench-sip.sh (build/bench/rtp_capture LO HI SECONDS).
$(BUILD)/bench/rtp_capture: bench/rtp_capture.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

# bench_voices listens with pocketsphinx, which only the benchmarks install (bench-deps.sh),
# before it is compiled. Its headers are included as system headers: sphinxbase's own are
# not clean under -Wextra.
BENCH_DEPS_OK = $(BUILD)/.bench-deps-ok
$(BENCH_DEPS_OK): scripts/bench-deps.sh | $(DEPS_OK)
	@./scripts/bench-deps.sh
	@mkdir -p $(@D) && touch $@
PS_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags pocketsphinx))
PS_LIBS   = $(shell pkg-config --libs pocketsphinx)
$(BUILD)/bench/bench_voices: bench/bench_voices.c bench/bench.h $(BUILD)/libtonetree.a \
    | $(BENCH_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(PS_CFLAGS) $(WARN) $(CFLAGS) -o $@ $< \
	    $(BUILD)/libtonetree.a $(PS_LIBS) $(LIBS)

# The main job: the guide, spoken on the default audio device, keys from this terminal.
# (With no device it says so and shows the words instead.) Ctrl-C ends it.
run: all
	$(BUILD)/tonetree run $(GUIDE) --cache $(CACHE)

# A sample walk through the guide offline: the transcript, and the audio in build/guide.wav.
demo: all
	$(BUILD)/tonetree render $(GUIDE) --cache $(CACHE) --keys "$(RUN_KEYS)" \
	    -o $(BUILD)/guide.wav --transcript -

# Tests run the suite twice (plain, then under AddressSanitizer and UndefinedBehaviorSanitizer),
# the threaded tests a third time under ThreadSanitizer, lint every shipped menu, check the
# HTML script of every shipped menu in a real browser, and give the loaders' fuzzers a short run.
# Everything the suite runs is built first, a job per processor (no test is timed while it
# builds, and on a 2-core machine that is about a minute and a half less of the 15 minutes the
# suite may take); then the checks run one after another (-j1 even under make -jN: real-time
# tests share the machine with nothing of the suite's own).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_TARGETS = $(BUILD)/fuzz/fuzz_menu $(BUILD)/fuzz/fuzz_menu_cuts $(BUILD)/fuzz/fuzz_phrase \
               $(BUILD)/fuzz/fuzz_keymap $(BUILD)/fuzz/fuzz_sip_keys $(BUILD)/fuzz/fuzz_sip_sdp \
               $(BUILD)/fuzz/fuzz_sip_t140
test-build: $(TESTS) $(ASAN_TESTS) $(TSAN_TESTS) $(BUILD)/tonetree $(BUILD)/asan/tonetree \
            $(BUILD)/libtonetree.a $(BUILD)/libtonetree.so $(FUZZ_TARGETS)

test:
	+@$(MAKE) --no-print-directory -j$(JOBS) test-build
	+@$(MAKE) --no-print-directory -j1 check-layers unit asan tsan check-menus check-install \
	    review-page fuzz
	@echo "tonetree: all tests passed"

unit: $(TESTS) $(BUILD)/tonetree $(BUILD)/asan/tonetree
	@./tests/run-suite.sh $(TESTS)

asan: $(ASAN_TESTS) $(BUILD)/tonetree $(BUILD)/asan/tonetree
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    TONETREE=$(BUILD)/asan/tonetree ./tests/run-suite.sh $(ASAN_TESTS)

tsan: $(TSAN_TESTS) $(BUILD)/tonetree
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ./tests/run-suite.sh $(TSAN_TESTS)

# The layers of src/ (src/README.md): no file includes a header of a layer above or beside its
# own. Checked on src/, and on a tree made to break each rule once, where the check must name
# all five breaks: a check that has stopped working fails too.
check-layers:
	@./scripts/check-layers.sh src
	@n=$$(./scripts/check-layers.sh tests/data/layers-bad | grep -c .); \
	    if [ "$$n" -ne 5 ]; then \
	        echo "check-layers: $$n complaints about tests/data/layers-bad, want 5"; exit 1; fi

check-menus: $(BUILD)/tonetree
	@for m in menus/*.ini; do $(BUILD)/tonetree check "$$m" || exit 1; done

# The review page in a real browser: `tonetree script --format html` of every shipped menu in
# each of its languages (and of tests/browser/long-words.ini, whose words are wider than a
# zoomed window), opened in headless Chromium and checked with axe-core for WCAG 2.x A and AA
# and best practice, for sideways scrolling at 200% and 400% zoom, and shot at 200% into
# $(REVIEW)/*.png. tests/browser/review-page.mjs first checks a page made to fail, so a check
# that has stopped working fails too. axe-core comes from the npm registry at the version
# pinned in tests/browser/package-lock.json.
REVIEW   = $(BUILD)/review
AXE_JS   = tests/browser/node_modules/axe-core/axe.min.js
REVIEW_MENUS = menus/*.ini tests/browser/long-words.ini
$(AXE_JS): tests/browser/package.json tests/browser/package-lock.json | $(DEPS_OK)
	cd tests/browser && npm ci --no-audit --no-fund --ignore-scripts
	@touch $@
review-page: $(BUILD)/tonetree $(AXE_JS)
	@rm -rf $(REVIEW) && mkdir -p $(REVIEW)
	@for m in $(REVIEW_MENUS); do \
	    langs=$$(sed -n 's/^[[:space:]]*languages[[:space:]]*=//p' "$$m" | tr ',' ' '); \
	    for l in $${langs:-en}; do \
	        $(BUILD)/tonetree script "$$m" --lang "$$l" --format html \
	            >"$(REVIEW)/$$(basename "$$m" .ini).$$l.html" || exit 1; \
	    done; \
	done
	@timeout -k 10 600 node tests/browser/review-page.mjs --out $(REVIEW) \
	    --known-bad tests/browser/known-bad.html $(REVIEW)/*.html

# The accessibility conformance report: runs exactly the tests docs/accessibility.md names (each
# binary once) and prints its table with each row's result; fails if a row does. Not part of
# `test` (which runs the same tests anyway): it takes a few minutes of real-time tests.
conformance: $(TESTS) $(BUILD)/tonetree
	@./scripts/conformance.sh docs/accessibility.md $(BUILD)/tests

# A smoke run in every `make test` (the suite must stay under 15 minutes); longer runs by
# hand: make fuzz FUZZ_SECONDS=600.
FUZZ_SECONDS ?= 12
# The phrase and keymap loaders are small beside the menu loader: half its time each.
FUZZ_SMALL_SECONDS ?= 6
# The SIP key parsers are smaller still: 5 s is some 90,000 inputs on a busy two-core machine.
FUZZ_SIP_SECONDS ?= 5
# run TARGET SECONDS CORPUS WHAT
FUZZ_RUN = run() { echo "fuzzing $$4 ($$1) for $$2 s"; \
	    $(BUILD)/fuzz/$$1 -max_total_time=$$2 -max_len=65536 -timeout=10 \
	    -print_final_stats=1 $(BUILD)/fuzz/$$3 >$(BUILD)/fuzz/$$1.log 2>&1; rc=$$?; \
	    grep -E "^(Done|stat::number_of_executed_units)|ERROR|SUMMARY" $(BUILD)/fuzz/$$1.log; \
	    [ $$rc -eq 0 ] || { tail -n 60 $(BUILD)/fuzz/$$1.log; echo "fuzz: FAILED"; return 1; }; }
fuzz: $(FUZZ_TARGETS)
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/corpus_phrase $(BUILD)/fuzz/corpus_keymap \
	    $(BUILD)/fuzz/corpus_sip_keys $(BUILD)/fuzz/corpus_sip_sdp $(BUILD)/fuzz/corpus_sip_t140
	@cp menus/*.ini tests/data/*.ini $(BUILD)/fuzz/corpus/ 2>/dev/null || true
	@for f in prompts/*/phrases.ini tests/prompts/*/phrases.ini; do \
	    cp "$$f" "$(BUILD)/fuzz/corpus_phrase/$$(echo "$$f" | tr / _)"; done
	@cp keymaps/*.ini $(BUILD)/fuzz/corpus_keymap/
	@cp tests/fuzz/sip_keys/* $(BUILD)/fuzz/corpus_sip_keys/
	@cp tests/fuzz/sip_sdp/* $(BUILD)/fuzz/corpus_sip_sdp/
	@cp tests/fuzz/sip_t140/* $(BUILD)/fuzz/corpus_sip_t140/
	@$(FUZZ_RUN); run fuzz_menu $(FUZZ_SECONDS) corpus "the menu loader" && \
	    run fuzz_menu_cuts $(FUZZ_SECONDS) corpus "the menu loader" && \
	    run fuzz_phrase $(FUZZ_SMALL_SECONDS) corpus_phrase "the phrase loader" && \
	    run fuzz_keymap $(FUZZ_SMALL_SECONDS) corpus_keymap "the keymap loader" && \
	    run fuzz_sip_keys $(FUZZ_SIP_SECONDS) corpus_sip_keys "the SIP key parsers" && \
	    run fuzz_sip_sdp $(FUZZ_SIP_SECONDS) corpus_sip_sdp "a call's offer and answer" && \
	    run fuzz_sip_t140 $(FUZZ_SIP_SECONDS) corpus_sip_t140 "real-time text"

# Benchmarks also need what only they use (spandsp as the reference, the talk-off corpus,
# valgrind, pocketsphinx and its model): scripts/bench-deps.sh installs it.
bench: $(BENCHES) $(BUILD)/tonetree $(BUILD)/bench/spandsp_dtmf_file
	@./scripts/bench-deps.sh
	@for b in $(BENCHES); do $$b || exit 1; done

# Before and after in one run: an older commit (BASE) built beside this tree, both run in turn
# for ROUNDS rounds, one table of medians and ratios (scripts/bench-compare.sh, docs/benchmarks.md).
# The default BASE is the last commit before issue 11's restructuring.
BASE   ?= 87980a9
ROUNDS ?= 15
bench-compare: | $(DEPS_OK)
	+@MAKE='$(MAKE)' BUILD='$(BUILD)' ROUNDS='$(ROUNDS)' ./scripts/bench-compare.sh '$(BASE)'

# Issue 12's SIP benchmark (scripts/bench-sip.sh, docs/benchmarks.md): SIPp places 100, 500,
# 1000 and 2000 calls at once on `tonetree sip`, beside the floor of bare UDP sockets. About
# 10 minutes on a quiet machine, up to 10 more per N while it waits for the load average to
# fall; root only (its capture opens an AF_PACKET socket). Not part of `make test` or `make bench`.
bench-sip: | $(DEPS_OK)
	+@MAKE='$(MAKE)' BUILD='$(BUILD)' ./scripts/bench-sip.sh

clean:
	rm -rf $(BUILD)

# `make install PREFIX=/usr DESTDIR=/tmp/pkg`: the command, the library (shared and static),
# the header, a pkg-config file, the man pages, and the guide with its prompts and the keymaps
# (side by side, as a menu finds its prompts by relative path; hearing-date.ini stays behind:
# it needs the example lookup program, which is not for installing).
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
DATADIR ?= $(PREFIX)/share/tonetree
MANDIR  ?= $(PREFIX)/share/man
install: $(BUILD)/tonetree $(BUILD)/libtonetree.a $(BUILD)/libtonetree.so
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(DATADIR)
	install -m 755 $(BUILD)/tonetree $(DESTDIR)$(PREFIX)/bin/tonetree
	install -m 644 $(BUILD)/libtonetree.a $(DESTDIR)$(LIBDIR)/libtonetree.a
	install -m 755 $(BUILD)/libtonetree.so $(DESTDIR)$(LIBDIR)/libtonetree.so.$(VERSION)
	ln -sf libtonetree.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libtonetree.so.$(SOMAJOR)
	ln -sf libtonetree.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libtonetree.so
	install -m 644 include/tonetree.h $(DESTDIR)$(PREFIX)/include/tonetree.h
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@VERSION@|$(VERSION)|' \
	    tonetree.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/tonetree.pc
	install -m 644 man/tonetree.1 $(DESTDIR)$(MANDIR)/man1/tonetree.1
	install -m 644 man/tonetree-menu.5 $(DESTDIR)$(MANDIR)/man5/tonetree-menu.5
	install -d $(DESTDIR)$(DATADIR)/menus
	install -m 644 $(GUIDE) $(DESTDIR)$(DATADIR)/menus/
	cp -R prompts keymaps $(DESTDIR)$(DATADIR)/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tonetree $(DESTDIR)$(LIBDIR)/libtonetree.a \
	    $(DESTDIR)$(LIBDIR)/libtonetree.so $(DESTDIR)$(LIBDIR)/libtonetree.so.$(SOMAJOR) \
	    $(DESTDIR)$(LIBDIR)/libtonetree.so.$(VERSION) $(DESTDIR)$(LIBDIR)/pkgconfig/tonetree.pc \
	    $(DESTDIR)$(PREFIX)/include/tonetree.h $(DESTDIR)$(MANDIR)/man1/tonetree.1 \
	    $(DESTDIR)$(MANDIR)/man5/tonetree-menu.5
	rm -rf $(DESTDIR)$(DATADIR)/menus $(DESTDIR)$(DATADIR)/prompts $(DESTDIR)$(DATADIR)/keymaps
	-rmdir $(DESTDIR)$(DATADIR) 2>/dev/null

# The installed library as a program that embeds it sees it: install into a scratch folder,
# build examples/embed/embed.c with pkg-config against it alone, run it, and check that the
# shared library exports exactly the functions of the public header.
check-install: $(BUILD)/tonetree $(BUILD)/libtonetree.a $(BUILD)/libtonetree.so
	+@MAKE='$(MAKE)' BUILD='$(BUILD)' ./scripts/check-install.sh

-include $(LIB_OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(TSAN_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
