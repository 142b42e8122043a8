# One command to run the product, one to test it. Both set everything up first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup bench bench-quick clean db-init

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## make run: serve the embedded default (SQLite + in-memory bus) with the demo district on http://127.0.0.1:8000/
run: $(STAMP)
	$(BIN)/yingji serve --demo --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

## make test: lint for real errors, then unit, integration (SQLite, PostgreSQL, Redis) and end-to-end tests (two pytest-xdist workers; PYTEST_WORKERS=0 for one process)
test: $(STAMP)
	$(BIN)/ruff check domain projections gateway bench
	$(BIN)/python -m pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

## make bench: the three benchmarks at the issues' sizes (~20 min, JSON in bench/results/); bench-quick: smoke sizes
bench: $(STAMP)
	$(BIN)/python -m bench.board_latency
	$(BIN)/python -m bench.relay_catchup
	$(BIN)/python -m bench.replay
	$(BIN)/python -m bench.warnings_fanout

bench-quick: $(STAMP)
	$(BIN)/python -m bench.board_latency --quick
	$(BIN)/python -m bench.relay_catchup --quick
	$(BIN)/python -m bench.replay --quick
	$(BIN)/python -m bench.warnings_fanout --quick

clean:
	rm -rf $(VENV) data .pytest_cache
