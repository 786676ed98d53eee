"""Queries per request of every read endpoint of the REST API, as the secretariat and as a
municipal official: the same on small and on larger data (no N+1), and no more than the
committed baseline (tests/query_baselines.json), so a change that adds queries fails here.

The endpoints are found from council.api.urls (bench.endpoints), so a new resource is
counted without editing this test; record its count (or a deliberate change) with

    UPDATE_QUERY_BASELINES=1 python -m pytest tests/test_query_counts.py
"""

import json
import os
from datetime import date
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bench.endpoints import discover
from council.national_data import Plan, generate
from tests.api_helpers import get_json, token_client

pytestmark = pytest.mark.django_db

BASELINE = Path(__file__).with_name("query_baselines.json")
UPDATE = os.environ.get("UPDATE_QUERY_BASELINES") == "1"
USERS = ("secretariat", "sapporo")
AS_OF = date(2026, 11, 28)


def queries_of(client: APIClient, path: str) -> int:
    # Discovery already requested the path once: per-process caches (content types) are warm,
    # as in a running server.
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


def measure(user) -> dict[str, dict[str, int]]:
    counts = {}
    for username in USERS:
        client = token_client(user(username))
        endpoints, _skipped = discover(lambda path, c=client: get_json(c, path))
        # An empty list reads no page (one query fewer): only lists with rows are compared.
        counts[username] = {endpoint.key: queries_of(client, endpoint.path) for endpoint in endpoints if not endpoint.empty}
    return counts


def test_queries_per_request_do_not_grow_with_the_data_and_match_the_baseline(user):
    savepoint = transaction.savepoint()
    generate(Plan.for_scale(1, seed=3, as_of=AS_OF, policies=2, changes_per_adoption=1))
    small = measure(user)
    transaction.savepoint_rollback(savepoint)
    cache.clear()
    generate(Plan.for_scale(1, seed=3, as_of=AS_OF, policies=4, changes_per_adoption=1))
    large = measure(user)

    grew = [
        f"{username} {key}: {small[username][key]} → {count}"
        for username in USERS
        for key, count in large[username].items()
        if key in small[username] and small[username][key] != count
    ]
    assert not grew, "queries per request grow with the data (N+1?):\n" + "\n".join(grew)

    if UPDATE:
        BASELINE.write_text(json.dumps(large, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    baseline = json.loads(BASELINE.read_text())
    changed = [
        f"{username} {key}: {count} queries (baseline {baseline.get(username, {}).get(key, 'none')})"
        for username in USERS
        for key, count in sorted(large[username].items())
        if baseline.get(username, {}).get(key) != count
    ]
    assert not changed, (
        "queries per request differ from tests/query_baselines.json; fix the extra queries, or record a deliberate "
        "change with UPDATE_QUERY_BASELINES=1:\n" + "\n".join(changed)
    )
    # Both users reach the resources every client reads.
    for username in USERS:
        assert {"/api/v1/policies/", "/api/v1/adoption/", "/api/v1/progress-reports/"} <= set(large[username])
