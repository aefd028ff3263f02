# Two commands set up everything on a fresh machine with Python 3.11:
#   make run   - create .venv, migrate the database, start the app on 127.0.0.1:8501
#   make test  - create .venv with test tools, install PostgreSQL 15 and Chromium
#                when missing (needs root), run the whole test suite

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test demo lint benchmark

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m core.cli migrate
	$(PY) -m streamlit run dashboard/app.py --server.address 127.0.0.1 --server.port $(PORT)

demo: $(VENV)/.installed
	$(PY) -m core.cli migrate
	$(PY) -m core.cli demo

test: $(VENV)/.installed-test
	bash scripts/install_test_services.sh
	$(PY) -m ruff check core db dashboard pages tests benchmarks
	$(PY) -m mypy
	$(PY) -m pytest

benchmark: $(VENV)/.installed-test
	$(PY) -m benchmarks.importing
	$(PY) -m benchmarks.scoring
