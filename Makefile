# Two commands: `make run` (demo server on http://127.0.0.1:5000) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test demo-code install translations extract-messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile -d translations -D messages

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F pyproject.toml -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output --omit-header .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -D messages --no-fuzzy-matching --ignore-obsolete

instance/secret_key:
	mkdir -p instance
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_hex(32))" > instance/secret_key

instance/keys: $(STAMP)
	mkdir -p instance
	umask 077 && $(BIN)/python -m caseapp.security.encryption > instance/keys

run: install translations instance/secret_key instance/keys
	export CASEAPP_ENV=demo SECRET_KEY="$$(cat instance/secret_key)" CASEAPP_KEY_FILE="$$(pwd)/instance/keys" \
		CASEAPP_BIND=127.0.0.1:5000 CASEAPP_WORKERS=2; \
	$(FLASK) db upgrade && \
	$(FLASK) caseapp seed-demo --if-empty && \
	$(FLASK) caseapp demo-logins && \
	echo "Open http://127.0.0.1:5000 (Ctrl+C stops the server)" && \
	$(BIN)/gunicorn -c gunicorn.conf.py

demo-code: install instance/secret_key instance/keys
	@CASEAPP_ENV=demo SECRET_KEY="$$(cat instance/secret_key)" CASEAPP_KEY_FILE="$$(pwd)/instance/keys" \
		$(FLASK) caseapp demo-code "$(ACCOUNT)"

# Two pytest workers (pytest-xdist), each with its own database: the suite is CPU-bound and CI has 2 cores.
TEST_WORKERS ?= 2

test: install translations
	$(BIN)/python -m pytest -n $(TEST_WORKERS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== The same suite on PostgreSQL ($$TEST_DATABASE_URL)"; \
		CASEAPP_TEST_BACKEND=postgresql $(BIN)/python -m pytest -n $(TEST_WORKERS); \
	else echo "TEST_DATABASE_URL is not set: PostgreSQL run skipped (CI sets it)."; fi
	$(BIN)/bandit --quiet --severity-level medium --recursive caseapp wsgi.py && echo "bandit: no issue of medium severity or above"

clean:
	rm -rf $(VENV) instance/caseapp.sqlite3* instance/caseapp-rate-limits.sqlite3* translations/*/LC_MESSAGES/*.mo
