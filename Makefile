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

.PHONY: install up test test-unit test-integration test-e2e test-slow
install: $(STAMP)

up: $(STAMP)
	$(VENV)/bin/ocs up $(ARGS)

test: $(STAMP)
	$(VENV)/bin/pytest $(ARGS)

test-unit: $(STAMP)
	$(VENV)/bin/pytest tests/unit $(ARGS)

test-integration: $(STAMP)
	$(VENV)/bin/pytest tests/integration $(ARGS)

test-e2e: $(STAMP)
	$(VENV)/bin/pytest tests/e2e $(ARGS)

test-slow: $(STAMP)
	$(VENV)/bin/pytest -m slow $(ARGS)
