# roomd's entry points. `make run` starts the server on 127.0.0.1:3000 with config.toml;
# `make test` runs every test (Rust unit and integration tests, then the end-to-end tests
# with the official socket.io-client).

CARGO ?= cargo
CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR

CONFIG ?= config.toml

.PHONY: run build test test-rust test-js js-deps clean

run:
	$(CARGO) run --release --bin roomd -- --config $(CONFIG)

build:
	$(CARGO) build --workspace --all-targets

test: test-rust test-js

test-rust:
	$(CARGO) test --workspace

js-deps: tests/js/node_modules/.package-lock.json

tests/js/node_modules/.package-lock.json: tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund

test-js: js-deps
	$(CARGO) build --bin roomd
	cd tests/js && ROOMD_BIN=$(CARGO_TARGET_DIR)/debug/roomd npm test

clean:
	$(CARGO) clean
	rm -rf tests/js/node_modules
