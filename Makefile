# The two set-up commands of README.md: `make serve` and `make test`.
# Each creates .venv and installs the kit on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: serve test bench lint

$(BIN)/chutes-mock: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

serve: $(BIN)/chutes-mock
	$(BIN)/chutes-mock serve $(ARGS)

test: $(BIN)/chutes-mock
	bash scripts/test.sh

lint: $(BIN)/chutes-mock
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(BIN)/chutes-mock
	$(BIN)/python bench/bench_list.py $(ARGS)
