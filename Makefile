# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml providers/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./providers
	touch $(STAMP)

run: install
	$(BIN)/geotrigger serve --examples

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check geotrigger providers tests benchmarks alembic
	$(BIN)/ruff format --check geotrigger providers tests benchmarks alembic
	$(BIN)/mypy

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
