# Two commands do all the set-up on a fresh machine:
#   make app    install and run the app (http://127.0.0.1:7860)
#   make test   install and pass the tests (installs Debian chromium for the browser tests)
PYTHON ?= python3
export GRADIO_ANALYTICS_ENABLED ?= False

.PHONY: app test test-fast lint screenshots install install-test

install:
	$(PYTHON) -m pip install -r requirements.txt
	$(PYTHON) -m pip install --no-deps -e .

install-test: install
	$(PYTHON) -m pip install -r requirements-dev.txt
	$(PYTHON) -m pip install --no-deps -r requirements-loaders.txt
	@need=""; \
	command -v chromium >/dev/null 2>&1 || need="$$need chromium"; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need="$$need fonts-noto-cjk"; \
	command -v jpegtran >/dev/null 2>&1 || need="$$need libjpeg-turbo-progs"; \
	if [ -n "$$need" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  if command -v apt-get >/dev/null 2>&1; then $$sudo apt-get update && $$sudo apt-get install -y --no-install-recommends $$need; \
	  else echo "please install:$$need (Debian package names)"; exit 1; fi; \
	fi

app: install
	$(PYTHON) app.py

lint: install-test
	$(PYTHON) -m ruff check .
	$(PYTHON) -m mypy

test: install-test lint
	HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(PYTHON) -m pytest

test-fast: install-test
	HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(PYTHON) -m pytest -m "not slow" -n auto

screenshots: install-test
	HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(PYTHON) -m tests.ui.screenshots
