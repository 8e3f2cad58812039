# The two set-up commands: `make run` and `make test`. Everything they need is installed here.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
# Parallel test processes for `make test`: most tests wait on browsers, servers and mail,
# so a third process pays off even on two cores.
TEST_WORKERS ?= 3

.PHONY: run test lint bench bench-scale bench-delivery schema install install-test messages catalogs docs

# `make run PORT=8001`: the public URL follows the port unless LATCHKEY_PUBLIC_URL is set.
PORT ?= 8000

run: install
	$(BIN)/latchkey migrate
	$(BIN)/latchkey user create-demo
	$(BIN)/latchkey serve --port $(PORT)

test: install-test
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

lint: install-test
	$(BIN)/ruff check .

# Options go in BENCH_ARGS, e.g. `make bench BENCH_ARGS="--seconds 5"`; see docs/performance.md.
BENCH_ARGS ?=

bench: install-test
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-scale: install-test
	$(BIN)/python -m bench --scale $(BENCH_ARGS)

# Queued webhooks and notices delivered by `latchkey serve --workers 2` to loopback receivers;
# options in BENCH_ARGS too (--events, --workers, --database); see docs/performance.md.
bench-delivery: install-test
	$(BIN)/python -m bench.delivery $(BENCH_ARGS)

schema: install
	$(BIN)/latchkey export-schema > schema.graphql

# The documentation site, built into site/ (open site/index.html). --strict: a broken link or
# anchor fails the build. Its scripts come from the npm registry (docs-assets/package.json)
# and are copied next to the pages, so the site loads nothing from another host; only their
# built files are used, so npm's notes about the Node version do not matter here.
DOCS_JS := docs/javascripts
DOCS_NPM := docs-assets/node_modules

docs: $(VENV)/.installed-docs $(DOCS_NPM)/.package-lock.json
	mkdir -p $(DOCS_JS)
	cp $(DOCS_NPM)/mermaid/dist/mermaid.min.js $(DOCS_JS)/mermaid.min.js
	cp $(DOCS_NPM)/iframe-worker/shim/index.js $(DOCS_JS)/iframe-worker-shim.js
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

install: $(VENV)/.installed web/node_modules/.package-lock.json catalogs

# The compiled catalogs (.mo) are built here from the .po files in the repository.
catalogs: $(VENV)/.installed
	$(BIN)/pybabel compile -d backend/kernel/i18n/locale -D messages

# openid-client, a relying party for tests/test_oidc_node.py, at the lock file's version.
RP_NPM := tests/relying_party/node_modules

install-test: install $(VENV)/.installed-test $(RP_NPM)/.package-lock.json

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,tracing]'
	touch $@

$(VENV)/.installed-docs: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[docs]'
	touch $@

$(DOCS_NPM)/.package-lock.json: docs-assets/package.json docs-assets/package-lock.json
	cd docs-assets && npm ci --no-audit --no-fund

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

$(RP_NPM)/.package-lock.json: tests/relying_party/package.json tests/relying_party/package-lock.json
	cd tests/relying_party && npm ci --no-audit --no-fund

# Re-extract the message ids after changing texts, then translate the new ones in the .po.
messages: install
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
		-k N_ -k DomainError:2 -k Problem:2 -k RateLimited:2 \
		--ignore-dirs='node_modules migrations .venv' -o backend/kernel/i18n/locale/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete \
		-i backend/kernel/i18n/locale/messages.pot -d backend/kernel/i18n/locale
