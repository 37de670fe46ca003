# The two commands of the README: `make run` and `make test`. Each sets up what it
# needs (a virtualenv, the locked packages, the embedded database) on a machine with
# only Python 3.11 (on Debian also `make` and `python3-venv`).
#
# requirements.txt and requirements-test.txt are locks with hashes, compiled from the .in
# files (see their first lines): `make run` installs the same bytes next month.

PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
BIN    := $(VENV)/bin
STAMP      := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
TEST_STAMP := $(VENV)/.installed-test-$(shell cat requirements.txt requirements-test.txt | cksum | cut -d' ' -f1)
PIP    := $(BIN)/python -m pip install --quiet --require-hashes --no-deps

.PHONY: install install-test migrate run test clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(PIP) -r requirements.txt
	-@.ci/system-packages
	rm -f $(VENV)/.installed-[0-9]* && touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements-test.txt
	$(PIP) -r requirements-test.txt
	rm -f $(VENV)/.installed-test-* && touch $(TEST_STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

migrate: install
	$(BIN)/flask --app wsgi db upgrade

# The job worker (campaign fan-out, nightly expiry and tiers, ...) runs beside the web server
# and stops with it: Ctrl-C stops both. The server listens on loopback only unless HOST says
# otherwise (make run HOST=0.0.0.0 PORT=8001).
run: migrate
	@$(BIN)/flask --app wsgi jobs work & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c python:config.gunicorn --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - wsgi:app

test: migrate install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
