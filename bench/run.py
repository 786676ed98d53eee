"""`make bench`: generate national data at each scale, serve it with gunicorn, measure, report.

    python -m bench.run --scales "1 10" [--regenerate] [--samples 100] [--load-seconds 60]

Each scale gets its own PostgreSQL database, `<name>_s<scale>` next to BENCH_DATABASE_URL's (or
DATABASE_URL's when its name contains "bench"; default postgres://postgres@127.0.0.1:5432/council_bench
→ council_bench_s1, council_bench_s10). A
database already holding that scale's data is reused (migrations applied); --regenerate, or a
database that is missing or incomplete, is dropped, migrated and generated again, timed. The
server is gunicorn with 2 sync workers on 127.0.0.1 (deploy/gunicorn.conf.py, recycling off),
Redis db 2 (BENCH_REDIS_URL), DEBUG off. Results: bench/results/ (JSON per scale, EXPLAIN plans,
the report) and the table in PERFORMANCE.md between its bench markers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.measure import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/council_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/2"
LOCAL_GOVERNMENTS = 1788


class BenchError(Exception):
    pass


def scale_slug(scale: str) -> str:
    return scale.replace(".", "_")


def database_url(base: str, scale: str) -> tuple[str, str]:
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "council_bench"
    if "bench" not in name:
        # The benchmark drops and recreates its databases: never one not meant for it.
        raise BenchError(f"DATABASE_URL names {name!r}: the benchmark only uses databases whose name contains 'bench'")
    db = f"{name}_s{scale_slug(scale)}"
    return urlunsplit(parts._replace(path="/" + db)), db


def admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password, dbname="postgres", autocommit=True,
    )


def run(command: list[str], env: dict, log: Path | None = None, timeout: int | None = None) -> float:
    started = time.perf_counter()
    if log is None:
        subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=timeout)
    else:
        with log.open("w") as handle:
            completed = subprocess.run(command, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout)
        if completed.returncode:
            raise BenchError(f"{' '.join(command[:4])} failed; see {log}:\n" + "\n".join(log.read_text().splitlines()[-15:]))
    return time.perf_counter() - started


def expected_policies(scale: str) -> int:
    """The consented policies generate_national_data makes at this scale (its Plan's rule)."""
    return max(1, round(80 * float(scale)))


def prepare(scale: str, url: str, db: str, env: dict, regenerate: bool) -> dict:
    """The scale's database, generated unless it already holds this scale's data."""
    with admin_connection(url) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone() is not None
    info_file = RESULTS / f"generate-s{scale_slug(scale)}.json"
    if exists and not regenerate:
        import psycopg

        try:
            with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
                schedules = conn.execute("SELECT count(*) FROM progress_reportingschedule").fetchone()[0]
                adoption = conn.execute("SELECT count(*) FROM progress_adoption").fetchone()[0]
        except psycopg.Error:
            schedules = adoption = -1
        complete = schedules == expected_policies(scale) and adoption == schedules * LOCAL_GOVERNMENTS
        if complete:
            print(f"scale {scale}: reusing database {db} ({schedules} consented policies, {adoption:,} adoption rows)", flush=True)
            run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env, RESULTS / f"migrate-s{scale_slug(scale)}.log")
            info = json.loads(info_file.read_text()) if info_file.exists() else {}
            return {**info, "reused": True}
        print(f"scale {scale}: database {db} is incomplete; generating it again", flush=True)
    with admin_connection(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db}"')
        admin.execute(f'CREATE DATABASE "{db}"')
    print(f"scale {scale}: migrating {db}", flush=True)
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env, RESULTS / f"migrate-s{scale_slug(scale)}.log")
    print(f"scale {scale}: generating (this is timed)", flush=True)
    log = RESULTS / f"generate-s{scale_slug(scale)}.log"
    before = os.times()
    seconds = run([PYTHON, "manage.py", "generate_national_data", "--scale", scale, "--seed", "1"], env, log)
    after = os.times()
    vacuum, checkpoint = settle(url)
    info = {"generate_seconds": round(seconds, 1),
            "generate_cpu_seconds": round((after.children_user + after.children_system) - (before.children_user + before.children_system), 1),
            "vacuum_analyze_seconds": round(vacuum, 1), "checkpoint_seconds": round(checkpoint, 1),
            "log": log.read_text().splitlines()[-40:]}
    info_file.write_text(json.dumps(info, ensure_ascii=False, indent=1))
    print(f"scale {scale}: generated in {seconds:.0f} s (+ VACUUM ANALYZE {vacuum:.0f} s, CHECKPOINT {checkpoint:.0f} s)", flush=True)
    return {**info, "reused": False}


def settle(url: str) -> tuple[float, float]:
    """After generating: VACUUM ANALYZE (the planner's statistics, the visibility map), then
    CHECKPOINT, so that the gigabytes the generator wrote are on disk before anything is
    measured, not written by the checkpointer during the measurements. Seconds of each; a
    CHECKPOINT the role may not run (it needs a superuser or pg_checkpoint) is skipped, said."""
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        vacuumed = time.perf_counter()
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            print("CHECKPOINT not allowed for this role: measuring while the checkpointer writes the new data", flush=True)
        return vacuumed - started, time.perf_counter() - vacuumed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, port: int, log: Path) -> subprocess.Popen:
    gunicorn = shutil.which("gunicorn", path=str(Path(PYTHON).parent)) or "gunicorn"
    command = [gunicorn]
    if (ROOT / "deploy" / "gunicorn.conf.py").exists():
        command += ["--config", "deploy/gunicorn.conf.py"]
    # Two sync workers for two cores; no recycling during a measurement (a restart every
    # 1,000 requests would be measured as throughput lost).
    command += ["--workers", "2", "--bind", f"127.0.0.1:{port}", "--max-requests", "0", "council.wsgi:application"]
    handle = log.open("w")
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    stop_server(server)
    raise BenchError(f"gunicorn did not answer /healthz within 90 s; see {log}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default=os.environ.get("SCALES", "1 10"))
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--samples", type=int, default=SAMPLES)
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--floor-seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--no-update", action="store_true", help="do not rewrite PERFORMANCE.md's table")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk; `make bench` installs it)", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    # BENCH_DATABASE_URL, else DATABASE_URL when it names a bench database, else the default:
    # a DATABASE_URL set for development or CI is never the one dropped and regenerated.
    base = os.environ.get("BENCH_DATABASE_URL") or ""
    if not base:
        configured = os.environ.get("DATABASE_URL", "")
        base = configured if "bench" in urlsplit(configured).path else DEFAULT_DATABASE_URL
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    scales = args.scales.split()
    results = []
    try:
        for scale in scales:
            float(scale)  # a number, or stop here
            url, db = database_url(base, scale)
            env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "DEBUG": "false",
                   "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key-" + "x" * 40),
                   "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver", "SECURE_SSL_REDIRECT": "false",
                   # Production's level: every request writes its access line (council.access),
                   # as it does in production, and that is measured with it.
                   "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"), "PYTHONUNBUFFERED": "1",
                   # Two users make every request of the run: production's per-user rates would
                   # answer most of them 429 and the figures would time the throttle. The
                   # throttles still run (their cache reads and writes are part of each request).
                   "API_THROTTLE_USER": "10000000/minute", "API_THROTTLE_TOKEN": "10000000/minute",
                   "API_THROTTLE_ANON": "10000000/minute"}
            generated = prepare(scale, url, db, env, args.regenerate)
            flush_redis(redis_url)
            port = free_port()
            server = start_server(env, port, RESULTS / f"gunicorn-s{scale_slug(scale)}.log")
            out = RESULTS / f"scale-{scale_slug(scale)}.json"
            try:
                print(f"scale {scale}: measuring against gunicorn on port {port}", flush=True)
                run([PYTHON, "-m", "bench.measure", "--scale", scale, "--server", f"http://127.0.0.1:{port}", "--out", str(out),
                     "--samples", str(args.samples), "--load-seconds", str(args.load_seconds),
                     "--floor-seconds", str(args.floor_seconds), "--connections", str(args.connections)],
                    env, RESULTS / f"measure-s{scale_slug(scale)}.log")
            finally:
                stop_server(server)
            result = json.loads(out.read_text())
            result["generation"] = generated
            out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
            results.append(result)
    except (BenchError, ValueError, subprocess.SubprocessError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1

    from bench.report import write_report

    text = write_report(results, update_performance_md=not args.no_update)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
