"""Settings for the council platform, read from the environment.

Every value an operator may change comes from an environment variable (see README,
"Settings"). Without any, the project runs on an embedded SQLite database with Celery
tasks executed eagerly, which is what `make run` uses.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG: bool = env.bool("DEBUG", default=False)

# A development key is only acceptable while DEBUG is on; a production process must be
# given its own key or refuse to start (manage.py / wsgi turn this into one line).
if "SECRET_KEY" in env:
    SECRET_KEY: str = env.str("SECRET_KEY")
elif DEBUG:
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
else:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: set the SECRET_KEY environment variable (or DEBUG=true for development)."
    )

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "guardian",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "tenants",
    "candidates",
    "policies",
    "progress",
    "council",
    "council.audit",
    "council.dashboards",
    "council.ops",
]

MIDDLEWARE = [
    # First: the request id covers every later middleware's log lines, and the access log
    # line and HTTP metrics see every response, redirects and refusals included.
    "council.ops.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside CSPMiddleware, so the sandbox policy it gives downloads is the one that stays.
    "council.security.DownloadHeadersMiddleware",
    # Token-authenticated API GETs answered from the cache skip everything below
    # (council/api/response_cache.py); everything above still applies to them.
    "council.api.response_cache.ResponseCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who and from where, for the audit trail (council.audit): after authentication.
    "council.audit.context.AuditContextMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "council.security.OTPRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a flagged lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "council.urls"
WSGI_APPLICATION = "council.wsgi.application"
ASGI_APPLICATION = "council.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.organizations",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that asks the socket instead of sending SELECT 1
    # (council/postgresql/base.py); connection.vendor stays "postgresql".
    DATABASES["default"]["ENGINE"] = "council.postgresql"
    # Reuse connections between requests; health-check them so a restarted server
    # does not leave broken connections behind.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Parameters bound by the server, so that psycopg prepares a statement the connection has
    # run DB_PREPARE_THRESHOLD times: PostgreSQL then parses it once and may keep its plan
    # (planning a page's joins cost more than running them: 3–7 ms for a page of consent
    # rounds, 1 ms to run it). From its second run: a statement run once is never prepared, and
    # one a connection runs again is planned at most the five times PostgreSQL tries custom plans
    # before it keeps one, instead of ten (psycopg's default threshold is 5); a connection
    # reopened every CONN_MAX_AGE seconds pays that again. The first 16 requests of a connection
    # for consent rounds (municipal official): median 41.2 → 35.3 ms. Behind PgBouncer in
    # transaction mode, set DB_SERVER_SIDE_BINDING=false.
    if env.bool("DB_SERVER_SIDE_BINDING", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=env.int("DB_PREPARE_THRESHOLD", default=1)
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery broker and result backend ------------------------------------
REDIS_URL: str | None = env.str("REDIS_URL", default=None) or None

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "council.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="council"),
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # No broker configured: run tasks in-process, so the embedded default needs nothing.
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

# Built dashboard bodies are cached under their ETag's key (council/dashboards/api.py), for
# this long at most; 0 switches the cache off.
DASHBOARD_CACHE_SECONDS: int = env.int("DASHBOARD_CACHE_SECONDS", default=3600)
# Token-authenticated API GETs are answered from the cache while the database's snapshot is
# unchanged (council/api/response_cache.py), for this long at most; 0 switches it off.
API_RESPONSE_CACHE_SECONDS: int = env.int("API_RESPONSE_CACHE_SECONDS", default=300)

# Names the code in the API response cache's keys, so that a deployment never serves answers
# the old code made; unset, the newest modification time of the code names it
# (council/api/response_cache.py works it out on first use, not at every start).
RELEASE: str = env.str("RELEASE", default="")

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# The queue tasks are sent to and workers consume by default (a test worker gets its own).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TIMEZONE = "Asia/Tokyo"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Task modules autodiscovery (<app>.tasks) does not find: sub-packages of the council app.
CELERY_IMPORTS = ("council.meetings.tasks",)
CELERY_BEAT_SCHEDULE = {
    "close-due-consent-rounds": {"task": "policies.tasks.close_due_rounds", "schedule": 60.0},
    "send-consent-reminders": {"task": "policies.tasks.send_consent_reminders", "schedule": 900.0},
    "create-report-obligations": {"task": "progress.tasks.create_report_obligations", "schedule": 3600.0},
    "plan-and-send-reminders": {"task": "progress.tasks.plan_and_send_reminders", "schedule": 900.0},
    "reconcile-reminders": {"task": "progress.tasks.reconcile_reminders", "schedule": 86400.0},
    # Overdue figures change with the date; a daily full rebuild repairs anything a bulk write missed.
    "refresh-dashboard-overdue": {"task": "council.dashboards.tasks.refresh_overdue", "schedule": 900.0},
    "rebuild-dashboards": {"task": "council.dashboards.tasks.rebuild_all", "schedule": 86400.0},
    # Data retention: superseded PDFs older than PDF_RETENTION_DAYS (off when 0).
    "purge-old-pdfs": {"task": "council.tasks.purge_old_pdfs", "schedule": 86400.0},
    # Folds old hourly task counts and deletes old failure records (council.ops).
    "prune-task-records": {"task": "council.ops.tasks.prune_task_records", "schedule": 86400.0},
}
# A task is acknowledged only after it ran, so a worker killed mid-task leaves it on the
# queue for another worker (each task claims its work first, so a rerun does nothing twice).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers an unacknowledged task after this many seconds; longer than any task runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# A due-date reminder claimed by a worker and not marked sent within this many seconds is
# taken to have died with it and is queued again by the reconcile (progress.reminders).
# It must exceed the longest send; only fault-injection tests shorten it.
REMINDER_CLAIM_LEASE_SECONDS: int = env.int("REMINDER_CLAIM_LEASE_SECONDS", default=600)
# A PDF rendering (policy version, progress report or pack) claimed by a worker and not
# finished within this many seconds is taken to have died with it: the next request or
# redelivery renders it. It must exceed the longest rendering (tasks' time limits are lower).
PDF_RENDER_LEASE_SECONDS: int = env.int("PDF_RENDER_LEASE_SECONDS", default=600)

# --- Authentication and permissions ----------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Permissions go to organization groups, never to an anonymous user object.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The published default; `load_demo` refuses it when DEBUG is off.
DEFAULT_DEMO_PASSWORD = "demo-pass-2026"
DEMO_PASSWORD: str = env.str("DEMO_PASSWORD", default=DEFAULT_DEMO_PASSWORD)

# --- Internationalization: Japanese first, English through Django's i18n --------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("英語"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploads and PDFs in an S3-compatible object store instead of MEDIA_ROOT, when a bucket is
# named (django-storages, the `s3` extra; the Docker image has it). Files stay private:
# the pages and the API hand them out after their permission checks, never by bucket URL.
AWS_STORAGE_BUCKET_NAME: str = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    import importlib.util

    if importlib.util.find_spec("storages") is None:
        raise ImproperlyConfigured(
            "AWS_STORAGE_BUCKET_NAME is set but django-storages is not installed: pip install 'council-platform[s3]'."
        )
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Empty: AWS itself; else a MinIO, Ceph or other S3-compatible endpoint.
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            # Empty: boto3 finds credentials itself (instance role, ~/.aws, its own variables).
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("AWS_LOCATION", default=""),
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
# Where `manage.py backup` writes when given no --output.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(BASE_DIR / "backups")))
# Superseded PDFs (an older rendering of a policy version or a progress document of which a
# newer one exists) are deleted this many days after rendering (purge_pdfs; beat, daily).
# 0 keeps every PDF. The newest PDF of each document is never deleted.
PDF_RETENTION_DAYS: int = env.int("PDF_RETENTION_DAYS", default=0)
# Serve straight from the finders when no collectstatic has run (development, tests).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_AUTOREFRESH = DEBUG

# --- E-mail ------------------------------------------------------------------------------
if "EMAIL_URL" in env:
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND",
        default="django.core.mail.backends.console.EmailBackend"
        if DEBUG
        else "django.core.mail.backends.smtp.EmailBackend",
    )
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="council-noreply@localhost")
# Well below the reminders' claim lease, so a hung SMTP connection fails before another
# worker may take the same reminder over (which would send it twice).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes anonymous requests 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token authentication, reading the user's memberships in the same query.
        "council.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # django-filter's backend, skipped when a request names no filter (council/api/filters.py).
    "DEFAULT_FILTER_BACKENDS": ["council.api.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "council.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Actions' ValidationError / PermissionDenied and workflow conflicts → 400 / 403 / 409.
    "EXCEPTION_HANDLER": "council.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "council.api.renderers.JSONRenderer",  # DRF's output, encoded by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # Counted in the cache (Redis in production, so every web process shares the counts);
    # over the rate: 429 with Retry-After. The token endpoint has its own, lower, rate.
    "DEFAULT_THROTTLE_CLASSES": [
        "council.security.AnonRateThrottle",
        "council.security.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="1200/minute"),
        "token": env.str("API_THROTTLE_TOKEN", default="20/minute"),
    },
    # The client address is the one the outermost trusted proxy saw (TRUSTED_PROXY_COUNT);
    # 0 means REMOTE_ADDR, so a client cannot pick its own address with X-Forwarded-For.
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "国・地方デジタル共通基盤推進連絡協議会 API",
    "DESCRIPTION": "REST API of the council platform (see shared/API.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation's error answers (400/401/403/404/409/429) and time fields as the API writes them.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "council.api.schema.add_error_responses"],
    # Several resources have a `status` (and transitions a `to`) with different choices:
    # name each set after its model's choices instead of letting the names collide.
    "ENUM_NAME_OVERRIDES": {
        "CandidateStatusEnum": "candidates.models.CandidateStatus",
        "FeasibilityStudyStatusEnum": "candidates.models.StudyStatus",
        "PolicyStatusEnum": "policies.models.PolicyStatus",
        "ConsentRoundStatusEnum": "policies.models.RoundStatus",
        "ProgressReportStatusEnum": "progress.models.ReportStatus",
        "MilestoneStatusEnum": "progress.models.MilestoneStatus",
        "AdoptionStatusEnum": "progress.models.AdoptionStatus",
        "MeasureRequestStatusEnum": "progress.models.MeasureStatus",
        "MeetingStatusEnum": "council.meetings.models.MeetingStatus",
        "AgendaItemKindEnum": "council.meetings.models.AgendaKind",
        "DecisionOutcomeEnum": "council.meetings.models.DecisionOutcome",
    },
}

# --- Security --------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Proxies in front of the application that append to X-Forwarded-For; the client address
# (login lockout, API throttling) is the one the outermost trusted proxy saw.
TRUSTED_PROXY_COUNT: int = env.int("TRUSTED_PROXY_COUNT", default=0)
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes inside the deployment speak plain HTTP to the process; do not redirect them.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)  # one year
    # Subdomains and browser preload lists are decisions about the whole domain, not this
    # service: opt in. While they are off, Django's reminders about them are silenced.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SILENCED_SYSTEM_CHECKS = [
        *(["security.W005"] if not SECURE_HSTS_INCLUDE_SUBDOMAINS else []),
        *(["security.W021"] if not SECURE_HSTS_PRELOAD else []),
    ]
    # Behind a proxy that terminates TLS, it says which scheme the client used.
    if env.bool("USE_X_FORWARDED_PROTO", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy (django-csp): no inline script or style anywhere; page scripts
# are static files (static/js/). CSP_REPORT_ONLY=true only reports violations.
_CSP = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    },
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

# Login lockout (django-axes): LOGIN_FAILURE_LIMIT failed logins for one username from one
# address lock that pair out for LOGIN_LOCKOUT_MINUTES, on the login page and the API token
# endpoint alike. Attempts are rows in the database, so every web process sees them.
AXES_ENABLED: bool = env.bool("LOGIN_LOCKOUT_ENABLED", default=True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT: int = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout are refused without being counted, so the lockout ends when it said.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "council.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "council.security.client_ip"
# Successful logins are the audit trail's business (council.audit), not a second log here.
AXES_DISABLE_ACCESS_LOG = True

# Two-factor authentication (django-otp, TOTP). OTP_ROLES may enrol a device; a user of a
# role in OTP_REQUIRED_FOR must enrol before using the platform. API tokens are not asked
# for a code (see SECURITY.md).
OTP_ROLES: list[str] = env.list("OTP_ROLES", default=["secretariat_staff", "association_representative"])
OTP_REQUIRED_FOR: list[str] = env.list("OTP_REQUIRED_FOR", default=[])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="共通基盤協議会")

# --- Logging and operations (council.ops) --------------------------------------------------
# One JSON object per line (LOG_FORMAT=json, the default unless DEBUG) or plain text; every
# record carries the request id (X-Request-ID), in web processes and in the Celery tasks a
# request queued. The access log is the logger "council.access", one line per request.
LOG_FORMAT: str = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "council.ops.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "council.ops.logs.JsonFormatter"},
        "text": {"()": "council.ops.logs.TextFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# /metrics: with a token, only `Authorization: Bearer <token>`; without one, only callers on
# loopback or private addresses (see README, "Observability").
METRICS_TOKEN: str = env.str("METRICS_TOKEN", default="")
