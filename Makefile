# casetime: `make run` serves the API with GraphiQL, `make test` runs lint and every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint fuzz soak schema bench migrate import-cases backup restore clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "casetime needs Python 3.11 ($(PYTHON)); set PYTHON=..."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r pyproject.toml --extra embedded --extra dev
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

run: $(STAMP)
	$(PY) cli.py serve

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

# every root field fuzzed with FUZZ_EXAMPLES documents, in process and over HTTP (make test runs 4 and 2 of each)
FUZZ_EXAMPLES ?= 100
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q tests/graph/test_fuzz.py tests/graph/test_fuzz_http.py

# a minute of 80% reads and 20% writes on two workers, then every invariant recomputed (DURATION=600 for a long run);
# CONTROL=1 switches the cap lock off, and then the checker must find the books broken
DURATION ?= 60
soak: $(STAMP)
	$(PY) -m bench.soak --duration $(DURATION) $(if $(CONTROL),--control)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

schema: $(STAMP)
	$(PY) cli.py schema

migrate: $(STAMP)
	$(PY) cli.py migrate

# FILE= names the backup; by default backups/casetime-<UTC time>.dump
backup: $(STAMP)
	$(PY) cli.py backup $(FILE)

# stop serving first: the database's contents are replaced by the backup's, in one transaction
restore: $(STAMP)
	@test -n "$(FILE)" || { echo "make restore FILE=path/to/backup.dump"; exit 2; }
	$(PY) cli.py restore $(FILE)

# run, time_bench and report_bench by default; BENCH=lists_bench (any of those, lists_bench, peer_bench, write_bench,
# bulk_write_bench, outbox_bench, live_bench or webhook_bench) for others
BENCH ?= run time_bench report_bench
bench: $(STAMP)
	@for module in $(BENCH); do $(PY) -m bench.$$module $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis
