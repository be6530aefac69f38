# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# Everything else here is what those two are made of.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-quick lint typecheck services bench chaos clean designer designer-check chromium screens

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Run dealflow: server + scheduler on 127.0.0.1:5000, SQLite with demo data on first start.
run: $(STAMP) designer
	$(VENV)/bin/dealflow run

## Run every test, on SQLite and on PostgreSQL (started here if it is down).
test: $(STAMP) services designer designer-check chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	DEALFLOW_TEST_POSTGRES_URL=$${DEALFLOW_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
	DEALFLOW_TEST_REDIS_URL=$${DEALFLOW_TEST_REDIS_URL:-redis://127.0.0.1:6379/15} \
	$(PY) -m pytest -q
	$(VENV)/bin/dealflow test-processes bpmn

## A developer aid, not a set-up command: the tests on SQLite alone, in a few minutes. It skips
## every PostgreSQL test (the `postgres` marker, set in tests/conftest.py), the browser tests
## (tests/designer: no build, no Chromium), the chaos harness (tests/chaos) and `dealflow
## test-processes`; no services are started. `make test` still runs all of them.
test-quick: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -m "not postgres" --ignore=tests/designer --ignore=tests/chaos

lint: $(STAMP)
	$(VENV)/bin/ruff check .

## Type-check the product code; which packages are strict is in pyproject.toml's [tool.mypy].
typecheck: $(STAMP)
	$(VENV)/bin/mypy

## Start the local PostgreSQL and Redis the tests talk to, if they are not running.
services:
	@bash .ci/services.sh

## The browser designer (designer/): `npm ci` when the lock changed, a build when sources changed.
DESIGNER_DEPS  := designer/node_modules/.lock-installed
DESIGNER_BUILD := designer/dist/index.html
DESIGNER_SRC   := $(shell find designer/src -type f 2>/dev/null) designer/index.html designer/vite.config.js designer/package.json

# npm ci refuses a lock that lacks other platforms' optional rollup binaries, which a registry
# mirror without them leaves out; npm install then installs the same locked versions.
$(DESIGNER_DEPS): designer/package-lock.json
	cd designer && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund)
	touch $@

$(DESIGNER_BUILD): $(DESIGNER_DEPS) $(DESIGNER_SRC)
	cd designer && npm run build

designer: $(DESIGNER_BUILD)

## ESLint and the Vitest unit tests of the designer's modules (designer/test/).
designer-check: $(DESIGNER_DEPS)
	cd designer && npm run lint && npm test

## The browser tests drive Debian's Chromium (no downloaded Playwright browsers).
chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

## Screenshots of each main screen at 1366x768 into docs/screens/.
screens: $(STAMP) designer chromium
	$(PY) -m tests.designer.screens docs/screens

## Many workers killed at random on PostgreSQL, long form (DEALFLOW_CHAOS_ROUNDS orders;
## DEALFLOW_CHAOS_SEED=<seed printed by a failed run> replays its schedule). `make test` runs a short one.
chaos: $(STAMP) services
	DEALFLOW_TEST_POSTGRES_URL=$${DEALFLOW_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
	DEALFLOW_CHAOS_ROUNDS=$${DEALFLOW_CHAOS_ROUNDS:-40} \
	$(PY) -m pytest -q -s tests/chaos

## Run every benchmark in bench/ and write docs/benchmarks.md (~10-15 min; BENCH_SCALE=full for
## the sizes of issue 6 everywhere, BENCH_SCALE=smoke for a quick check; see bench/report.py).
bench: $(STAMP) services designer chromium
	$(PY) bench/report.py --postgres $${DEALFLOW_BENCH_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis designer/node_modules designer/dist
