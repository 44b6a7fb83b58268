# The two commands a new user needs: `make demo` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin

$(BIN)/faultbot: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: install demo test lint typecheck mutation
install: $(BIN)/faultbot

demo: install
	$(BIN)/faultbot demo

lint: install
	$(BIN)/ruff check bot tests

# mypy over bot/ (settings in pyproject.toml): a type error fails the test run.
typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

# Mutation testing of the core modules, one module at a time (slow; not part of `make test`).
# `make mutation GROUPS="escape silent"` runs just those; `.ci/mutation.py --list` names them.
mutation: install
	$(BIN)/python .ci/mutation.py $(GROUPS)
