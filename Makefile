# The README's two commands: `make demo` and `make test`. Every install step lives here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
# The suite runs in this many processes (pytest-xdist); each PostgreSQL worker has its own
# database (test_gw0, test_gw1, ...), created on first use.
TEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install install-dev lint typecheck layers browser test-sqlite test-pg migration clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	PLAYERDESK_ENV=$${PLAYERDESK_ENV:-demo} $(BIN)/playerdesk demo --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: install-dev
	$(BIN)/mypy

layers: install-dev
	$(BIN)/lint-imports

test-sqlite: install-dev
	$(BIN)/pytest -n $(TEST_WORKERS)

test-pg: install-dev
	@if $(BIN)/python scripts/check_services.py --database-url '$(PG_TEST_URL)' --redis-url '$(REDIS_TEST_URL)'; then \
		PLAYERDESK_TEST_DATABASE_URL='$(PG_TEST_URL)' PLAYERDESK_TEST_REDIS_URL='$(REDIS_TEST_URL)' $(BIN)/pytest -n $(TEST_WORKERS); \
	elif [ -n "$$PLAYERDESK_REQUIRE_PG" ]; then \
		echo "PostgreSQL + Redis are required here (PLAYERDESK_REQUIRE_PG is set) but not reachable"; exit 1; \
	else \
		echo "skipping the PostgreSQL + Redis run: not reachable at $(PG_TEST_URL) / $(REDIS_TEST_URL)"; \
	fi

# Browser tests drive Debian's Chromium through Playwright (never `playwright install`).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "chromium could not be installed: browser tests will be skipped"; \
	else \
		echo "no $(CHROMIUM) and no way to install it: browser tests will be skipped"; \
	fi

# IMAP adapter tests run against a private Dovecot instance (own config, free ports); the
# package's own service is irrelevant to them, so it is neither needed nor stopped.
DOVECOT ?= /usr/sbin/dovecot
.PHONY: imap-server
imap-server:
	@if [ -x "$(DOVECOT)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's dovecot-imapd for the IMAP tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null) \
			|| echo "dovecot-imapd could not be installed: IMAP tests will be skipped"; \
	else \
		echo "no $(DOVECOT) and no way to install it: IMAP tests will be skipped"; \
	fi

test: lint typecheck layers browser imap-server test-sqlite test-pg

# Developer tool: autogenerate a migration from model changes. `make migration MSG="add x"`
migration: install-dev
	rm -f var/migration-scratch.db
	$(BIN)/python -c "import asyncio, sys; from playerdesk.db.migrate import make_revision; asyncio.run(make_revision('sqlite+aiosqlite:///var/migration-scratch.db', sys.argv[1]))" "$(MSG)"
	$(BIN)/ruff format src/playerdesk/db/migrations/versions
	rm -f var/migration-scratch.db*

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Re-extract translatable strings and merge them into the Polish and Swedish catalogs.
# Translate the new entries (and clear any "fuzzy" flag) before committing.
.PHONY: messages
messages: install
	$(BIN)/pybabel extract -F babel.cfg --add-comments=Translators: --sort-by-file \
		--project=PlayerDesk --version=0.1.0 --copyright-holder="PlayerDesk contributors" \
		-o src/playerdesk/locale/playerdesk.pot src/playerdesk
	for lang in pl sv; do \
		$(BIN)/pybabel update -i src/playerdesk/locale/playerdesk.pot -d src/playerdesk/locale \
			-D playerdesk -l $$lang --previous || exit 1; \
	done
