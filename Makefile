# PrefLens: `make demo` sets everything up and runs the demo; `make test` sets up and runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.preflens-installed
EXTRAS ?= train,api,dashboard,dev

.PHONY: install model demo test test-all lint clean

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

clean:
	rm -rf $(VENV) .preflens .pytest_cache
