# credscope build. `make` builds build/bin/*, `make check` runs every test.
#
# Sources are found by convention so that adding a module needs no edit here:
#   common/**/*.c                   linked into every binary
#   guest-agent/**/*.c              the agent; guest-agent/main.c holds its main()
#   host-harness/**/*.c             host side; host-harness/cmd/{harness,launch}_main.c hold main()s
#   tests/unit/test_*.c             one cmocka binary each, linked against the libraries
#   tests/fuzz/fuzz_*.c             one libFuzzer target each (clang)
# Every object records the headers it read (-MMD -MP), so touching a header rebuilds
# exactly the objects that include it. docs/architecture.md says which folder is which.

VERSION      := 0.1.0
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
MANDIR       ?= $(PREFIX)/share/man
UNITDIR      ?= $(PREFIX)/lib/systemd/system
GENERATORDIR ?= $(PREFIX)/lib/systemd/system-generators
DESTDIR      ?=
CC           ?= cc
CLANG        ?= clang
FUZZ_SECONDS ?= 10

# Each binary links only what it uses: the agent (which runs in guests) no libcurl, the
# host binaries no libblkid.
GUEST_PKGS := jansson libcrypto blkid
HOST_PKGS  := jansson libcrypto libcurl
PKG_CFLAGS := $(shell pkg-config --cflags jansson libcrypto blkid libcurl 2>/dev/null)
GUEST_LIBS := $(shell pkg-config --libs $(GUEST_PKGS) 2>/dev/null)
HOST_LIBS  := $(shell pkg-config --libs $(HOST_PKGS) 2>/dev/null)
ALL_LIBS   := $(shell pkg-config --libs $(GUEST_PKGS) $(HOST_PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
CFLAGS   ?= -O2 -g
DEPFLAGS  = -MMD -MP
CPPFLAGS += -D_GNU_SOURCE -DCREDSCOPE_VERSION='"$(VERSION)"' -Icommon -Iguest-agent -Ihost-harness
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(PKG_CFLAGS)

.SECONDEXPANSION:
.SECONDARY:
B := build
find_c = $(sort $(shell find $(1) -name '*.c' 2>/dev/null))
COMMON_SRC := $(call find_c,common)
GUEST_SRC  := $(filter-out guest-agent/main.c,$(call find_c,guest-agent))
HOST_MAINS := host-harness/cmd/harness_main.c host-harness/cmd/launch_main.c
HOST_SRC   := $(filter-out $(HOST_MAINS),$(call find_c,host-harness))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))

# $(call objs,VARIANT,SOURCES)
objs = $(patsubst %.c,$(B)/$(1)/%.o,$(2))

LIBS_OF = $(B)/$(1)/libcredscope-guest.a $(B)/$(1)/libcredscope-host.a $(B)/$(1)/libcredscope-common.a
HOST_LIBS_OF = $(B)/$(1)/libcredscope-host.a $(B)/$(1)/libcredscope-common.a

BINS := $(B)/bin/credscope $(B)/bin/credscope-harness $(B)/bin/credscope-launch

.PHONY: all check check-run demo-run unit unit-asan fuzz integration images images-for-check demo bench install clean man distclean
all: $(BINS) $(patsubst tests/helpers/%.c,$(B)/bin/%,$(HELPER_SRC))

# ---- normal build --------------------------------------------------------
$(B)/std/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(ALL_CFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -c -o $@ $<

$(B)/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) $(DEPFLAGS) -std=gnu11 -Wall -Wextra -Wno-unused-parameter -g -O1 $(PKG_CFLAGS) -DCREDSCOPE_FUZZING -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -c -o $@ $<

-include $(shell find $(B) -path $(B)/deb -prune -o -type f -name '*.d' -print 2>/dev/null)

# Each library also depends on a file holding its list of sources, rewritten only when the
# list changes: objects are intermediate (.SECONDARY), so without it a new source file
# with an old mtime (from a tar, a cp -p) would never be compiled into a newer library.
SRCLIST_common := $(COMMON_SRC)
SRCLIST_guest  := $(GUEST_SRC)
SRCLIST_host   := $(HOST_SRC)
$(B)/srclist-%.txt: FORCE
	@mkdir -p $(B); echo '$(SRCLIST_$*)' | cmp -s - $@ || echo '$(SRCLIST_$*)' > $@
.PHONY: FORCE

$(B)/%/libcredscope-common.a: $$(call objs,$$*,$(COMMON_SRC)) $(B)/srclist-common.txt
	@rm -f $@; ar rcs $@ $(filter %.o,$^)
$(B)/%/libcredscope-guest.a: $$(call objs,$$*,$(GUEST_SRC)) $(B)/srclist-guest.txt
	@rm -f $@; ar rcs $@ $(filter %.o,$^)
$(B)/%/libcredscope-host.a: $$(call objs,$$*,$(HOST_SRC)) $(B)/srclist-host.txt
	@rm -f $@; ar rcs $@ $(filter %.o,$^)

$(B)/bin/credscope: $(B)/std/guest-agent/main.o $(B)/std/libcredscope-guest.a $(B)/std/libcredscope-common.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(GUEST_LIBS)
$(B)/bin/credscope-harness: $(B)/std/host-harness/cmd/harness_main.o $(call HOST_LIBS_OF,std)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(HOST_LIBS)
$(B)/bin/credscope-launch: $(B)/std/host-harness/cmd/launch_main.o $(call HOST_LIBS_OF,std)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(HOST_LIBS)
# small test helpers (fake servers, fixture generators) used by integration tests
$(B)/bin/%: $(B)/std/tests/helpers/%.o $(call LIBS_OF,std)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LIBS)

# ---- unit tests (cmocka), plain and with ASan/UBSan ----------------------
UNIT_STD  := $(patsubst tests/unit/%.c,$(B)/tests/std/%,$(UNIT_SRC))
UNIT_ASAN := $(patsubst tests/unit/%.c,$(B)/tests/asan/%,$(UNIT_SRC))

$(B)/tests/std/%: $(B)/std/tests/unit/%.o $(call LIBS_OF,std)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LIBS) $(CMOCKA_LIBS)
$(B)/tests/asan/%: $(B)/asan/tests/unit/%.o $(call LIBS_OF,asan)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=address,undefined -o $@ $^ $(ALL_LIBS) $(CMOCKA_LIBS)

unit: $(UNIT_STD) all
	@tests/run-unit std $(UNIT_STD)
unit-asan: $(UNIT_ASAN) all
	@tests/run-unit asan $(UNIT_ASAN)

# ---- fuzzing (libFuzzer) ---------------------------------------------------
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz-bin/%,$(FUZZ_SRC))
$(B)/fuzz-bin/%: $(B)/fuzz/tests/fuzz/%.o $(call LIBS_OF,fuzz)
	@mkdir -p $(dir $@)
	$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(ALL_LIBS)
fuzz: $(FUZZ_BINS)
	@tests/run-fuzz $(FUZZ_SECONDS) $(FUZZ_BINS)
# every target for FUZZ_RUNS executions (docs/fuzzing.md); summary in build/fuzz-long.txt
FUZZ_RUNS ?= 10000000
.PHONY: fuzz-long
fuzz-long: $(FUZZ_BINS)
	@tests/run-fuzz-long $(FUZZ_RUNS) $(FUZZ_BINS)

# ---- everything --------------------------------------------------------------
integration: all
	@tests/run-integration

# The VM tests boot these flavors; `make check` builds (or confirms up to date, by input
# hash) their images as a step of its own, before the tests, and says so.
# trixie-arm64 is the aarch64 guest (tests/integration/aarch64.test): its tree is built in
# the image-trees stage with the others (mmdebstrap under qemu-user-static), its agent is
# the cross-built static one; it is packed apart, so that a machine where arm64 binaries
# cannot run (no binfmt_misc) still gets the x86-64 images. trixie-initrd boots a dracut-built systemd initrd
# (tests/integration/initrd.test, one VM).
CHECK_FLAVORS ?= bookworm bookworm-backports trixie forky trixie-arm64 trixie-initrd
images-for-check: $(B)/static/x86_64/credscope $(if $(filter %-arm64,$(CHECK_FLAVORS)),$(B)/static/aarch64/credscope)
	@echo "== images: make check boots $(CHECK_FLAVORS) (vm-images/out/); building what is missing or stale"
	@# an image that cannot be built fails the check: its VM tests are then "not run", never
	@# skipped into a pass
	@$(if $(filter-out %-arm64,$(CHECK_FLAVORS)),vm-images/build $(filter-out %-arm64,$(CHECK_FLAVORS)) || { echo "== images: vm-images/build failed (see above)"; exit 1; })
	@$(if $(filter %-arm64,$(CHECK_FLAVORS)),vm-images/build $(filter %-arm64,$(CHECK_FLAVORS)) || { echo "== images: the aarch64 image failed (see above; binfmt_misc?)"; exit 1; })

# `make check` and `make demo` need nothing before them: ci/ensure-deps installs what is
# missing (as root, one apt-get call, said first) or names the command (exit 2). The
# recursive make re-reads pkg-config's answers once the libraries are there.
check:
	@t=$$(mktemp) && STAGES=$$t tests/timed deps ci/ensure-deps check || { rc=$$?; rm -f "$$t"; exit $$rc; }; \
		mkdir -p $(B) && mv "$$t" $(B)/stages.txt
	@$(MAKE) --no-print-directory check-run

# check-run: every stage of the check as its own job, CHECK_JOBS at once (one per core,
# fewer when memory is short: tests/check-jobs), each as soon as what it needs is there,
# the critical path first (tests/check-run says which and why):
#   image-trees (mmdebstrap, needs no agent) and build (all, the unit, ASan and fuzz
#   binaries, the static x86_64 agent and, with an arm64 flavor, the aarch64 one) from the start; images (the agent packed into the
#   trees) after both; the VM tests after the images, longest first (CHECK_LONG_FIRST);
#   unit, unit-asan, fuzz and the tests that boot no VM after the build, in between.
# Each stage's wall and CPU seconds go to build/stages.txt (tests/timed); every VM boot
# (any qemu-system-* with a -kernel under the check) to build/boots.txt (boot-census);
# tests/summarize prints both as a table at the end.
CHECK_JOBS ?= $(shell tests/check-jobs)
INT_NAMES := $(basename $(notdir $(wildcard tests/integration/*.test)))
# the tests that find images the way VM tests do (the harness's environment, vm-images/,
# the vsock tests' library) wait for the images stage; the others start after the build
INT_IMAGE_NAMES := $(basename $(notdir $(shell grep -lE 'harness-env\.sh|vm-images|IMGDIR|vsock-lib\.sh' tests/integration/*.test 2>/dev/null)))
CHECK_LONG_FIRST := harness-suite deb-install differential harness-failures image-smoke build-deps \
	harness-signals harness-serial harness-canary harness-canary-fail html-report layers static faults
INT_ORDER := $(filter $(INT_NAMES),$(CHECK_LONG_FIRST)) $(filter-out $(CHECK_LONG_FIRST),$(INT_NAMES))
# CPU-heavy tests that boot no VM and time nothing run at a lower priority: what they need
# of the cores goes first to the package trees and the VMs, the check's critical path
CHECK_NICE := deb-install build-deps static

check-run:
	@mkdir -p $(B); rm -f $(B)/results.txt $(B)/boots.txt; [ ! -f $(B)/stages.txt ] || sed -i '/^deps /!d' $(B)/stages.txt
	@echo "== check: $(CHECK_JOBS) stages at once ($$(nproc) cores, $$(awk '/^MemAvailable:/ { printf "%.1f", $$2 / 1048576 }' /proc/meminfo) GiB available)"
	@CHECK_BUILD="all $(UNIT_STD) $(UNIT_ASAN) $(FUZZ_BINS) $(B)/static/x86_64/credscope $(if $(filter %-arm64,$(CHECK_FLAVORS)),$(B)/static/aarch64/credscope)" \
		CHECK_UNIT="$(UNIT_STD)" CHECK_ASAN="$(UNIT_ASAN)" CHECK_FUZZ="$(FUZZ_BINS)" FUZZ_SECONDS="$(FUZZ_SECONDS)" \
		CHECK_VM_TESTS="$(filter $(INT_IMAGE_NAMES),$(INT_ORDER))" \
		CHECK_OTHER_TESTS="$(filter-out $(INT_IMAGE_NAMES),$(INT_ORDER))" \
		CHECK_NICE="$(CHECK_NICE)" CHECK_FLAVORS="$(CHECK_FLAVORS)" tests/check-run $(CHECK_JOBS); rc=$$?; \
		CHECK_VM_TESTS="$(INT_IMAGE_NAMES)" tests/summarize $(B)/results.txt; exit $$rc

# `make soak N=20`: the VM suite (harness-suite.test's cases, -j2) N times in a row on the
# flavors in SOAK_IMAGES; one line per run, then the flaky cases (passed in some runs and
# failed in others); exit status non-zero if any run failed (tests/soak, docs/harness.md).
N ?= 20
SOAK_IMAGES ?= bookworm bookworm-backports trixie forky
.PHONY: soak
soak: all
	@tests/soak $(N) $(SOAK_IMAGES)

# `make differential`: the differential oracle (docs/differential.md): diffgen's adversarial
# cases booted on every flavor in DIFF_FLAVORS, the agent's prediction against what real
# PID 1 imported, "differential: N of M credentials agree". DIFF_SEED picks other inputs.
DIFF_FLAVORS ?= bookworm bookworm-backports trixie forky
.PHONY: differential
differential: all $(B)/static/x86_64/credscope
	@vm-images/build $(DIFF_FLAVORS)
	@tests/differential --min 1500 $(DIFF_FLAVORS)

images: $(B)/static/x86_64/credscope $(if $(filter %-arm64,$(FLAVOR)),$(B)/static/aarch64/credscope)
	@vm-images/build $(if $(FLAVOR),$(FLAVOR),bookworm trixie bookworm-backports forky)

# `make check-aarch64`: the default suite (tests/integration/cases/*.json) on the aarch64
# flavor trixie-arm64 (qemu-system-aarch64 -M virt, TCG, AAVMF), -j2, TAP with each run's
# SMBIOS entry point; the x86-only machine cases (pc, microvm) are explained skips.
# `make check` boots one aarch64 case (tests/integration/aarch64.test).
AARCH64_FLAVOR ?= trixie-arm64
.PHONY: check-aarch64 check-aarch64-run
check-aarch64:
	@ci/ensure-deps check-aarch64
	@$(MAKE) --no-print-directory check-aarch64-run
check-aarch64-run: all $(B)/static/aarch64/credscope
	@vm-images/build $(AARCH64_FLAVOR)
	@mkdir -p $(B); start=$$(date +%s); \
		$(B)/bin/credscope-harness run -j2 --accel tcg --tap --junit $(B)/aarch64-suite.xml --log-dir $(B)/aarch64-logs \
		--image-dir vm-images/out --images $(AARCH64_FLAVOR) tests/integration/cases/*.json > $(B)/aarch64-suite.tap; \
		rc=$$?; cat $(B)/aarch64-suite.tap; \
		echo "check-aarch64: default suite on $(AARCH64_FLAVOR) in $$(( $$(date +%s) - start )) s, harness exit $$rc"; \
		[ $$rc -eq 0 ] && ! grep -q '^not ok' $(B)/aarch64-suite.tap

demo:
	@ci/ensure-deps demo
	@$(MAKE) --no-print-directory demo-run
demo-run: all
	@tests/demo

bench: all
	@bench/run

# ---- install -------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(GENERATORDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1/
	for u in $(wildcard guest-agent/units/*); do \
		sed 's|@BINDIR@|$(BINDIR)|g' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u); done
	# the agent as a systemd generator: the verdict right after PID 1's import (credscope(1))
	ln -sfn $(BINDIR)/credscope $(DESTDIR)$(GENERATORDIR)/credscope-generator

# ---- static agent: make static -------------------------------------------------
# One statically linked agent per architecture, nothing needed at run time (for guests
# whatever their libc): build/static/ARCH/credscope, objects in build/static-obj/ARCH/.
# Same sources, warnings and -DCREDSCOPE_VERSION as build/bin/credscope; libraries are
# Debian's own static ones (libjansson.a, libcrypto.a, libblkid.a from the -dev packages;
# the arm64 ones through multiarch, ci/install-deps). docs/packaging.md has sizes and costs.
STATIC_ARCHS      ?= x86_64 aarch64
STATIC_CC_x86_64  ?= $(if $(filter x86_64,$(shell uname -m)),$(CC),x86_64-linux-gnu-gcc)
STATIC_CC_aarch64 ?= aarch64-linux-gnu-gcc
STATIC_SRC := guest-agent/main.c $(GUEST_SRC) $(COMMON_SRC)
# pkg-config of the target architecture: its multiarch .pc files only
static_pc = $(shell PKG_CONFIG_LIBDIR=/usr/lib/$(1)-linux-gnu/pkgconfig:/usr/share/pkgconfig pkg-config $(2) $(GUEST_PKGS) 2>/dev/null)
define static_arch
$(B)/static-obj/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(STATIC_CC_$(1)) $$(CPPFLAGS) $$(DEPFLAGS) -std=gnu11 $$(WARN) $$(CFLAGS) $$(call static_pc,$(1),--cflags) -c -o $$@ $$<
$(B)/static/$(1)/credscope: $$(call objs,static-obj/$(1),$$(STATIC_SRC))
	@mkdir -p $$(dir $$@)
	$$(STATIC_CC_$(1)) -std=gnu11 $$(CFLAGS) -static -o $$@ $$^ $$(call static_pc,$(1),--static --libs)
endef
$(foreach a,$(STATIC_ARCHS),$(eval $(call static_arch,$(a))))
.PHONY: static
static: $(foreach a,$(STATIC_ARCHS),$(B)/static/$(a)/credscope)

# ---- Debian packages: make deb -------------------------------------------------
# credscope (agent, units, credscope.1) and credscope-host (harness, launcher, their man
# pages), built by dpkg-buildpackage/debhelper from the packaging in ci/debian/ (the top
# level of the repository is fixed): the tracked files are copied to build/deb/SRC with
# ci/debian/ as debian/; the .debs and .changes land in build/deb/, then lintian checks them.
DEB_SRC := $(B)/deb/credscope-$(VERSION)
.PHONY: deb
deb:
	@v=$$(dpkg-parsechangelog -l ci/debian/changelog -S Version) && [ "$$v" = "$(VERSION)" ] || \
		{ echo "make deb: ci/debian/changelog is at $$v but VERSION is $(VERSION): add an entry (dch -c ci/debian/changelog -v $(VERSION))" >&2; exit 2; }
	rm -rf $(B)/deb && mkdir -p $(DEB_SRC)
	@# what `make` would compile: tracked files and new ones not ignored (a module not yet
	@# added is found by convention); not vm-images' foo.d/ folders: this Makefile
	@# includes every *.d found under build/
	git ls-files -z --cached --others --exclude-standard | xargs -0 sh -c 'for f; do case $$f in *.d/*) ;; *) [ -e "$$f" ] && printf "%s\0" "$$f";; esac; done' sh | \
		tar -c --null -T - -f - | tar -x -C $(DEB_SRC) -f -
	rm -rf $(DEB_SRC)/debian && cp -R ci/debian $(DEB_SRC)/debian
	cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning $(B)/deb/credscope_$(VERSION)_*.changes

clean:
	rm -rf $(B)
