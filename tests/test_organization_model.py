import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tenants.models import Organization

pytestmark = pytest.mark.django_db


def make(**fields) -> Organization:
    return Organization(**{"kind": "municipality", "name": "テスト市", **fields})


def errors_of(org: Organization) -> dict:
    with pytest.raises(ValidationError) as excinfo:
        org.full_clean()
    return excinfo.value.message_dict


def test_a_mistyped_code_names_the_check_digit(org):
    errors = errors_of(make(code="011003", parent=org("010006")))
    assert errors["code"] == ["団体コード「011003」の検査数字が正しくありません（正しくは 011002）。"]


def test_a_code_already_registered_is_refused(org):
    errors = errors_of(make(code="011002", parent=org("010006")))
    assert "この団体コードは既に登録されています。" in errors["code"]


def test_an_unknown_kind_is_refused():
    errors = errors_of(make(kind="city", code="011002"))
    assert errors["kind"] == ["団体の種別「city」は存在しません。"]


def test_a_municipality_needs_the_prefecture_of_its_code(org):
    assert errors_of(make(code="011002"))["parent"] == ["市区町村には所属都道府県が必要です。"]
    errors = errors_of(make(code="011002", parent=org("020001")))
    assert "青森県に属しません" in errors["parent"][0]


def test_a_prefecture_code_must_look_like_one():
    errors = errors_of(make(kind="prefecture", code="011002", name="架空県"))
    assert errors["code"] == ["都道府県の団体コードは3〜5桁目が000です。"]


def test_national_bodies_use_lowercase_identifiers():
    errors = errors_of(make(kind="ministry", code="Soumu 2", name="架空省"))
    assert "英小文字" in errors["code"][0]


def test_kana_are_stored_as_full_width_katakana(org):
    created = Organization(kind="ministry", code="test-agency", name="試験庁", name_kana="しけんちょう")
    created.full_clean()
    created.save()
    created.refresh_from_db()
    assert created.name_kana == "シケンチョウ"
    half_width = Organization(kind="ministry", code="test-agency-2", name="試験庁2", name_kana="ｼｹﾝ")
    half_width.save()
    assert half_width.name_kana == "シケン"


def test_saving_creates_the_organizations_group():
    created = Organization.objects.create(kind="ministry", code="test-agency", name="試験庁")
    assert created.group.name == "org:test-agency"


def test_the_database_refuses_a_municipality_without_a_prefecture():
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(kind="municipality", code="019992", name="孤立町")


def test_the_database_refuses_an_unknown_kind():
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(kind="city", code="zz", name="謎")
