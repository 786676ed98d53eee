"""One scale's measurements, against a database bench.run has filled and a gunicorn it started.

    DATABASE_URL=… python -m bench.measure --scale 1 --server http://127.0.0.1:8765 --out results.json

1. Every read endpoint of the REST API (bench.endpoints), as the secretariat and as a municipal
   official (sapporo): queries per request, counted in-process (Django test client, the same
   middleware), and the SQL of each dashboard and list request for EXPLAIN.
2. Latency over HTTP against gunicorn: each endpoint's requests alternate with /healthz (the
   floor: the same middleware and one database query), so the ratio compares both under the
   same load on a shared machine.
3. Throughput: wrk on /healthz, then wrk with mixed authenticated REST reads for 60 s.
4. PDFs: a 5-page Japanese policy version and a 40-page council pack, rendered in-process.
5. EXPLAIN (ANALYZE, BUFFERS) of every query of the dashboards and of the lists.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
USERS = ("secretariat", "sapporo")
# Requests timed per endpoint, user and kind (cached, fresh), each beside a /healthz: with 30,
# the median of one endpoint moved by up to a third from one run to the next on these shared
# 2-core machines.
SAMPLES = 100
WARM_UP = 10


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory, "python": platform.python_version(),
            "kernel": platform.release()}


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float("nan")


# --- HTTP -----------------------------------------------------------------------------------------


class Http:
    """One request per connection, as gunicorn's sync workers answer."""

    def __init__(self, server: str) -> None:
        parts = urlsplit(server)
        self.host, self.port = parts.hostname, parts.port

    def get(self, path: str, token: str | None = None, fresh: bool = False) -> tuple[int, float, bytes]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if fresh:  # past the API's response cache: the answer is made again
            headers["Cache-Control"] = "no-cache"
        started = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        return response.status, (time.perf_counter() - started) * 1000, body


def latency(http: Http, path: str, token: str | None, samples: int, fresh: bool = False) -> dict:
    """Median and p95 of `path`, alternating with /healthz (the floor of the same moments).
    `fresh`: every answer made again, past the API's response cache (`Cache-Control: no-cache`);
    otherwise what a client asking again gets (from the cache, while the data is unchanged)."""
    # Warmed first: 10 requests reach both workers about five times each, so each worker's
    # connection has prepared the endpoint's statements and PostgreSQL has chosen their plans
    # (it plans a prepared statement afresh for its first five runs): the samples are the
    # endpoint as a server that has been up a while answers it.
    for _ in range(WARM_UP):
        http.get(path, token, fresh)
        http.get("/healthz")
    times, floor, errors = [], [], 0
    for _ in range(samples):
        status, ms, _ = http.get(path, token, fresh)
        errors += status != 200
        times.append(ms)
        floor.append(http.get("/healthz")[1])
    median, floor_median = statistics.median(times), statistics.median(floor)
    prefix = "fresh_" if fresh else ""
    return {
        f"{prefix}median_ms": round(median, 2), f"{prefix}p95_ms": round(percentile(times, 0.95), 2),
        f"{prefix}floor_median_ms": round(floor_median, 2), f"{prefix}ratio": round(median / floor_median, 2),
        f"{prefix}errors": errors,
    }


# --- Load -----------------------------------------------------------------------------------------


def wrk(server: str, seconds: int, connections: int, requests_file: Path | None = None, path: str = "/healthz",
        fresh: bool = False) -> dict:
    script = BENCH_DIR / "mixed.lua"
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    if requests_file is not None:
        command += ["-s", str(script), server + "/", "--", str(requests_file)] + (["fresh"] if fresh else [])
    else:
        command += ["-s", str(BENCH_DIR / "plain.lua"), server + path]
    before = loadavg()
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    match = re.search(r"^BENCH_JSON (.*)$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk gave no result:\n{output}")
    result = json.loads(match.group(1))
    result.update({"seconds": seconds, "connections": connections, "loadavg_before": before, "loadavg_after": loadavg()})
    return result


# --- In-process: query counts, SQL, PDFs, EXPLAIN --------------------------------------------------


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
    import django

    django.setup()


def tokens() -> dict[str, str]:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    found = {}
    for username in USERS:
        user = get_user_model().objects.get(username=username)
        token, _created = Token.objects.get_or_create(user=user)
        found[username] = token.key
    return found


def in_process_client(token: str):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT="application/json")


def get_json(client, path: str) -> tuple[int, object]:
    response = client.get(path)
    try:
        return response.status_code, json.loads(response.content)
    except ValueError:
        return response.status_code, None


def count_queries(client, path: str) -> tuple[int, list[str]]:
    """Queries of one request (after a warm-up request, so per-process caches are full)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return len(captured), [q["sql"] for q in captured.captured_queries]


def explain(sql: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    execution = re.search(r"Execution Time: ([\d.]+) ms", plan)
    seq_scans = sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))
    return {"plan": plan, "execution_ms": float(execution.group(1)) if execution else None, "seq_scans": seq_scans}


def pdf_figures(samples: int) -> dict:
    """Render time of a 5-page Japanese policy version and of a 40-page council pack."""
    import io
    import random

    from pypdf import PdfReader

    from council.national_data import policy_body
    from council.pdf import render_pdf
    from policies.models import PolicyVersion
    from policies.pdf import render_version_pdf_bytes
    from progress.models import ProgressReport, ReportStatus
    from progress.pdf import _report_context, adoption_figures, pack_reports, quarter_range

    def pages(data: bytes) -> int:
        return len(PdfReader(io.BytesIO(data)).pages)

    def timed(render, n: int) -> tuple[list[float], bytes]:
        times, data = [], b""
        for _ in range(n):
            started = time.perf_counter()
            data = render()
            times.append(time.perf_counter() - started)
        return times, data

    # A consented policy's last version (with its closed rounds' ballots), its body made long
    # enough for five pages; the body is changed in memory only.
    version = (PolicyVersion.objects.filter(submitted_at__isnull=False, rounds__outcome="consented")
               .select_related("policy").order_by("pk").first())
    original = version.body
    paragraphs, count = 4, 0
    for _ in range(8):
        version.body = policy_body(version.policy.title, original.split("\n")[1][:200], random.Random(1), paragraphs)
        count = pages(render_version_pdf_bytes(version))
        if count == 5:
            break
        step = max(1, abs(round(paragraphs * (5 - count) / max(count, 1))))
        paragraphs = max(1, paragraphs + (step if count < 5 else -step))
    policy_times, data = timed(lambda: render_version_pdf_bytes(version), samples)
    policy = {"pages": pages(data), "median_s": round(statistics.median(policy_times), 3),
              "max_s": round(max(policy_times), 3), "samples": len(policy_times)}

    # The council pack of the last quarter with accepted reports, cut to 40 pages.
    last = ProgressReport.objects.filter(status=ReportStatus.ACCEPTED).order_by("-period_end").first()
    fiscal_year, quarter = last.fiscal_year, last.period

    def render_pack(n: int) -> bytes:
        reports = list(pack_reports(fiscal_year, quarter)[:n])
        figures = adoption_figures([r.policy_id for r in reports])
        entries = [{**_report_context(r), "adoption": figures.get(r.policy_id)} for r in reports]
        start, end = quarter_range(fiscal_year, quarter)
        return render_pdf("progress/pack_pdf.html", {"entries": entries, "fiscal_year": fiscal_year, "quarter": quarter,
                                                     "start": start, "end": end})

    available = pack_reports(fiscal_year, quarter).count()
    n = min(available, 10)
    per_entry = pages(render_pack(n)) / max(n, 1)
    n = min(available, max(1, round(40 / per_entry)))
    pack_times, data = timed(lambda: render_pack(n), max(1, samples // 2))
    pack = {"pages": pages(data), "reports": n, "median_s": round(statistics.median(pack_times), 3),
            "max_s": round(max(pack_times), 3), "samples": len(pack_times)}
    return {"policy_5_pages": policy, "pack_40_pages": pack}


# 北海道: the prefecture with the most local governments (180 with its own row).
PREFECTURE = "010006"
# Another order of the whole adoption list (StableOrderingFilter, read from its own index).
ORDERING = "-updated_at"


def beyond_first_pages(get) -> list[str]:
    """The adoption list's last page (of 50 and of 500), unfiltered and for one prefecture, and
    that prefecture's first page: what a client walking every page, or a prefecture's office,
    asks for; and the whole list newest change first (`?ordering=-updated_at`), its first page
    and its last, what a client picking up changes asks for. The endpoint table measures each
    list's first page only, in its own order."""
    paths = []
    for query, sizes in (("", (50, 500)), (f"prefecture={PREFECTURE}&", (50, 500)), (f"ordering={ORDERING}&", (50,))):
        status, data = get(f"/api/v1/adoption/?{query}page_size=1")
        if status != 200 or not data.get("count"):
            continue
        count = data["count"]
        if query:
            paths.append(f"/api/v1/adoption/?{query[:-1]}")
        for size in sizes:
            paths.append(f"/api/v1/adoption/?{query}{'' if size == 50 else f'page_size={size}&'}page={-(-count // size)}")
    return paths


def mixed_requests(endpoints: dict[str, list], token_of: dict[str, str], policy_ids: list[int]) -> list[tuple[str, str]]:
    """The REST clients' read traffic: dashboards and lists weigh more than single objects."""
    weights = {"dashboard": 3, "list": 2, "detail": 1}
    rows = []
    for username, found in endpoints.items():
        for endpoint in found:
            rows += [(endpoint["path"], token_of[username])] * weights[endpoint["kind"]]
        # What a client syncing adoption and reports per policy asks for.
        for policy in policy_ids[:5]:
            for page in (1, 2, 3):
                rows.append((f"/api/v1/adoption/?policy={policy}&page={page}", token_of[username]))
            rows.append((f"/api/v1/progress-reports/?policy={policy}", token_of[username]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--samples", type=int, default=SAMPLES)
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--floor-seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--pdf-samples", type=int, default=5)
    args = parser.parse_args(argv)

    setup_django()
    from django.conf import settings
    from django.db import connection

    # In-process counts are of the view's own queries: the response cache (which gunicorn
    # keeps on) would answer the second request with one query, the snapshot.
    settings.API_RESPONSE_CACHE_SECONDS = 0
    from bench.endpoints import discover
    from policies.models import Policy

    started = time.time()
    token_of = tokens()
    http = Http(args.server)
    result: dict = {"scale": args.scale, "machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                    "loadavg_start": loadavg(), "endpoints": {}, "skipped": {}}
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        result["machine"]["postgresql"] = cursor.fetchone()[0]

    # 1. Endpoints and their queries, in-process.
    found: dict[str, list] = {}
    explains: list[dict] = []
    floor_client = in_process_client(token_of[USERS[0]])
    result["floor_queries"] = count_queries(floor_client, "/healthz")[0]
    for username in USERS:
        client = in_process_client(token_of[username])
        endpoints, skipped = discover(lambda path, c=client: get_json(c, path))
        result["skipped"][username] = skipped
        rows = []
        for endpoint in endpoints:
            queries, sqls = count_queries(client, endpoint.path)
            rows.append({"key": endpoint.key, "kind": endpoint.kind, "path": endpoint.path, "queries": queries})
            if endpoint.kind in ("dashboard", "list"):
                for number, sql in enumerate(sqls, start=1):
                    if sql.lstrip().upper().startswith("SELECT"):
                        plan = explain(sql)
                        explains.append({"user": username, "key": endpoint.key, "kind": endpoint.kind, "n": number,
                                         "sql": sql, **plan})
        found[username] = rows
    print(f"  discovered {sum(len(v) for v in found.values())} endpoint × user pairs", flush=True)

    # 2. Latency over HTTP.
    result["loadavg_latency"] = loadavg()
    for username, rows in found.items():
        for row in rows:
            row.update(latency(http, row["path"], token_of[username], args.samples))
            row.update(latency(http, row["path"], token_of[username], args.samples, fresh=True))
        result["endpoints"][username] = rows
    # 2b. Pages past the first: a client walking the whole adoption list, a prefecture's.
    result["beyond_first"] = {}
    for username in USERS:
        client = in_process_client(token_of[username])
        rows = []
        for path in beyond_first_pages(lambda path, c=client: get_json(c, path)):
            queries, _sqls = count_queries(client, path)
            rows.append({"path": path, "queries": queries,
                         **latency(http, path, token_of[username], args.samples, fresh=True)})
        result["beyond_first"][username] = rows
    healthz = [http.get("/healthz")[1] for _ in range(args.samples * 3)]
    result["floor"] = {"median_ms": round(statistics.median(healthz), 2), "p95_ms": round(percentile(healthz, 0.95), 2)}
    print(f"  latency measured ({time.time() - started:.0f} s)", flush=True)

    # 3. Throughput.
    policy_ids = list(Policy.objects.filter(status="consented").order_by("pk").values_list("pk", flat=True)[:5])
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        for path, token in mixed_requests(found, token_of, policy_ids):
            handle.write(f"{path}\t{token}\n")
        requests_file = Path(handle.name)
    result["load"] = {
        "healthz": wrk(args.server, args.floor_seconds, args.connections),
        "mixed": wrk(args.server, args.load_seconds, args.connections, requests_file=requests_file),
        "mixed_fresh": wrk(args.server, args.load_seconds, args.connections, requests_file=requests_file, fresh=True),
    }
    requests_file.unlink()
    print(f"  load measured ({time.time() - started:.0f} s)", flush=True)

    # 4. PDFs, 5. EXPLAIN.
    result["pdf"] = pdf_figures(args.pdf_samples)
    result["explain"] = explains
    result["loadavg_end"] = loadavg()
    result["seconds"] = round(time.time() - started)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
