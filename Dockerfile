# The council platform's one image: the web server (gunicorn), Celery worker and beat, and
# the management commands all run from it (docker-compose.yml says which does what).
#   docker build -t council-platform .
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Pango for WeasyPrint, Noto Sans CJK for Japanese in pages and PDFs, and the PostgreSQL
# client (pg_dump / pg_restore, same major version as the db service) for backup and restore.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['s3']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The project itself, installed in place: settings find templates/, static/ and locale/ beside it.
COPY . .
RUN pip install --no-deps -e . \
 && SECRET_KEY=build-only-collectstatic-key DEBUG=false python manage.py collectstatic --noinput -v0

# Uploads and PDFs (MEDIA_ROOT) and backups live on volumes; the directories are made here,
# owned by the unprivileged user, so fresh named volumes take that ownership.
RUN useradd --system --uid 1000 --create-home --home-dir /home/council council \
 && mkdir -p /data/media /data/backups \
 && chown -R council:council /data

ENV MEDIA_ROOT=/data/media \
    BACKUP_DIR=/data/backups \
    STATIC_ROOT=/app/staticfiles \
    WHITENOISE_USE_FINDERS=false \
    PORT=8000

USER council
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "deploy/healthcheck.py", "web", "/healthz"]

CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "council.wsgi:application"]
