# The two commands of the README: `make up` runs the stack, `make test` runs the tests.
# Each creates the virtual environment (.venv) and installs the project into it first.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[local,test]'
	rm -f $(VENV)/.installed-*
	touch $@

# The widget end-to-end test drives the published npm widget in Debian's Chromium; each is installed
# when it can be, and the test says why it is skipped when it cannot.
WIDGET := tests/e2e/widget/node_modules/.package-lock.json

$(WIDGET): tests/e2e/widget/package.json tests/e2e/widget/package-lock.json
	cd tests/e2e/widget && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
		|| echo "npm install failed: the widget test will be skipped"

# The AsyncAPI document is validated by the AsyncAPI project's own parser (npm `@asyncapi/parser`, run by node);
# the test says why it is skipped when npm could not install it.
ASYNCAPI_PARSER := tests/asyncapi/node_modules/.package-lock.json

$(ASYNCAPI_PARSER): tests/asyncapi/package.json tests/asyncapi/package-lock.json
	cd tests/asyncapi && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
		|| echo "npm install failed: the AsyncAPI validation test will be skipped"

.PHONY: install up test imports test-unit test-integration test-e2e test-slow browser asyncapi-parser bench
install: $(STAMP)

asyncapi-parser: $(ASYNCAPI_PARSER)

browser: $(WIDGET)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium; } >/dev/null 2>&1 \
		|| echo "Chromium could not be installed: the widget test will be skipped"

# The integration tests also run on the PostgreSQL event store, in throwaway clusters they start themselves
# (tests/postgres.py); Debian's server is installed when it can be, and those tests say why they are skipped
# when it cannot.
.PHONY: postgres
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >/dev/null 2>&1 \
		|| echo "PostgreSQL could not be installed: the integration tests on it will be skipped"

up: $(STAMP)
	$(VENV)/bin/ocs up $(ARGS)

# The import rules (docs/architecture.md, contracts in pyproject.toml) first: a wrong import fails the run.
test: $(STAMP) browser asyncapi-parser postgres
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest $(ARGS)

imports: $(STAMP)
	$(VENV)/bin/lint-imports

test-unit: $(STAMP) asyncapi-parser
	$(VENV)/bin/pytest tests/unit $(ARGS)

test-integration: $(STAMP) postgres
	$(VENV)/bin/pytest tests/integration $(ARGS)

test-e2e: $(STAMP) browser
	$(VENV)/bin/pytest tests/e2e $(ARGS)

test-slow: $(STAMP)
	$(VENV)/bin/pytest -m slow $(ARGS)

# The benchmark harness of issue 7 (bench/README.md): `make bench ARGS="--duration 60 --users 10"`.
BENCH_STAMP := $(VENV)/.bench-$(shell cksum pyproject.toml | cut -d' ' -f1)

$(BENCH_STAMP): $(STAMP)
	$(VENV)/bin/pip install --quiet -e '.[local,test,bench]'
	rm -f $(VENV)/.bench-*
	touch $@

bench: $(BENCH_STAMP)
	$(VENV)/bin/python -m bench.run $(ARGS)
