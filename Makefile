# sybilwatch: the one entry point.
#   make deps     install build and test dependencies (Debian 12, apt-get; idempotent)
#   make          build build/bin/sybilwatch and the libraries
#   make test     build and run every test: release build, then an ASan+UBSan build with the
#                 fuzz targets' smoke runs
#   make demo     (root) install, build, and watch account farms being found live in a lab of
#                 network namespaces: 2 min of traffic, results kept in build/demo (docs/demo.md;
#                 options through DEMO_ARGS, e.g. DEMO_ARGS="--duration 60 --no-live")
#   make bench    benchmarks, side by side with tshark and p0f
#   make install  install (PREFIX=/usr/local, DESTDIR=, SYSCONFDIR=/etc; docs/install.md)

BUILD      ?= build
SAN_BUILD  ?= build-asan
JOBS       ?= $(shell nproc)
PREFIX     ?= /usr/local
DESTDIR    ?=
SYSCONFDIR ?= /etc
FUZZ_SECONDS ?= 20
DEMO_ARGS  ?=
CMAKE_FLAGS ?=

# Debian packages: toolchain and libraries, then the real peers the tests run against.
DEPS_BUILD := build-essential cmake ninja-build pkg-config clang llvm lld libclang-rt-14-dev \
	clang-format libpcap-dev libssl-dev libbpf-dev bpftool libelf-dev zlib1g-dev \
	libspdlog-dev libfmt-dev libyaml-cpp-dev libre2-dev libsystemd-dev nlohmann-json3-dev \
	libgtest-dev libgmock-dev libbenchmark-dev \
	libcurl4-openssl-dev libcap-dev
DEPS_TEST := python3 tshark p0f tcpdump tcpreplay nginx openssl curl gnutls-bin \
	rsyslog rsyslog-gnutls iproute2 ethtool nodejs default-jdk-headless chromium
DEPS := $(DEPS_BUILD) $(DEPS_TEST)

.PHONY: all deps configure test test-release test-sanitize demo bench install format \
	format-check clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure: $(BUILD)/build.ninja
$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

deps:
	@missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
		echo "make deps: all $(words $(DEPS)) packages present"; \
	fi

test: deps
	$(MAKE) test-release
	$(MAKE) test-sanitize

test-release: all format-check
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Unit tests and fuzz smoke runs under AddressSanitizer + UndefinedBehaviorSanitizer (clang,
# which libFuzzer needs). Tests that need root or the release binary run in test-release.
test-sanitize:
	CC=clang CXX=clang++ cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
		-DSW_SANITIZE=ON -DSW_FUZZ=ON -DSW_FUZZ_SECONDS=$(FUZZ_SECONDS) $(CMAKE_FLAGS)
	cmake --build $(SAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir $(SAN_BUILD) --output-on-failure -j $(JOBS)

# Root is checked before anything is installed or built: the lab is network namespaces and the
# daemon loads BPF programs, so without it the demo could only fail after minutes of building.
demo:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make demo: needs root (network namespaces and BPF): sudo make demo" >&2; exit 1; fi
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	python3 tests/lab/demo.py --bin $(BUILD)/bin --results $(BUILD)/demo $(DEMO_ARGS)

bench: all
	bench/run.sh $(BUILD)

# The configuration goes to $(SYSCONFDIR)/sybilwatch/sybilwatch.yaml, /etc by default whatever the
# PREFIX: that is where the docs, the unit and operators look for it (SYSCONFDIR=/usr/local/etc
# for the GNU layout). An existing, edited file is kept; the default goes beside it as .new.
# Installed for real (no DESTDIR) as root on a systemd host, the sybilwatch user, its
# directories and the unit are put in place at once; else the commands are printed.
install: all
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_SYSCONFDIR=$(SYSCONFDIR) >/dev/null
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)
	@set -e; lib=$(PREFIX)/lib; \
	post="systemd-sysusers $$lib/sysusers.d/sybilwatch.conf; \
	systemd-tmpfiles --create $$lib/tmpfiles.d/sybilwatch.conf; systemctl daemon-reload"; \
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && [ -d /run/systemd/system ]; then \
		echo "make install: $$post"; sh -c "$$post"; \
	else \
		echo "make install: on the target host, as root: $$post"; \
	fi
	@echo "make install: then: systemctl enable --now sybilwatchd (see docs/install.md)"

format:
	git ls-files '*.cpp' '*.hpp' '*.c' '*.h' | xargs clang-format -i

format-check:
	git ls-files '*.cpp' '*.hpp' '*.c' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
