# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run cluster soak test lint typecheck contracts unit bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cpniguard init
	$(BIN)/cpniguard demo --customers 1000 --if-empty
	$(BIN)/cpniguard serve

# Several API processes and delivery processes on one database (PostgreSQL: set
# CPNIGUARD_DATABASE_URL); Ctrl-C stops them all. API=2 WORKERS=2 by default.
API ?= 2
WORKERS ?= 2
cluster: $(STAMP)
	$(BIN)/cpniguard init
	$(BIN)/cpniguard demo --customers 1000 --if-empty
	trap 'kill 0' INT TERM; \
	$(BIN)/cpniguard worker --concurrency $(WORKERS) & \
	$(BIN)/cpniguard serve --workers $(API) & \
	wait

# The soak and the faults (docs/RELIABILITY.md): PostgreSQL, minutes, outside `make test`.
SOAK_SECONDS ?= 180
soak: $(STAMP)
	SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/pytest -m soak tests/soak -s -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

# The suite in TEST_WORKERS processes (pytest-xdist; an idle process takes tests from a busy
# one); the slowest tests are listed at the end. TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
test: lint typecheck contracts
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --durations=25

bench: $(STAMP)
	bash benchmarks/peers/install.sh
	$(BIN)/python -m benchmarks.run

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.run --quick

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
