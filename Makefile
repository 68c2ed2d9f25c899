# The README's two commands: `make demo` and `make test`. Both install missing Debian
# packages first (scripts/setup-deps.sh), then configure and build incrementally.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

# make fuzz: the libFuzzer targets of tests/fuzz (docs/SECURITY.md), built with clang and
# the sanitizers in their own tree, each run in turn for FUZZ_RUNS inputs or FUZZ_SECONDS
# seconds, whichever comes first. New inputs go to $(FUZZ_BUILD)/corpus/<name>, crashes to
# $(FUZZ_BUILD)/artifacts/<name>/ (save reproducers under tests/fuzz/regressions/<name>/).
# `make test` needs none of this: it replays the corpus and the regressions with any compiler.
FUZZ_BUILD ?= $(BUILD)/fuzz
FUZZ_TARGETS ?= npy idx onnx shape_infer
FUZZ_RUNS ?= 100000
FUZZ_SECONDS ?= 120
FUZZ_RSS_MB ?= 2048
FUZZ_JOBS ?= 2
FUZZ_CC ?= clang-16
FUZZ_CXX ?= clang++-16
FUZZ_FLAGS ?=
FUZZ_SANITIZE := -fsanitize=fuzzer-no-link -fno-sanitize-recover=all -Wno-unknown-warning-option

.PHONY: all setup configure build demo test install clean fuzz fuzz-build

all: build

setup:
	@scripts/setup-deps.sh

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DTERN_WERROR=ON $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(BUILD)/bin/tern demo --model sdk/examples/models/convnet.onnx

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

install: build
	@cmake --install $(BUILD) --prefix $(or $(PREFIX),/usr/local)

fuzz-build:
	@scripts/setup-deps.sh --fuzz
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_C_COMPILER=$(FUZZ_CC) -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTERN_FUZZ=ON -DTERN_WITH_SANITIZERS=ON -DTERN_WITH_CUDA=OFF -DTERN_BUILD_PYTHON=OFF \
	  "-DCMAKE_C_FLAGS=$(FUZZ_SANITIZE)" "-DCMAKE_CXX_FLAGS=$(FUZZ_SANITIZE)" >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(FUZZ_JOBS) --target tern-onnx $(addprefix tern_fuzz_,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@set -e; for name in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$name $(FUZZ_BUILD)/artifacts/$$name; \
	  dict=; [ -f tests/fuzz/$$name.dict ] && dict=-dict=tests/fuzz/$$name.dict; \
	  echo "fuzz: $$name ($(FUZZ_RUNS) runs or $(FUZZ_SECONDS) s)"; \
	  $(FUZZ_BUILD)/bin/tern_fuzz_$$name -runs=$(FUZZ_RUNS) -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=$(FUZZ_RSS_MB) -timeout=30 -print_final_stats=1 $$dict \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$name/ $(FUZZ_FLAGS) \
	    $(FUZZ_BUILD)/corpus/$$name tests/fuzz/corpus/$$name tests/fuzz/regressions/$$name; \
	done

clean:
	rm -rf $(BUILD)
