# The two commands a new user needs: `make demo` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin

$(BIN)/faultbot: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: install demo test lint
install: $(BIN)/faultbot

demo: install
	$(BIN)/faultbot demo

lint: install
	$(BIN)/ruff check bot tests

test: lint
	$(BIN)/pytest
