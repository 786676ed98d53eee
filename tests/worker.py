"""Real processes for tests/test_celery_worker.py: a Redis server, Celery workers, a mailbox.

Nothing here is used by the application. The worker runs `celery -A council worker` with
council.settings (the production Celery configuration), pointed by environment variables
at the test database, a Redis server and a queue of its own, and a mail backend that
records each message as a file so the test can count what several processes sent.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.core.mail.backends.base import BaseEmailBackend

ROOT = Path(__file__).resolve().parent.parent

# Read by RecordingEmailBackend inside the worker.
MAIL_DIR_ENV = "COUNCIL_TEST_MAIL_DIR"
MAIL_DELAY_ENV = "COUNCIL_TEST_MAIL_DELAY"


class RecordingEmailBackend(BaseEmailBackend):
    """Sends by writing each message, rendered as for SMTP, to its own file — after waiting
    COUNCIL_TEST_MAIL_DELAY seconds, which stands for a slow SMTP conversation: a worker
    killed while it waits has sent nothing. The file appears whole (rename) or not at all."""

    def send_messages(self, messages):
        directory = Path(os.environ[MAIL_DIR_ENV])
        delay = float(os.environ.get(MAIL_DELAY_ENV, "0"))
        sent = 0
        for message in messages:
            if delay:
                time.sleep(delay)
            name = f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex}"
            partial = directory / f"{name}.partial"
            partial.write_bytes(message.message().as_bytes())
            os.replace(partial, directory / f"{name}.eml")
            sent += 1
        return sent


RENDER_DIR_ENV = "COUNCIL_TEST_RENDER_DIR"
RENDER_DELAY_ENV = "COUNCIL_TEST_RENDER_DELAY"


def install_render_recorder() -> None:
    """In a worker's pool process (tests/worker_settings.py): every PDF rendering (policy
    version, progress report or pack, meeting) writes `<id>.start`, waits
    COUNCIL_TEST_RENDER_DELAY seconds, renders for real, then writes `<id>.done`."""
    import council.pdf
    import policies.pdf
    import progress.pdf

    real = council.pdf.render_pdf

    def recording_render(template_name, context):
        directory = Path(os.environ[RENDER_DIR_ENV])
        token = f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        (directory / f"{token}.start").write_text(template_name)
        time.sleep(float(os.environ.get(RENDER_DELAY_ENV, "0")))
        data = real(template_name, context)
        (directory / f"{token}.done").write_text(template_name)
        return data

    for module in (council.pdf, policies.pdf, progress.pdf):
        module.render_pdf = recording_render


def renderings(directory: Path) -> tuple[list[str], list[str]]:
    """(templates whose rendering started, templates whose rendering finished), oldest first."""
    def read(suffix):
        return [path.read_text() for path in sorted(directory.glob(f"*.{suffix}"))]

    return read("start"), read("done")


def read_mailbox(directory: Path) -> list[email.message.EmailMessage]:
    """Every message a worker sent, oldest first (Subject and To decoded)."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(directory.glob("*.eml"))
    ]


def wait_until(predicate, *, timeout: float, interval: float = 0.2, message: str = "condition"):
    """predicate()'s first truthy value within timeout seconds; AssertionError after that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}")
        time.sleep(interval)


try:  # loaded here: the child between fork and exec must not import anything
    import ctypes

    _libc = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:  # not Linux: no safety net, the fixtures' teardown still stops everything
    _libc = None


def _die_with_the_test() -> None:
    """Runs in the child before exec: SIGKILL it when the test process dies (PR_SET_PDEATHSIG),
    so even a test run that is itself killed leaves no worker or Redis behind."""
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ping(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


class RedisServer:
    """A throwaway redis-server of this test's own, started like CI's (no persistence), so it
    can be restarted for real — losing every queued message — without touching the
    machine's Redis."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        with open(self.workdir / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                 "--dir", str(self.workdir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_the_test,
            )
        wait_until(lambda: _ping(self.url) or self.process.poll() is not None, timeout=15, message="redis-server")
        if self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited: {(self.workdir / 'redis.log').read_text()[-2000:]}")

    def stop(self) -> None:
        """A crash: SIGKILL, so nothing in memory survives."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def disrupt(self) -> None:
        self.stop()
        self.start()
        self.restarts += 1


class SharedRedis:
    """The machine's Redis (REDIS_URL), when no redis-server binary is at hand: it is not
    restarted; every client connection is closed instead (the queue survives)."""

    def __init__(self, url: str):
        self.url = url
        self.restarts = 0

    def start(self) -> None:
        if not _ping(self.url):
            raise RuntimeError(f"no Redis at {self.url}")

    def stop(self) -> None:
        pass

    def disrupt(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            for kind in ("normal", "pubsub"):
                try:
                    client.execute_command("CLIENT", "KILL", "TYPE", kind, "SKIPME", "yes")
                except redis.RedisError:
                    pass
        finally:
            client.close()


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to (the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


class Worker:
    """`celery -A council worker` (prefork, one child) in a process group of its own."""

    def __init__(self, name: str, *, env: dict[str, str], queue: str, logdir: Path):
        self.name = name
        self._terminated = False
        self.log_path = logdir / f"worker-{name}.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "council", "worker", "--pool=prefork", "--concurrency=1",
                 "-Q", queue, "-n", f"{name}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle",
                 "-l", "info"],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_the_test,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, timeout: float = 60) -> None:
        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited ({self.process.returncode}):\n{self.log()[-3000:]}")
            return " ready." in self.log()

        wait_until(ready, timeout=timeout, message=f"worker {self.name} to be ready")

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL to the main process and its pool child at once: a crashed machine."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)
        wait_until(lambda: not self._group_alive(), timeout=10, message=f"worker {self.name}'s processes to die")

    def terminate(self) -> None:
        """Asks for a warm shutdown (SIGTERM); stop() waits for it."""
        if self.process.poll() is None and not self._terminated:
            self._terminated = True
            self._signal_group(signal.SIGTERM)

    def stop(self, timeout: float = 15) -> None:
        """Warm shutdown (SIGTERM), SIGKILL if it has not finished within timeout seconds."""
        if self.process.poll() is None or self._group_alive():
            self.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)
            wait_until(lambda: not self._group_alive(), timeout=10, message=f"worker {self.name}'s processes to end")
