"""Serializers rendered from a plan made once per class (council.api.compiled) answer what DRF's
own rendering answers: every read endpoint, on generated data, as the secretariat, a ministry
officer and a municipal official, in Japanese and in English."""

from datetime import date

import pytest
from django.utils import timezone, translation
from rest_framework import serializers

from bench.endpoints import discover
from council.api import compiled
from council.api.compiled import CompiledRepresentation
from council.national_data import Plan, generate
from tests.api_helpers import get_json, token_client

pytestmark = pytest.mark.django_db


def answers(client, paths) -> dict:
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        found[path] = response.json()
    return found


@pytest.fixture
def drf_rendering(monkeypatch):
    def render(client, paths):
        monkeypatch.setattr(compiled, "COMPILED", False)
        try:
            return answers(client, paths)
        finally:
            monkeypatch.setattr(compiled, "COMPILED", True)

    return render


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_read_endpoint_answers_as_drf_renders_it(user, drf_rendering, language):
    generate(Plan.for_scale(1, seed=7, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))
    compared = 0
    for username in ("secretariat", "soumu", "chijikai", "sapporo"):
        client = token_client(user(username))
        client.credentials(**client._credentials, HTTP_ACCEPT_LANGUAGE=language)
        endpoints, _skipped = discover(lambda path, c=client: get_json(c, path))
        paths = [endpoint.path for endpoint in endpoints]
        fast = answers(client, paths)
        slow = drf_rendering(client, paths)
        for path in paths:
            assert fast[path] == slow[path], (username, path)
        compared += len(paths)
    assert compared > 120


class Row:
    def __init__(self, **values):
        self.__dict__.update(values)


class Inner(CompiledRepresentation, serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()


class Outer(CompiledRepresentation, serializers.Serializer):
    title = serializers.CharField()
    number = serializers.IntegerField(source="inner.count", read_only=True)
    ratio = serializers.FloatField()
    flag = serializers.BooleanField()
    when = serializers.DateTimeField()
    day = serializers.DateField()
    choice = serializers.ChoiceField(choices=[("a", "A"), ("1", "one")])
    inner = Inner(allow_null=True)
    items = Inner(many=True)
    whole = Inner(source="*")
    optional = serializers.CharField(required=False)
    doubled = serializers.SerializerMethodField()
    rows = serializers.ListField(child=serializers.DictField(), required=False)  # JSON rows: the shortcut
    numbers = serializers.ListField(child=serializers.DictField(child=serializers.IntegerField()), required=False)

    def get_doubled(self, row) -> int:
        return row.count * 2 * self.context.get("factor", 1)


def test_field_kinds_render_as_drf_renders_them():
    import datetime
    import zoneinfo

    when = datetime.datetime(2026, 4, 1, 0, 30, tzinfo=datetime.UTC)
    rows = [
        Row(title="題", inner=Row(name="内", count=3), ratio=1, flag=1, when=when, day=date(2026, 4, 1), choice=1,
            items=[Row(name="一", count=1), Row(name=2, count="2")], name="全体", count=5),
        Row(title=7, inner=None, ratio=0.5, flag=False, when=when.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo")),
            day=date(2027, 3, 31), choice="a", items=[], name="", count=0, optional="あり",
            rows=[{"name": "一", "percent": 50.0, 1: None, "nested": {"a": [1]}}, None, {}], numbers=[{"a": "1", 2: None}]),
        Row(title="", inner=None, ratio=0, flag=True, when=when, day=date(2026, 4, 1), choice="a", items=[], name="x",
            count=1, rows=[]),
    ]
    for zone in ("Asia/Tokyo", "UTC", "America/New_York"):
        for row in rows:
            with translation.override("ja"), timezone.override(zone):
                ours = Outer(row, context={"factor": 3}).data
                listed = Outer([row, row], many=True, context={"factor": 3}).data
                compiled.COMPILED = False
                try:
                    theirs = Outer(row, context={"factor": 3}).data
                finally:
                    compiled.COMPILED = True
            assert ours == theirs, zone
            # and of the same types: 1 == 1.0, but a FloatField renders 1.0 into the JSON
            assert {name: type(value) for name, value in ours.items()} == {name: type(value) for name, value in theirs.items()}
            assert listed == [theirs, theirs], zone
            assert ours["doubled"] == row.count * 6  # the method ran on the serializer in use, with its context
    assert Outer(rows[1]).data["rows"][0] == {"name": "一", "percent": 50.0, "1": None, "nested": {"a": [1]}}
    assert compiled._is_list_of_plain_dicts(Outer().fields["rows"])
    assert not compiled._is_list_of_plain_dicts(Outer().fields["numbers"])  # its values render through their field
    assert Outer(rows[0]).data["when"].endswith("+09:00")  # the zone of the rendering, not the first one


def test_a_list_looks_its_time_zone_up_once(monkeypatch):
    import datetime

    when = datetime.datetime(2026, 4, 1, 0, 30, tzinfo=datetime.UTC)
    rows = [Row(title=str(n), inner=None, ratio=0, flag=True, when=when, day=date(2026, 4, 1), choice="a", items=[],
                name="x", count=n, rows=[]) for n in range(5)]
    looked_up = []
    real = timezone.get_current_timezone
    monkeypatch.setattr(compiled.timezone, "get_current_timezone", lambda: looked_up.append(1) or real())
    listed = Outer(rows, many=True)
    assert type(listed) is compiled.CompiledList
    with timezone.override("UTC"):
        data = listed.data
    assert len(looked_up) == 1
    assert [row["when"] for row in data] == ["2026-04-01T00:30:00Z"] * 5
    # a list class of the serializer's own is kept
    class Own(serializers.ListSerializer):
        pass

    class WithOwn(Outer):
        class Meta:
            list_serializer_class = Own

    assert type(WithOwn(rows, many=True)) is Own


class Missing(Exception):
    pass


class Tricky:
    """Attributes the written function cannot read as plain values: DRF's lookup decides."""

    title = "題"

    def label(self):  # a method as a field's source: DRF calls it
        return "ラベル"

    @property
    def broken(self):  # a missing attribute: the field's default
        raise AttributeError("broken")

    @property
    def gone(self):  # a related object that does not exist: null
        from django.core.exceptions import ObjectDoesNotExist

        raise ObjectDoesNotExist

    @property
    def absent(self):  # not required: the key is left out
        raise AttributeError("absent")

    @property
    def failing(self):  # any other error is the caller's, as in DRF
        raise Missing


class TrickySerializer(CompiledRepresentation, serializers.Serializer):
    title = serializers.CharField()
    label = serializers.CharField()
    broken = serializers.CharField(default="既定")
    gone = serializers.CharField(allow_null=True)
    absent = serializers.IntegerField(required=False)
    inner = Inner(required=False)


class FailingSerializer(CompiledRepresentation, serializers.Serializer):
    failing = serializers.CharField()


def test_values_the_written_function_cannot_read_render_as_drf_renders_them():
    ours = TrickySerializer(Tricky()).data
    mapped = TrickySerializer({"title": "題", "label": "辞書", "gone": None, "inner": {"name": "内", "count": "4"}}).data
    compiled.COMPILED = False
    try:
        theirs = TrickySerializer(Tricky()).data
        theirs_mapped = TrickySerializer({"title": "題", "label": "辞書", "gone": None, "inner": {"name": "内", "count": "4"}}).data
    finally:
        compiled.COMPILED = True
    assert ours == theirs == {"title": "題", "label": "ラベル", "broken": "既定", "gone": None}
    assert mapped == theirs_mapped == {"title": "題", "label": "辞書", "broken": "既定", "gone": None,
                                       "inner": {"name": "内", "count": 4}}
    with pytest.raises(Missing):
        FailingSerializer(Tricky()).data


def test_each_serializer_class_is_written_out_once():
    TrickySerializer(Tricky()).data
    written = compiled._functions[TrickySerializer]
    TrickySerializer([Tricky(), Tricky()], many=True).data
    assert compiled._functions[TrickySerializer] is written
    assert compiled._functions[Inner] is not None  # the nested serializer's own function, called directly
