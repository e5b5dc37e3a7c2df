# Two commands for a fresh machine: `make serve` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# pillow-simd compiles from source; its SIMD paths need the compiler told which CPU features exist.
SIMD_FLAGS := $(shell grep -q avx2 /proc/cpuinfo 2>/dev/null && echo -mavx2 || (grep -q sse4_2 /proc/cpuinfo 2>/dev/null && echo -msse4.2))
PILLOW_CC := cc $(SIMD_FLAGS)

.PHONY: install install-test serve test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	CC="$(PILLOW_CC)" $(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	CC="$(PILLOW_CC)" $(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

serve: install
	$(BIN)/linkarchive serve

test: install-test
	$(BIN)/python -m pytest

bench: install-test
	$(BIN)/python bench/run_all.py

lint: install-test
	$(BIN)/ruff check linkarchive tests bench

clean:
	rm -rf $(VENV) build *.egg-info
