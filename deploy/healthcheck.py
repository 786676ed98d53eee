"""Container health checks, in plain Python (the slim image has no curl).

    python deploy/healthcheck.py web   [path]   # GET http://127.0.0.1:8000/healthz (or path): 200 or unhealthy
    python deploy/healthcheck.py beat           # beat's schedule file was written recently

The web check sends a Host header the site accepts (the first of ALLOWED_HOSTS) and says
it came over HTTPS when the site trusts X-Forwarded-Proto, so neither host validation nor
an HTTPS redirect turns a healthy server into a failing check. Exit 0 healthy, 1 not,
with one line on standard output saying why.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BEAT_SCHEDULE = os.environ.get("CELERY_BEAT_SCHEDULE_FILE", "/tmp/celerybeat-schedule")
# Beat wakes at least every 5 minutes (a task runs every minute) and saves its schedule
# every 3: a file older than this means beat is stuck or gone.
BEAT_MAX_AGE = int(os.environ.get("BEAT_HEALTH_MAX_AGE", "600"))


def host_header() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def web(path: str = "/healthz") -> int:
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host_header()})
    if os.environ.get("USE_X_FORWARDED_PROTO", "").lower() in ("1", "true", "yes", "on"):
        request.add_header("X-Forwarded-Proto", "https")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        print(f"unhealthy: {path}: {exc}")
        return 1
    print(f"{'healthy' if status == 200 else 'unhealthy'}: {path} answered {status}")
    return 0 if status == 200 else 1


def beat() -> int:
    files = list(Path(BEAT_SCHEDULE).parent.glob(Path(BEAT_SCHEDULE).name + "*"))
    if not files:
        print(f"unhealthy: no beat schedule file {BEAT_SCHEDULE}*")
        return 1
    age = time.time() - max(f.stat().st_mtime for f in files)
    print(f"{'healthy' if age <= BEAT_MAX_AGE else 'unhealthy'}: beat schedule written {age:.0f} s ago")
    return 0 if age <= BEAT_MAX_AGE else 1


if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "web"
    if kind == "web":
        sys.exit(web(*sys.argv[2:3]))
    if kind == "beat":
        sys.exit(beat())
    print(f"unknown check {kind!r}: use web or beat")
    sys.exit(2)
