# The README's commands. Each creates (or reuses) .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test

.PHONY: tour test lint bench clean graphviz clang fuzz

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,distributed]'
	touch $(STAMP)

$(VENV)/.installed-core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

tour: $(VENV)/.installed-core
	$(BIN)/python -m ember tour

# Graphviz's dot renders ember.viz pictures (tested); installed from Debian's packages when possible
graphviz:
	@command -v dot >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) || \
		echo "note: Graphviz's dot is not installed; graph-rendering tests will be skipped"; }

test: $(STAMP) graphviz
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/mypy  # mypy.ini: src/ember
	$(BIN)/python -m pytest

# The differential fuzzers: FUZZ_N seeded programs against torch (mismatches counted by category), then the
# same programs compiled against eager ember (bit for bit)
FUZZ_N ?= 100000
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz --n $(FUZZ_N) --seed $(or $(FUZZ_SEED),0)
	$(BIN)/python -m tests.fuzz.compiled --n $(FUZZ_N) --seed $(or $(FUZZ_SEED),0)
	$(BIN)/python -m tests.fuzz.compiled --n $(FUZZ_N) --seed $(or $(FUZZ_SEED),0) --outside

$(VENV)/.installed-bench: pyproject.toml $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $@

# tinygrad's CPU backend compiles with clang; without it tinygrad's rows report an error
clang:
	@command -v clang >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && apt-get install -y -qq clang >/dev/null) || \
		echo "note: clang is not installed; tinygrad will not run"; }

bench: $(VENV)/.installed-bench clang
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
