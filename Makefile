# The two commands of the README: `make run` (demo clinic on SQLite) and `make test` (everything).
# Everything else is installed here, from a machine that has only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := mat

.PHONY: run test lint format install pg-test tz-test clean system-packages deps-audit bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): setup.cfg $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The demo clinic: a SQLite database in instance/, migrated and seeded once, served on :5000.
run: $(STAMP) system-packages
	MAT_DEMO=1 $(BIN)/flask --app mat db upgrade
	MAT_DEMO=1 $(BIN)/flask --app mat demo seed || true
	MAT_DEMO=1 $(BIN)/flask --app mat run --host 127.0.0.1 --port 5000

# From Debian, when this machine lets us install (root): chromium for the browser tests, and
# the PDF fonts (mat/pdf_fonts.py): DejaVu Sans for Latin, Greek and Cyrillic names, WenQuanYi
# Zen Hei for Chinese, Japanese and Korean ones (the PDF base fonts are Latin-1 only).
# Without them the browser tests are skipped with the reason printed (in CI they fail), PDFs
# fall back to Helvetica with a warning, and registration refuses the names they cannot print.
DEBIAN_PACKAGES := chromium fonts-dejavu-core fonts-wqy-zenhei
system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) \
	  >/dev/null; } || echo "not installed:$$missing (browser tests skip, PDFs print fewer scripts)"

# Every test: lint, format check, the suite on SQLite, and (when reachable) the PostgreSQL tests.
# pytest exits 5 when it collects nothing: that is a failure here, said in words.
test: $(STAMP) system-packages
	$(BIN)/ruff check mat tests tools bench
	$(BIN)/ruff format --check mat tests tools bench
	@$(BIN)/python -m pytest; status=$$?; \
	  [ $$status -ne 5 ] || echo "pytest collected no tests: the suite is missing"; exit $$status

# The same suite with PostgreSQL as the app database (CI runs this too).
pg-test: $(STAMP)
	MAT_TEST_DATABASE=postgresql $(BIN)/python -m pytest

# The suite in a US clinic's time zone: "today", clinic days and the audit chain must hold
# where the clinic's midnight is not UTC's (CI runs this too; MAT_CLINIC_TZ may name another).
CLINIC_TZ ?= America/Chicago
tz-test: $(STAMP)
	MAT_CLINIC_TZ=$(CLINIC_TZ) $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check mat tests tools bench

format: $(STAMP)
	$(BIN)/ruff format mat tests tools bench
	$(BIN)/ruff check --fix mat tests tools bench

# Known vulnerabilities in the installed dependencies (pip-audit; CI runs it). Exits 1 on a
# known vulnerability; says in one line, without failing, when nothing could be checked.
deps-audit: $(STAMP)
	$(BIN)/python -m tools.deps_audit

# mat beside a trivial Flask app under gunicorn, driven by wrk (Debian package `wrk`): writes
# bench/results/<date>-<scale>.json and prints the table of the README's Benchmarks section.
# small: about two minutes, PostgreSQL when it answers on 127.0.0.1:5432, else SQLite;
# full: 1,500 patients x 2 years (PostgreSQL only; long).
BENCH_SCALE ?= small
bench: $(STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get install -y -qq wrk >/dev/null; } || { echo "wrk is needed: apt-get install wrk"; exit 1; }
	$(BIN)/python -m bench.run --scale $(BENCH_SCALE)

clean:
	rm -rf $(VENV) instance .pytest_cache build *.egg-info
