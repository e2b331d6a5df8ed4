# One task runner. `make run` = install + main job; `make test` = the test suite.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export ANONYMIZED_TELEMETRY ?= False

.PHONY: install run test test-fast lint typecheck bench clean

$(BIN)/gdr: pyproject.toml requirements.lock
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip==25.3
	$(BIN)/python -m pip install -q -c requirements.lock -e ".[dev]"
	touch $(BIN)/gdr

install: $(BIN)/gdr

run: install
	$(BIN)/gdr run

test: install
	$(BIN)/python -m pytest -q

# Unit tests only: no real corpora, no PostgreSQL, Chroma or Redis server, no browser, nothing marked slow.
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not corpora and not postgres and not chroma_server and not redis and not browser"

lint: install
	$(BIN)/ruff check . && $(BIN)/mypy

# One harness, every figure beside a naive LangChain + Chroma pipeline (bench/run.py --help for sizes).
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
