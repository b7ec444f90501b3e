# cline-bridge developer tasks. Every install step is guarded by a stamp file, so each target is
# cheap to run again. Heavy test tools (Node 24, code-server, the Cline CLI) are cached per user,
# keyed by version, by scripts/install-e2e-tools.sh.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
CLIENT := vscode-client
NPM_STAMP := $(CLIENT)/node_modules/.installed
VSIX := $(CLIENT)/cline-bridge.vsix
EXTENSION_JS := $(CLIENT)/dist/extension.js
BUNDLE_LIBS := scripts/bundle_libs.py
# The VS Code target `make vsix` builds for: this machine's (linux-x64, darwin-arm64, ...).
ifndef VSIX_TARGET
VSIX_TARGET := $(shell $(PYTHON) $(BUNDLE_LIBS) --host-target 2>/dev/null)
endif
# Named after the target, so that building for another one rebuilds the bundle.
BUNDLE_STAMP := $(CLIENT)/bundled/.built-$(VSIX_TARGET)
# `make vsix-all`: one VSIX per target the Marketplace serves, each staged in its own folder.
VSIX_TARGETS := linux-x64 linux-arm64 darwin-x64 darwin-arm64 win32-x64
VSIX_DIR := $(CLIENT)/dist-vsix
STAGE_DIR := $(CLIENT)/targets
ALL_VSIX := $(VSIX_TARGETS:%=$(VSIX_DIR)/cline-bridge-%.vsix)
STAGE_STAMPS := $(VSIX_TARGETS:%=$(STAGE_DIR)/%/bundled/.built)
VSCE_PACKAGE := $(abspath $(CLIENT)/node_modules/.bin/vsce) package --no-dependencies \
	--allow-missing-repository --skip-license
# The package's folders too: a module deleted or moved changes its folder, and the bundle must follow.
SERVER_SOURCES := $(shell find server/cline_bridge -name __pycache__ -prune -o \( -type d -o -name '*.py' -o -name py.typed \) -print)
CLIENT_SOURCES := $(shell find $(CLIENT)/src -name '*.ts' 2>/dev/null) $(CLIENT)/package.json $(CLIENT)/tsconfig.json
PYTEST_ARGS ?=
PYTEST_WORKERS ?= auto

.PHONY: install run test test-client test-python e2e-tools lint format bench vsix vsix-all vsix-all-files dist clean

install: $(PY_STAMP) $(NPM_STAMP)

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m compileall -q server tests
	touch $@

$(NPM_STAMP): $(CLIENT)/package.json $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund
	touch $@

# The VSIX carries the sidecar and its dependencies for every CPython 3.10-3.13 of its target, as
# the VS Code Python tools template does for one: libs/<abi> then libs/common go on PYTHONPATH at
# launch. scripts/bundle_libs.py builds them from the registry's wheels for that target.
$(BUNDLE_STAMP): $(PY_STAMP) pyproject.toml $(SERVER_SOURCES) $(BUNDLE_LIBS)
	@[ -n "$(VSIX_TARGET)" ] || $(PY) $(BUNDLE_LIBS) --host-target
	$(PY) $(BUNDLE_LIBS) --target $(VSIX_TARGET) --out $(CLIENT)/bundled
	touch $@

$(EXTENSION_JS): $(NPM_STAMP) $(CLIENT_SOURCES)
	cd $(CLIENT) && npm run build

$(VSIX): $(NPM_STAMP) $(BUNDLE_STAMP) $(EXTENSION_JS) $(CLIENT)/package.json $(CLIENT)/README.md \
		$(CLIENT)/.vscodeignore
	cd $(CLIENT) && $(VSCE_PACKAGE) --target $(VSIX_TARGET) -o cline-bridge.vsix

vsix: $(VSIX)

# Each other target is packaged from a folder of its own holding what the VSIX takes from the
# client's (see .vscodeignore), so that the bundles of the five never mix.
$(STAGE_DIR)/%/bundled/.built: $(PY_STAMP) pyproject.toml $(SERVER_SOURCES) $(BUNDLE_LIBS)
	$(PY) $(BUNDLE_LIBS) --target $* --out $(STAGE_DIR)/$*/bundled
	touch $@

$(VSIX_DIR)/cline-bridge-%.vsix: $(NPM_STAMP) $(STAGE_DIR)/%/bundled/.built $(EXTENSION_JS) \
		$(CLIENT)/package.json $(CLIENT)/README.md $(CLIENT)/.vscodeignore
	mkdir -p $(STAGE_DIR)/$*/dist $(VSIX_DIR)
	cp $(EXTENSION_JS) $(STAGE_DIR)/$*/dist/
	cp $(CLIENT)/package.json $(CLIENT)/README.md $(CLIENT)/.vscodeignore $(STAGE_DIR)/$*/
	cd $(STAGE_DIR)/$* && $(VSCE_PACKAGE) --target $* -o $(abspath $@)

# This machine's target is the VSIX `make vsix` builds: the same files, the same --target.
$(VSIX_DIR)/cline-bridge-$(VSIX_TARGET).vsix: $(VSIX)
	mkdir -p $(VSIX_DIR)
	cp $< $@

# Two at a time: a bundle is mostly pip unpacking wheels and vsce zipping, each on one core.
VSIX_JOBS ?= 2
vsix-all:
	@$(MAKE) --no-print-directory -j$(VSIX_JOBS) vsix-all-files

vsix-all-files: $(ALL_VSIX)
	@:

# The stamps are reached through a pattern only: without this, make would delete them as
# intermediate files, and rebuild a bundle whenever its VSIX is repackaged (a client change).
.SECONDARY: $(STAGE_STAMPS)

e2e-tools:
	bash scripts/install-e2e-tools.sh

run: $(VSIX)
	bash scripts/run-vscode.sh $(VSIX)

test-client: $(NPM_STAMP)
	cd $(CLIENT) && npm test

# Most tests run on every core (pytest-xdist); the code-server ones (marked alone: each takes
# about 1 GB) one at a time, after them. The package is compiled first, as pip compiles an
# installed one: with PYTHONDONTWRITEBYTECODE set, each of the suite's hundreds of sidecars and
# commands would otherwise compile every module it imports, about 30 s of CPU in all (`make
# install` compiles it once already, so that the __pycache__ folders exist before the bundles,
# whose prerequisites are the package's folders, are built). Exit status 5 is "no test
# selected", for a PYTEST_ARGS that names tests of one kind only.
test-python: $(PY_STAMP) $(VSIX) vsix-all e2e-tools
	$(PY) -m compileall -q server tests
	$(PY) -m pytest -m "not alone" -n $(PYTEST_WORKERS) $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(PY) -m pytest -m alone $(PYTEST_ARGS) || [ $$? -eq 5 ]

test: test-client test-python

lint: $(PY_STAMP) $(NPM_STAMP)
	$(PY) -m ruff check server tests benchmarks scripts
	$(PY) -m ruff format --check server tests benchmarks scripts
	$(PY) -m mypy
	cd $(CLIENT) && npm run check

format: $(PY_STAMP)
	$(PY) -m ruff format server tests benchmarks scripts
	$(PY) -m ruff check --fix server tests benchmarks scripts

bench: $(PY_STAMP) $(VSIX) e2e-tools
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) $(CLIENT)/node_modules $(CLIENT)/dist $(CLIENT)/bundled $(CLIENT)/out $(VSIX) \
		$(VSIX_DIR) $(STAGE_DIR) dist \
		.pytest_cache .mypy_cache .ruff_cache build server/*.egg-info

# The sdist and the wheel for PyPI, in dist/, checked as PyPI checks them. build makes the wheel
# from the unpacked sdist: a file the sdist lacks fails here, and setuptools' build/ folder, which
# keeps the modules of earlier builds, stays out of the wheel.
dist: $(PY_STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*
