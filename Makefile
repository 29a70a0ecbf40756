# The two set-up commands of README.md: `make serve` and `make test`
# (`make check` is its quicker first half: lint and the conformance checks).
# Each creates .venv and installs the kit on first use, at the versions
# pinned in constraints.txt (the ones the suite was last tested with).
# `make constraints` refreshes the pins: the newest releases that
# pyproject.toml's ranges allow; then run `make test` and commit both.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=
PINS := constraints.txt
FRESH := build/constraints-venv

.PHONY: serve check test bench lint constraints

$(BIN)/chutes-mock: pyproject.toml setup.py $(PINS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --constraint $(PINS) --upgrade pip
	$(BIN)/pip install --quiet --constraint $(PINS) -e '.[test]'
	@touch $@

serve: $(BIN)/chutes-mock
	$(BIN)/chutes-mock serve $(ARGS)

check: $(BIN)/chutes-mock
	bash scripts/test.sh check

test: $(BIN)/chutes-mock
	bash scripts/test.sh test

lint: $(BIN)/chutes-mock
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(BIN)/chutes-mock
	$(BIN)/python bench/bench_list.py $(ARGS)

# Resolve afresh in a throw-away venv, then pin what it got (the kit itself,
# setuptools and wheel left out: they are build tools, not dependencies).
constraints:
	rm -rf $(FRESH)
	$(PYTHON) -m venv $(FRESH)
	$(FRESH)/bin/pip install --quiet --upgrade pip
	$(FRESH)/bin/pip install --quiet '.[test]'
	{ echo "# Versions the suite was tested with. Refresh: make constraints (then make test)."; \
	  $(FRESH)/bin/pip freeze --all | grep -viE '^(chutes-auth-kit|setuptools|wheel)( @|==)'; } > $(PINS).new
	mv $(PINS).new $(PINS)
	rm -rf $(FRESH)
