# roomd's entry points.
#   make run      build the plugins and start roomd with config.toml on 127.0.0.1:3000
#   make test     every test: Rust unit + integration tests (they build the test plugins),
#                 then the end-to-end tests with the official socket.io-client
#   make plugins  build every plugin for wasm32-wasip2 into plugins/dist and tests/plugins/dist
#   make bench    the end-to-end benchmarks (QUICK=1 for a reduced set)

CARGO ?= cargo
CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR

CONFIG ?= config.toml
WASM_TARGET := wasm32-wasip2
WASM_OUT := $(CARGO_TARGET_DIR)/$(WASM_TARGET)/plugin

# Plugin crates: folder name under plugins/ or tests/plugins/ = package suffix.
PLUGINS := $(patsubst plugins/%/Cargo.toml,%,$(wildcard plugins/*/Cargo.toml))
TEST_PLUGINS := $(patsubst tests/plugins/%/Cargo.toml,%,$(wildcard tests/plugins/*/Cargo.toml))

.PHONY: run build test test-rust test-js js-deps web-deps browser plugins wasm-target bench clean

run: plugins web-deps
	$(CARGO) run --release -p roomd --bin roomd -- --config $(CONFIG)

# The chat page's socket.io-client, from npm.
web-deps: host/web/node_modules/.package-lock.json

host/web/node_modules/.package-lock.json: host/web/package.json host/web/package-lock.json
	cd host/web && npm ci --no-audit --no-fund

# Debian's Chromium for the browser test (playwright-core drives it; it never downloads one).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

build:
	$(CARGO) build --workspace --all-targets

wasm-target:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

plugins: wasm-target
	$(CARGO) build --profile plugin --target $(WASM_TARGET) \
		$(foreach p,$(PLUGINS),-p roomd-plugin-$(p)) $(foreach p,$(TEST_PLUGINS),-p test-plugin-$(p))
	@mkdir -p plugins/dist tests/plugins/dist
	@for p in $(PLUGINS); do cp $(WASM_OUT)/roomd_plugin_$$(echo $$p | tr - _).wasm plugins/dist/$$p.wasm; done
	@for p in $(TEST_PLUGINS); do cp $(WASM_OUT)/test_plugin_$$(echo $$p | tr - _).wasm tests/plugins/dist/$$p.wasm; done
	@echo "plugins built: $(PLUGINS) $(TEST_PLUGINS)"

test: test-rust test-js

test-rust: wasm-target
	$(CARGO) test --workspace

js-deps: tests/js/node_modules/.package-lock.json

tests/js/node_modules/.package-lock.json: tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund

test-js: js-deps web-deps plugins browser
	$(CARGO) build --bin roomd
	cd tests/js && ROOMD_BIN=$(CARGO_TARGET_DIR)/debug/roomd npm test

# Benchmarks: roomd against Node socket.io, socketioxide and a bare WebSocket ceiling,
# servers pinned to core 0 and the load generator to core 1. `make bench QUICK=1` runs a
# reduced set. Results: $(CARGO_TARGET_DIR)/bench/results.json.
# roomd is built on its own, as `make run` builds it: built together with the load
# generator, its dependencies' features would be unified with theirs and `make run` would
# relink it (minutes, with LTO).
bench: plugins
	$(CARGO) build --release -p roomd --bins
	$(CARGO) build --release -p roomd-loadgen -p roomd-bench-raw --bins
	cd tests/bench/peers/socketioxide && $(CARGO) build --release
	cd tests/bench/peers/node && npm ci --no-audit --no-fund
	python3 tests/bench/bench.py $(if $(QUICK),--quick)

clean:
	$(CARGO) clean
	rm -rf tests/js/node_modules host/web/node_modules plugins/dist tests/plugins/dist
