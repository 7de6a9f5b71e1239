# Two commands do all the set-up on a fresh machine:
#   make app    install (once) and run the app (http://127.0.0.1:7860)
#   make test   install (once) and pass the tests (installs Debian chromium for the browser tests)
#
# Installing happens once: a stamp under .make/ remembers it, and it runs again only when requirements*.txt or
# pyproject.toml change (or with `make -B install`). Where the system Python refuses `pip install` (PEP 668,
# "externally managed", as Debian's and Ubuntu's do), everything goes into the project's virtual environment
# .venv instead, made on first use. Another interpreter: `make test PYTHON=/path/to/python`.
PYTHON ?= python3
VENV ?= .venv
STAMPS ?= .make
export GRADIO_ANALYTICS_ENABLED ?= False

# PEP 668: the marker file EXTERNALLY-MANAGED beside the standard library of a Python that is not a venv
EXTERNALLY_MANAGED ?= $(shell $(PYTHON) -c 'import os, sys, sysconfig; print(int(sys.prefix == sys.base_prefix and os.path.isfile(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))))' 2>/dev/null)
ifeq ($(EXTERNALLY_MANAGED),1)
PY := $(VENV)/bin/python
PY_READY := $(VENV)/bin/python
else
PY := $(PYTHON)
PY_READY :=
endif
STAMP := $(STAMPS)/$(subst /,_,$(PY))

.PHONY: app test test-fast lint screenshots install install-test

$(VENV)/bin/python:
	@echo "$(PYTHON) is externally managed (PEP 668): installing into the project's virtual environment $(VENV)"
	@$(PYTHON) -m venv $(VENV) || { echo "cannot make $(VENV): install the venv module (Debian: apt-get install python3-venv)"; exit 1; }

$(STAMP).app: requirements.txt pyproject.toml | $(PY_READY)
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -e .
	@mkdir -p $(STAMPS) && touch $@

$(STAMP).test: $(STAMP).app requirements-dev.txt requirements-loaders.txt
	$(PY) -m pip install -r requirements-dev.txt
	$(PY) -m pip install --no-deps -r requirements-loaders.txt
	@need=""; \
	command -v chromium >/dev/null 2>&1 || need="$$need chromium"; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need="$$need fonts-noto-cjk"; \
	command -v jpegtran >/dev/null 2>&1 || need="$$need libjpeg-turbo-progs"; \
	if [ -n "$$need" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  if command -v apt-get >/dev/null 2>&1; then $$sudo apt-get update && $$sudo apt-get install -y --no-install-recommends $$need; \
	  else echo "please install:$$need (Debian package names)"; exit 1; fi; \
	fi
	@mkdir -p $(STAMPS) && touch $@

install: $(STAMP).app

install-test: $(STAMP).test

app: install
	$(PY) app.py

lint: install-test
	$(PY) -m ruff check .
	$(PY) -m mypy

# every test, spread over the machine's cores (each worker its own process, Chromium included): the browser tests
# alone take about 18 minutes of one core
test: install-test lint
	HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(PY) -m pytest -n auto

test-fast: install-test
	HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(PY) -m pytest -m "not slow" -n auto

screenshots: install-test
	HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(PY) -m tests.ui.screenshots
