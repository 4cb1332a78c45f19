# Two commands do everything on a fresh Debian/Ubuntu machine: `make test` and `make demo`.
# Build outputs live under $HOME/.cache so that a fresh clone on a warm machine rebuilds nothing.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/timelock/target
export SBF_HOME ?= $(HOME)/.cache/sbf-offline
# Agave's validator links the system's OpenSSL instead of building one (5 minutes saved on a cold machine).
export OPENSSL_NO_VENDOR := 1
AGAVE_LOCALNET_BIN := $(CARGO_TARGET_DIR)/localnet/timelock-agave-localnet
CARGO ?= cargo

.PHONY: all toolchain build anchor-build localnet agave-localnet test test-agave schemathesis bench bench-setup demo idl client console chromium node fmt lint clippy clean

all: build

# Offline SBF toolchain (rustc 1.96 + std sources, sbpf-linker on LLVM 23): see docs/sbf-toolchain.md.
toolchain:
	scripts/sbf/setup-toolchain.sh

# target/deploy/timelock.so with the offline toolchain.
build:
	scripts/build-sbf.sh

# The standard route, for machines that have Solana's platform-tools.
anchor-build:
	mkdir -p target/deploy
	cp programs/timelock/program-keypair.json target/deploy/timelock-keypair.json
	anchor build

# The local chain of the demo and the end-to-end test: Solana's JSON-RPC over LiteSVM (tests/localnet), built
# from the crates the tests compile anyway.
localnet:
	$(CARGO) build --locked -p timelock-localnet

# Agave's test validator with the program (opt-in: ~350 more crates, built once on its own profile).
agave-localnet:
	scripts/localnet/setup.sh
	$(CARGO) build --locked --profile localnet -p timelock-localnet --features agave --bin timelock-agave-localnet

# Postgres: $$DATABASE_URL when set, otherwise a throwaway cluster (scripts/with-postgres.sh).
# The tests build the local chain's binary themselves (timelock-localnet has integration tests), with the same
# features as everything else: one cargo invocation, every shared crate compiled once.
test: build tests/ts/node_modules/.package-lock.json schemathesis console chromium
	scripts/with-postgres.sh $(CARGO) test --workspace --locked

# Schemathesis (pinned, PyPI) for the API fuzz tests, in a virtual environment under $HOME/.cache; a no-op once there.
schemathesis:
	scripts/schemathesis.sh install

# The end-to-end test on Agave's validator instead of the LiteSVM node: the fidelity check.
test-agave: build agave-localnet
	TIMELOCK_LOCALNET_BIN=$(AGAVE_LOCALNET_BIN) scripts/with-postgres.sh $(CARGO) test --locked -p timelock-tests --test e2e

# Node.js for the TypeScript interop test (tests/ts); installed from Debian when missing.
node:
	@command -v node >/dev/null && command -v npm >/dev/null || \
		{ $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y nodejs npm; }

tests/ts/node_modules/.package-lock.json: tests/ts/package-lock.json | node
	cd tests/ts && npm ci --no-audit --no-fund

# The web console's packages (web/), installed again only when its lock file changes.
web/node_modules/.package-lock.json: web/package-lock.json | node
	cd web && npm ci --no-audit --no-fund

# Regenerates the console's TypeScript client from the IDL (checked in; a test fails when it drifts).
client: web/node_modules/.package-lock.json
	cd web && npm run generate

# The console's static files (web/dist, typechecked first), which the indexer serves at /.
console: web/node_modules/.package-lock.json
	cd web && npm run build

# Debian's Chromium for the console's browser test (Playwright drives it; it never downloads a browser).
chromium:
	@[ -x /usr/bin/chromium ] || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || \
		{ $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }; }

# Regenerates the IDL from the program (checked in; a test fails when it drifts).
idl:
	$(CARGO) run --locked -p timelock-idl --bin timelock-idl

bench: build localnet console chromium
	$(CARGO) build --release --locked -p timelock-tools --bins
	$(CARGO_TARGET_DIR)/release/bench-cu
	scripts/with-postgres.sh $(CARGO_TARGET_DIR)/release/bench-oracle
	scripts/with-postgres.sh $(CARGO_TARGET_DIR)/release/bench-indexer
	scripts/with-postgres.sh $(CARGO_TARGET_DIR)/release/bench-localnet
	scripts/with-postgres.sh $(CARGO_TARGET_DIR)/release/bench-console

# Cold and warm `make test`/`make demo` from an empty cache: target/bench/setup.json (about 40 minutes on 2 cores).
bench-setup:
	scripts/bench-setup.sh

# The whole stack on a local validator: the lifecycle story, a summary from the indexer API, then the services
# stay up until Ctrl-C.
demo: build console
	$(CARGO) build --locked -p timelock-tools -p timelock-localnet --bin demo --bin timelock-localnet
	scripts/with-postgres.sh $(CARGO_TARGET_DIR)/debug/demo

fmt:
	$(CARGO) fmt --all

# What CI checks besides the tests: formatting as committed, and no clippy warning anywhere.
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

clippy:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

clean:
	rm -rf target $(CARGO_TARGET_DIR)
