# PrefLens: `make demo` sets everything up and runs the demo; `make test` sets up and runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.preflens-installed
EXTRAS ?= train,api,dashboard,dev,docs

.PHONY: install model demo test test-all lint clean gpu-wheels docs docs-serve docs-ref docs-check screenshots

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

model: install
	$(BIN)/preflens model pull

demo: model
	$(BIN)/preflens demo

test: model
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

test-all: model
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m ''

lint: install
	$(BIN)/ruff check .

# Wheels the GPU benchmark installs on the device machine (bench/gpu_run.sh); git-ignored.
gpu-wheels: install
	PYTHON=$(BIN)/python bench/gpu_wheels.sh

# The documentation site (mkdocs.yml): built offline into site/, every warning an error.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# Reference pages generated from the parser, the settings and the OpenAPI schema:
# docs-ref rewrites them, docs-check fails (with a diff) when one is stale.
docs-ref: install
	$(BIN)/python -m docs.gen.reference

docs-check: install
	$(BIN)/python -m docs.gen.reference --check

# docs/images/*.png from a real dashboard over the browser test's store (Debian chromium).
screenshots: install
	$(BIN)/python -m docs.gen.screenshots

clean:
	rm -rf $(VENV) .preflens .pytest_cache site
