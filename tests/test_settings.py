"""Settings come from the environment; each case runs in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["BACKEND"],
    "debug": settings.DEBUG,
    "hosts": settings.ALLOWED_HOSTS,
    "email_backend": settings.EMAIL_BACKEND,
    "email_host": settings.EMAIL_HOST,
    "email_port": settings.EMAIL_PORT,
    "language": settings.LANGUAGE_CODE,
    "languages": [code for code, _ in settings.LANGUAGES],
    "tz": settings.TIME_ZONE,
    "use_tz": settings.USE_TZ,
    "demo_password": settings.DEMO_PASSWORD,
}))
"""

VARIABLES = ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "EMAIL_URL", "DEMO_PASSWORD")


def environment(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "council.settings"
    env.update(overrides)
    return env


def probe(**overrides: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + PROBE],
        cwd=ROOT, env=environment(**overrides), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_embedded_default_is_sqlite_with_eager_celery_and_a_local_cache():
    found = probe(DEBUG="true")
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["db_name"].endswith("db.sqlite3")
    assert found["eager"] is True
    assert found["cache"].endswith("LocMemCache")
    assert found["hosts"] == ["127.0.0.1", "localhost", "[::1]"]
    assert found["demo_password"] == "demo-pass-2026"


def test_language_and_time_zone():
    found = probe(DEBUG="true")
    assert (found["language"], found["languages"], found["tz"], found["use_tz"]) == ("ja", ["ja", "en"], "Asia/Tokyo", True)


def test_database_and_redis_come_from_the_environment():
    found = probe(
        SECRET_KEY="k" * 50,
        DATABASE_URL="postgres://council:pw@db.internal:5432/council",
        REDIS_URL="redis://cache.internal:6379/2",
        ALLOWED_HOSTS="council.example.jp,www.council.example.jp",
        DEMO_PASSWORD="another-one",
    )
    assert found["engine"] == "council.postgresql"
    assert found["db_name"] == "council"
    assert found["eager"] is False
    assert found["broker"] == "redis://cache.internal:6379/2"
    assert found["cache"].endswith("RedisCache")
    assert found["debug"] is False
    assert found["hosts"] == ["council.example.jp", "www.council.example.jp"]
    assert found["demo_password"] == "another-one"


def test_email_from_a_url():
    found = probe(DEBUG="true", EMAIL_URL="smtp+tls://mailer:secret@smtp.example.jp:587")
    assert found["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (found["email_host"], found["email_port"]) == ("smtp.example.jp", 587)


def test_email_from_separate_variables():
    found = probe(DEBUG="true", EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                  EMAIL_HOST="mail.example.jp", EMAIL_PORT="2525")
    assert (found["email_host"], found["email_port"]) == ("mail.example.jp", 2525)


@pytest.mark.parametrize("command", [["manage.py", "check"], ["-c", "import council.wsgi"]])
def test_production_without_a_secret_key_refuses_to_start_with_one_line(command):
    result = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: SECRET_KEY is not set: set the SECRET_KEY environment variable "
        "(or DEBUG=true for development)."
    ]
    assert "Traceback" not in result.stderr


def test_development_runs_without_a_secret_key():
    assert probe(DEBUG="true")["debug"] is True
