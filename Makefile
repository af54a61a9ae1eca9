# The two set-up commands of the README. Both are idempotent: the venv is rebuilt only when a
# requirements file changes, so the second run starts at once.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
PYTHON ?= python3

.PHONY: run test test-fast bench pretrain clean

run: $(VENV)/.installed
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: $(VENV)/.installed-test
	$(PY) -m pytest

test-fast: $(VENV)/.installed-test
	$(PY) -m pytest -m "not slow and not browser"

bench: $(VENV)/.installed-test
	$(PY) -m ae_core bench

pretrain: $(VENV)/.installed
	$(PY) -m ae_core pretrain

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache test-output
