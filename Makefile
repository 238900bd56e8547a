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

.PHONY: install up test test-unit test-integration test-e2e test-slow browser
install: $(STAMP)

browser: $(WIDGET)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium; } >/dev/null 2>&1 \
		|| echo "Chromium could not be installed: the widget test will be skipped"

up: $(STAMP)
	$(VENV)/bin/ocs up $(ARGS)

test: $(STAMP) browser
	$(VENV)/bin/pytest $(ARGS)

test-unit: $(STAMP)
	$(VENV)/bin/pytest tests/unit $(ARGS)

test-integration: $(STAMP)
	$(VENV)/bin/pytest tests/integration $(ARGS)

test-e2e: $(STAMP) browser
	$(VENV)/bin/pytest tests/e2e $(ARGS)

test-slow: $(STAMP)
	$(VENV)/bin/pytest -m slow $(ARGS)
