"""Gunicorn settings for the web service (docker-compose.yml, README "Deployment").

Every value can be changed from the environment without rebuilding the image:
GUNICORN_BIND, WEB_CONCURRENCY (worker processes), GUNICORN_THREADS, GUNICORN_TIMEOUT,
GUNICORN_MAX_REQUESTS, GUNICORN_ACCESS_LOG. Logs go to standard output/error, where `docker compose
logs` reads them.
"""

import multiprocessing
import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: requests are short (PDFs are rendered by Celery, not in the request).
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = max_requests // 10
# Heartbeat files in memory, not on the container's overlay filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn 24+ opens a control socket in $HOME by default; nothing here uses it (older
# versions ignore the name).
control_socket_disable = True
# The application writes one access line per request itself (the logger "council.access":
# JSON with the request id, route, user and duration; council/ops/middleware.py). gunicorn's
# own plain line said less and cost three times as much (about 120 µs of a 1.3 ms answer from
# the response cache, against 35 µs): off unless GUNICORN_ACCESS_LOG names a file ("-" for
# standard output).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The application is loaded in each worker, not in the arbiter: a worker that cannot reach
# the database at start does not take the whole server down, and connections are not shared.
preload_app = False


# Prometheus multiprocess mode (PROMETHEUS_MULTIPROC_DIR): each worker writes its own files
# there; the directory is emptied when the server starts and a dead worker's live gauges are
# dropped, as prometheus_client documents for gunicorn.
def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for entry in path.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        try:
            from prometheus_client import multiprocess
        except ImportError:
            return
        multiprocess.mark_process_dead(worker.pid)


# What a worker has loaded when it starts (Django's apps, models, settings, the URLconf) lives
# as long as the worker: moved out of the collector's generations, the full collections that a
# page of many rows sets off no longer walk it. Measured on a list of 50 candidates at scale 10:
# median 10.4 → 9.1 ms, 90th percentile 14.1 → 9.9 ms.
#
# The youngest generation is then collected every 50,000 allocations instead of every 700: a
# page of 50 consent rounds allocates some 20,000 objects, nearly all freed by reference
# counting when the response is sent, so the collector ran about thirty times a page to find
# next to nothing. Measured in-process at scale 10, alternating both settings batch by batch:
# consent rounds mean 31.9 → 25.9 ms, progress reports (municipal official) 34.8 → 31.7 ms.
GC_THRESHOLD = (50_000, 20, 20)


def post_worker_init(worker):
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
