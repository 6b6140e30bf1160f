# Thin wrapper over CMake. `make demo` and `make test` are the README's two
# commands; both install missing Debian packages first.
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
ARM64_BUILD ?= build-arm64
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

# The Python package's test venv (make test-python): Debian's python3 when
# there is one (python3-venv / python3-dev from scripts/install-deps.sh).
PYTHON ?= $(shell [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)
PY_VENV ?= $(BUILD)/venv-python
empty :=
space := $(empty) $(empty)

.PHONY: all deps build demo test test-python test-asan test-tsan test-arm64 fuzz fixtures fixtures-large bench clean

all: build

# SKIP_DEPS=1 skips the package step (packages installed by other means).
deps:
	@if [ "$(SKIP_DEPS)" = 1 ]; then echo "deps: skipped (SKIP_DEPS=1)"; else bash scripts/install-deps.sh; fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

DEMO_MODEL = tests/fixtures/mlp
# the case's tolerance ("tolerance" in $(DEMO_MODEL)/case.json)
DEMO_RTOL = 1e-4
DEMO_ATOL = 1e-4

# The run compares its output with PyTorch eager's (expected_0.npy beside the
# model): PASS or FAIL, and exit status 3 on a mismatch.
demo: build
	./$(BUILD)/cml inspect $(DEMO_MODEL)/model.pte
	@echo "== run, and is the answer right? (cml's output against PyTorch eager's expected_0.npy)"
	./$(BUILD)/cml run $(DEMO_MODEL)/model.pte --input $(DEMO_MODEL)/input_0.npy \
		--output-dir $(BUILD)/demo-out --compare $(DEMO_MODEL) --rtol $(DEMO_RTOL) --atol $(DEMO_ATOL)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory test-python SKIP_DEPS=1

# The Python package (pyproject.toml, python/cml): a venv under the build
# dir, numpy and pytest (and the build backend, scikit-build-core, with
# ninja) from PyPI, `pip install .`, then pytest over tests/python, which
# runs every fixture through both APIs (it needs $(BUILD)/cml for `cml
# extract`). The build runs in the venv (no isolated build environment) with
# its CMake build dir kept under $(BUILD), so a rerun only rebuilds what
# changed.
test-python: build
	@[ -x $(PY_VENV)/bin/python ] || $(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/python -m pip install -q numpy pytest scikit-build-core ninja
	SKBUILD_BUILD_DIR=$(CURDIR)/$(BUILD)/python-build SKBUILD_CMAKE_ARGS="$(subst $(space),;,$(strip $(CMAKE_FLAGS)))" \
		$(PY_VENV)/bin/python -m pip install -q --no-build-isolation .
	CML_CLI=$(CURDIR)/$(BUILD)/cml $(PY_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/python

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCML_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# ThreadSanitizer over the concurrency test (one program, many threads).
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCML_TSAN=ON $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target test_threads
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --test-dir $(TSAN_BUILD) --output-on-failure -R '^test_threads$$'

# aarch64: cross-compiled with Debian's toolchain against the arm64
# multiarch libraries (cmake/aarch64-linux-gnu.cmake), every test run under
# qemu-aarch64 (the NEON kernels and, at every ISA level, the scalar ones).
test-arm64:
	@if [ "$(SKIP_DEPS)" = 1 ]; then echo "deps: skipped (SKIP_DEPS=1)"; else bash scripts/install-deps.sh --arm64; fi
	cmake -S . -B $(ARM64_BUILD) -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/aarch64-linux-gnu.cmake $(CMAKE_FLAGS)
	cmake --build $(ARM64_BUILD) -j $(JOBS)
	# one emulated test at a time: two qemu processes whose thread pools spin
	# on a 2-core machine starved each other (a 12 s test ran past 600 s).
	# The emulated run needs a qemu-user that can start threads: on some
	# hosts qemu 7.2 hangs in pthread_create of a dynamically linked aarch64
	# binary (scripts/qemu-probe.sh); there only the cross build is checked.
	@if bash scripts/qemu-probe.sh $(ARM64_BUILD); then \
		ctest --test-dir $(ARM64_BUILD) --output-on-failure -j 1 --timeout 1200; \
	else \
		echo "test-arm64: SKIPPED the emulated run: this host's qemu-user cannot start threads (see above); the aarch64 build passed"; \
	fi

# libFuzzer targets (tests/fuzz), seeded from the fixtures, FUZZ_SECONDS each;
# fails if any target finds a crash, leak, UBSan report or timeout.
fuzz:
	@bash scripts/install-deps.sh --fuzz
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCML_FUZZ=ON $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all cml_cli
	bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fixtures:
	bash tools/fixtures/make_fixtures.sh

fixtures-large:
	bash tools/fixtures/make_fixtures.sh --large

bench: build
	CML=./$(BUILD)/cml bash bench/run_benchmarks.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(ARM64_BUILD) $(FUZZ_BUILD)
