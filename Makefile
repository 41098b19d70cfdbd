# Two commands on a fresh machine: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install lock messages debian wrk run test lint bench-submit bench-scoring bench-dashboard \
	bench-faults screenshots

# Everything comes from the lock file, pinned with hashes; the package itself is installed
# without dependencies, built by the pinned setuptools. `make lock` updates the locks.
$(STAMP): requirements-dev.lock
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The compiled message catalogues (.mo) are built from the committed .po files.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard survey_app/translations/*/LC_MESSAGES/messages.po))
$(CATALOGUES): %.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -f -i $< -o $@

# axe-core for the accessibility check of the staff pages, from package-lock.json (pinned
# with its integrity hash), with no install scripts run.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_STAMP)

install: $(STAMP) $(CATALOGUES) $(NODE_STAMP)

# Collect the texts marked for translation into the catalogues (Vietnamese msgids);
# then write the English of every new or changed entry in the .po file and commit it.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext --no-location --sort-output -w 100 \
	  -o survey_app/translations/messages.pot .
	$(BIN)/pybabel update -i survey_app/translations/messages.pot -d survey_app/translations \
	  -w 100 --no-fuzzy-matching --ignore-obsolete
	rm survey_app/translations/messages.pot

# Re-resolve the locks from pyproject.toml (newest releases its ranges allow), with uv
# pinned here; commit the changed lock files with what changed and why.
UV_VERSION := 0.13.9
UV_COMPILE := .lock-venv/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --upgrade --quiet
lock:
	python3 -m venv .lock-venv
	.lock-venv/bin/pip install -q 'uv==$(UV_VERSION)'
	$(UV_COMPILE) -o requirements.lock
	$(UV_COMPILE) --extra dev -o requirements-dev.lock
	$(UV_COMPILE) --extra dev --extra bench -o requirements-bench.lock
	rm -rf .lock-venv

# What the tests need from Debian: chromium for the browser tests (never a downloaded
# browser), poppler's pdftotext to read generated PDFs, the Liberation fonts (Times New
# Roman's metrics, Vietnamese glyphs) and DejaVu (the report's ⚠ and chart labels, which
# Liberation lacks) for reports, and R's survey package for reproduce.R.
DEBIAN_PACKAGES := chromium poppler-utils fonts-liberation2 fonts-dejavu-core r-cran-survey
debian:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

# QR posters and dossier links point at PUBLIC_BASE_URL; unless it is set, at this server's
# own port (`make run PORT=8080`). Phones on the local network need the machine's address:
# `make run HOST=0.0.0.0 PUBLIC_BASE_URL=http://192.168.1.20:5000`.
run: export PUBLIC_BASE_URL ?= http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST)):$(PORT)
run: install
	$(BIN)/survey-app db upgrade
	$(BIN)/survey-app questionnaire load questionnaires/*.yaml
	$(BIN)/survey-app demo load
	@echo
	@echo "Citizen form: $(PUBLIC_BASE_URL)/   Staff: $(PUBLIC_BASE_URL)/staff/"
	@echo "QR posters and dossier links point at $(PUBLIC_BASE_URL) (PUBLIC_BASE_URL=... to change)."
	@if ! $(BIN)/survey-app user list | awk -F'\t' '$$2 == "admin" && $$4 == "active" {found = 1} END {exit !found}'; then \
	  echo "No administrator yet. Create the first staff account in another terminal:"; \
	  echo "  $(BIN)/survey-app user create-admin quantri    # asks for the password twice"; \
	  echo "then sign in at $(PUBLIC_BASE_URL)/staff/ and add the others on its Tài khoản (Accounts) page."; \
	fi
	@echo
	$(BIN)/survey-app run --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install debian lint
	$(BIN)/pytest -q

# PNGs of the dashboard, a criterion's page and the comments at 1366x768 and 360x740 from
# the demo data, into docs/screenshots/ (shown in README.md).
screenshots: install debian
	$(BIN)/python bench/screenshots.py

# The citizen submit endpoint vs a bare one-INSERT endpoint, gunicorn + PostgreSQL,
# 100 concurrent submitters (see bench/README.md). BENCH_ARGS="--duration 60" etc.
wrk:
	@command -v wrk >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

bench-submit: install wrk
	$(BIN)/python bench/submit_bench.py $(BENCH_ARGS)

# Scoring engine vs R survey vs svy on 1,000,000 synthetic respondents (see bench/README.md).
bench-scoring: install
	$(BIN)/pip install -q --require-hashes -r requirements-bench.lock
	@command -v Rscript >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq r-cran-survey r-cran-data.table r-cran-jsonlite; }
	$(BIN)/python bench/scoring_bench.py

# Dashboard with 200,000 responses on PostgreSQL, cold and warm (see bench/README.md).
# The data are generated once into schema bench_dashboard; BENCH_ARGS="--design clustered".
bench-dashboard: install
	$(BIN)/python bench/dashboard_bench.py $(BENCH_ARGS)

# Faults under load on gunicorn + PostgreSQL: kill -9 of a worker and of the master, the
# database's connections terminated; acknowledged receipts against stored rows (see
# bench/README.md). BENCH_ARGS="--smoke" for a few seconds, "--duration 120" etc.
bench-faults: install
	$(BIN)/python bench/fault_bench.py $(BENCH_ARGS)
