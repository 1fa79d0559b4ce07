# FieldForce: `make run` to try it, `make test` to check it. Both set up
# everything they need first (system packages, .venv, database, migrations).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
INSTALLED := $(VENV)/.installed
EXTRAS := server,routing,mobile,dev
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help setup system venv node database run test test-fast lint bench clean-db app screenshots apk

help:
	@echo "make run     set up everything, seed a demo organisation, serve on http://$(HOST):$(PORT)"
	@echo "make test    set up everything, run the whole test suite"
	@echo "make lint    ruff check, ruff format --check, mypy"
	@echo "make bench   benchmarks (see docs/benchmarks.md)"
	@echo "make app     the rep's app on the desktop, against SERVER (default http://$(HOST):$(PORT))"
	@echo "make screenshots   the app's journeys, their screenshots into docs/screenshots/"

system:
	@bash scripts/install-system-packages.sh

$(INSTALLED): pyproject.toml | system
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $@

venv: $(INSTALLED)

# The dashboard's browser packages, exactly as package-lock.json pins them.
NODE_INSTALLED := node_modules/.installed
$(NODE_INSTALLED): package.json package-lock.json | system
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node: $(NODE_INSTALLED)

# The local cluster under .fieldforce/ unless DATABASE_URL points elsewhere.
database: venv
	@if [ -z "$$DATABASE_URL" ]; then $(BIN)/fieldforce db start; fi
	$(BIN)/fieldforce migrate

setup: database node

run: setup
	$(BIN)/fieldforce seed --if-empty
	@echo "The managers' dashboard: http://$(HOST):$(PORT)/ (sign in with a demo manager or admin above)."
	@echo "The rep's app: in another terminal, 'make app' (or 'make app SERVER=http://host:port'); sign in as a demo rep above."
	$(BIN)/fieldforce serve --host $(HOST) --port $(PORT) --with-worker

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Style, formatting and types (configured in pyproject.toml); CI runs it before the tests.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m bench.api_load

SERVER ?= http://$(HOST):$(PORT)

# The rep's app (Kivy) on the desktop; `make run` serves the API it talks to.
app: venv
	$(BIN)/python -m mobile --server $(SERVER)

# The app's journeys (a Kivy window under Xvfb, the live test server), screenshots kept for the README.
screenshots: setup
	FIELDFORCE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest tests/mobile/ui tests/web -q

# Android: stage the app and build a debug APK (needs buildozer and the Android SDK; not on CI).
apk:
	rm -rf build/android && mkdir -p build/android
	cp -r mobile shared build/android/
	printf 'from mobile.__main__ import main\n\nmain()\n' > build/android/main.py
	buildozer android debug

clean-db:
	-$(BIN)/fieldforce db stop
	rm -rf .fieldforce
