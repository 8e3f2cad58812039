# The two set-up commands: `make run` and `make test`. Everything they need is installed here.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
# Parallel test processes for `make test`: most tests wait on browsers, servers and mail,
# so a third process pays off even on two cores.
TEST_WORKERS ?= 3

.PHONY: run test lint bench bench-scale schema install install-test messages catalogs

run: install
	$(BIN)/latchkey migrate
	$(BIN)/latchkey user create-demo
	$(BIN)/latchkey serve

test: install-test
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

lint: install-test
	$(BIN)/ruff check .

# Options go in BENCH_ARGS, e.g. `make bench BENCH_ARGS="--seconds 5"`; see README, Performance.
BENCH_ARGS ?=

bench: install-test
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-scale: install-test
	$(BIN)/python -m bench --scale $(BENCH_ARGS)

schema: install
	$(BIN)/latchkey export-schema > schema.graphql

install: $(VENV)/.installed web/node_modules/.package-lock.json catalogs

# The compiled catalogs (.mo) are built here from the .po files in the repository.
catalogs: $(VENV)/.installed
	$(BIN)/pybabel compile -d backend/i18n/locale -D messages

install-test: install $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

# Re-extract the message ids after changing texts, then translate the new ones in the .po.
messages: install
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
		-k N_ -k DomainError:2 -k Problem:2 -k RateLimited:2 \
		--ignore-dirs='node_modules migrations .venv' -o backend/i18n/locale/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete \
		-i backend/i18n/locale/messages.pot -d backend/i18n/locale
