# The front door. `make demo` and `make test` are the two commands a new user needs.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
GENERATOR   = $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build demo test test-asan fuzz bench install clean

all: build

deps:
	@tools/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@tools/demo.sh $(BUILD)/onepath

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

$(BUILD_ASAN)/CMakeCache.txt:
	cmake -S . -B $(BUILD_ASAN) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DONEPATH_SANITIZE=ON

test-asan: deps $(BUILD_ASAN)/CMakeCache.txt
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)

# The mutation fuzzer, sanitized, longer than the bounded run in the tests, a random seed
# (FUZZ_SEED, FUZZ_CASES to choose); a failing input is kept in tests/fuzz/corpus/.
fuzz: deps $(BUILD_ASAN)/CMakeCache.txt
	cmake --build $(BUILD_ASAN) -j $(JOBS) --target onepath_fuzz
	@tools/fuzz.sh $(BUILD_ASAN)

# The program, the shipped plugins and the plugin SDK (headers, CMake package, pkg-config).
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	@tools/bench.sh $(BUILD)/onepath

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
