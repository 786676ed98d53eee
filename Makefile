# The two commands of the README: `make run` and `make test`. Both bootstrap a fresh
# Debian machine: the Debian packages WeasyPrint and Japanese text need, a .venv with the
# project installed from pyproject.toml, and (for tests) Debian's Chromium.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

# Pango for WeasyPrint; Noto Sans CJK JP for Japanese in pages and PDFs.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk
TEST_SYSTEM_PACKAGES := chromium

.PHONY: run test bootstrap system-packages test-system-packages setup-data messages clean

run: bootstrap
	@export DEBUG=$${DEBUG:-true}; \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py collectstatic --noinput -v0 && \
	$(BIN)/python manage.py load_reference_data && \
	$(BIN)/python manage.py load_demo && \
	echo "Serving http://$(HOST):$(PORT)/ (Ctrl-C to stop)" && \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Two processes: the machine has two cores, and each gets its own test database.
PYTEST_ARGS ?= -n 2

test: bootstrap test-system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bootstrap: system-packages $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

define apt_install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

system-packages:
	$(call apt_install_missing,$(SYSTEM_PACKAGES))

test-system-packages:
	$(call apt_install_missing,$(TEST_SYSTEM_PACKAGES))

# Regenerate the English catalogue after changing Japanese UI text (needs gettext).
messages: bootstrap
	DEBUG=true $(BIN)/python manage.py makemessages -l en --ignore '.venv/*' --ignore 'tests/*'
	DEBUG=true $(BIN)/python manage.py compilemessages -l en --ignore '.venv/*'

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
