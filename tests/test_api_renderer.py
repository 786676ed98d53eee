"""The API's JSON renderer (council.api.renderers, orjson) writes the bytes DRF's renderer
writes: for the values the API's answers hold, and for the answers of every read endpoint on
generated data, as the secretariat and as a municipal official."""

import datetime
import decimal
import uuid
import zoneinfo
from datetime import date

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.test import APIClient

from bench.endpoints import discover
from council.api.renderers import JSONRenderer
from council.national_data import Plan, generate
from tests.api_helpers import get_json, token_client

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")

VALUES = [
    {"id": 1, "title": "公金受取口座の登録支援", "nested": {"list": [1, 2.5, None, True, False]}, "empty": []},
    {"line": "一行目\u2028二行目\u2029三行目", "quote": 'a "b" \\ c\n\t', "emoji": "🏯"},
    {"utc": datetime.datetime(2026, 11, 28, 3, 4, 5, tzinfo=datetime.UTC),
     "tokyo": datetime.datetime(2026, 11, 28, 12, 4, 5, 123456, tzinfo=TOKYO),
     "naive": datetime.datetime(2026, 11, 28, 12, 4, 5), "date": date(2026, 4, 1), "time": datetime.time(9, 30)},
    {"decimal": decimal.Decimal("1234.50"), "lazy": gettext_lazy("対象候補"), "uuid": uuid.UUID(int=7)},
    {"set": {3}, "tuple": (1, "a"), "bytes": b"abc", "floats": [0.1, 1 / 3, 1e15, -0.0, 12345678.9]},
    {1: "int key", "distribution": {"1": 0, "5": 3}},
    [{"a": 1}, {"b": [{}]}],
    {"big": 2**70},  # beyond orjson: DRF's renderer writes it
]


@pytest.mark.parametrize("data", VALUES, ids=range(len(VALUES)))
def test_values_render_as_drf_renders_them(data):
    assert JSONRenderer().render(data, "application/json") == DRFJSONRenderer().render(data, "application/json")


def test_line_and_paragraph_separators_are_escaped():
    assert JSONRenderer().render({"t": "a\u2028b\u2029c"}) == b'{"t":"a\\u2028b\\u2029c"}'


def test_no_data_is_no_body_and_indent_is_drf_s():
    assert JSONRenderer().render(None) == b""
    indented = JSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert indented == DRFJSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert b"\n" in indented


def test_the_api_answers_with_it(db, user):
    client = token_client(user("secretariat"))
    response = client.get("/api/v1/business-areas/")
    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, JSONRenderer)


@pytest.mark.django_db
def test_every_read_endpoint_answers_the_bytes_drf_would(user):
    generate(Plan.for_scale(1, seed=5, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))
    compared = 0
    for username in ("secretariat", "sapporo"):
        client: APIClient = token_client(user(username))
        endpoints, _skipped = discover(lambda path, c=client: get_json(c, path))
        for endpoint in endpoints:
            response = client.get(endpoint.path)
            assert response.status_code == 200, endpoint.path
            if not hasattr(response, "data"):
                continue  # answered with stored bytes (the dashboards' cache), not rendered here
            expected = DRFJSONRenderer().render(response.data, response.accepted_media_type, response.renderer_context)
            assert response.content == expected, endpoint.path
            compared += 1
    assert compared > 60
