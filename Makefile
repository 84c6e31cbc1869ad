# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# OS tools the tests use, as command:Debian-package (browser test, signature interop, the
# DCC's own Java signing tool and its npm packages).
OS_TOOLS := chromium:chromium xmlsec1:xmlsec1 java:default-jre-headless node:nodejs npm:npm

.PHONY: demo test install os-tools lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/fwo demo

# The whole check, as CI runs it: OS tools, lint (ruff + mypy), then the suite.
test: $(STAMP) os-tools lint
	$(BIN)/python -m pytest

# Installs missing OS tools with apt-get when root or with password-less sudo; otherwise
# says what is missing (tests needing a missing tool skip, and fail under CI=true).
os-tools:
	@missing=""; for pair in $(OS_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else sudo="no"; fi; \
	if [ "$$sudo" = no ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "make test: missing OS packages:$$missing (Debian/Ubuntu: sudo apt-get install$$missing);" \
	       "the tests that need them skip (and fail under CI=true)"; exit 0; \
	fi; \
	echo "make test: installing$$missing with apt-get"; \
	$$sudo apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	  $$missing >/dev/null || echo "make test: could not install$$missing (see apt-get above)"

lint: $(STAMP)
	$(BIN)/ruff check duis fir_sync orchestrator simulators tests bench
	$(BIN)/mypy duis fir_sync orchestrator simulators

bench: $(STAMP)
	$(BIN)/python bench/catalogue_sync.py

clean:
	rm -rf $(VENV) .fwo-data .pytest_cache
