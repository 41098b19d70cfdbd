# Two commands on a fresh machine: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install chromium wrk run test lint bench-submit bench-scoring bench-dashboard

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Browser tests drive Debian's chromium, never a downloaded browser.
chromium:
	@command -v chromium >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

run: install
	$(BIN)/survey-app db upgrade
	$(BIN)/survey-app questionnaire load questionnaires/*.yaml
	$(BIN)/survey-app demo load
	$(BIN)/survey-app run --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install chromium lint
	$(BIN)/pytest -q

# The citizen submit endpoint vs a bare one-INSERT endpoint, gunicorn + PostgreSQL,
# 100 concurrent submitters (see bench/README.md). BENCH_ARGS="--duration 60" etc.
wrk:
	@command -v wrk >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

bench-submit: install wrk
	$(BIN)/python bench/submit_bench.py $(BENCH_ARGS)

# Scoring engine vs R survey vs svy on 1,000,000 synthetic respondents (see bench/README.md).
bench-scoring: install
	$(BIN)/pip install -q -e '.[bench]'
	@command -v Rscript >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq r-cran-survey r-cran-data.table r-cran-jsonlite; }
	$(BIN)/python bench/scoring_bench.py

# Dashboard with 200,000 responses on PostgreSQL, cold and warm (see bench/README.md).
# The data are generated once into schema bench_dashboard; BENCH_ARGS="--design clustered".
bench-dashboard: install
	$(BIN)/python bench/dashboard_bench.py $(BENCH_ARGS)
