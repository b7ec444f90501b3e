# cline-bridge developer tasks. Every install step is guarded by a stamp file, so each target is
# cheap to run again. Heavy test tools (Node 24, code-server, the Cline CLI) are cached per user,
# keyed by version, by scripts/install-e2e-tools.sh.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
CLIENT := vscode-client
NPM_STAMP := $(CLIENT)/node_modules/.installed
BUNDLE_STAMP := $(CLIENT)/bundled/.installed
VSIX := $(CLIENT)/cline-bridge.vsix
# The package's folders too: a module deleted or moved changes its folder, and the bundle must follow.
SERVER_SOURCES := $(shell find server/cline_bridge -name __pycache__ -prune -o \( -type d -o -name '*.py' -o -name py.typed \) -print)
CLIENT_SOURCES := $(shell find $(CLIENT)/src -name '*.ts' 2>/dev/null) $(CLIENT)/package.json $(CLIENT)/tsconfig.json
PYTEST_ARGS ?=
PYTEST_WORKERS ?= auto

.PHONY: install run test test-client test-python e2e-tools lint format bench vsix clean

install: $(PY_STAMP) $(NPM_STAMP)

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(NPM_STAMP): $(CLIENT)/package.json $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund
	touch $@

# The VSIX carries the sidecar and its dependencies for the build platform, as the VS Code Python
# tools template does: a plain (non-editable) install into bundled/libs, put on PYTHONPATH at launch.
# setuptools' build/ folder keeps the modules of earlier builds, moved or deleted ones included:
# without removing it, the bundle would carry them too.
$(BUNDLE_STAMP): $(PY_STAMP) pyproject.toml $(SERVER_SOURCES)
	rm -rf $(CLIENT)/bundled build
	$(PY) -m pip install --quiet --no-compile --target $(CLIENT)/bundled/libs .
	touch $@

$(VSIX): $(NPM_STAMP) $(BUNDLE_STAMP) $(CLIENT_SOURCES)
	cd $(CLIENT) && npm run package

vsix: $(VSIX)

e2e-tools:
	bash scripts/install-e2e-tools.sh

run: $(VSIX)
	bash scripts/run-vscode.sh $(VSIX)

test-client: $(NPM_STAMP)
	cd $(CLIENT) && npm test

# The tiers without an editor run on every core (pytest-xdist); the editors (marked e2e: a
# code-server takes about 1 GB) one at a time, after them. Exit status 5 is "no test selected",
# for a PYTEST_ARGS that names tests of one kind only.
test-python: $(PY_STAMP) $(VSIX) e2e-tools
	$(PY) -m pytest -m "not e2e" -n $(PYTEST_WORKERS) $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(PY) -m pytest -m e2e $(PYTEST_ARGS) || [ $$? -eq 5 ]

test: test-client test-python

lint: $(PY_STAMP) $(NPM_STAMP)
	$(PY) -m ruff check server tests benchmarks
	$(PY) -m ruff format --check server tests benchmarks
	$(PY) -m mypy
	cd $(CLIENT) && npm run check

format: $(PY_STAMP)
	$(PY) -m ruff format server tests benchmarks
	$(PY) -m ruff check --fix server tests benchmarks

bench: $(PY_STAMP) $(VSIX) e2e-tools
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) $(CLIENT)/node_modules $(CLIENT)/dist $(CLIENT)/bundled $(CLIENT)/out $(VSIX) \
		.pytest_cache .mypy_cache .ruff_cache build server/*.egg-info
