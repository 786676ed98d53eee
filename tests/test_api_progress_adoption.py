"""/api/v1/adoption/: every local government's adoption of a consented policy, who records
it, its history, and the owning ministry's all-or-nothing import of a whole file."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from progress import actions
from progress.models import Adoption, AdoptionChange
from tests.api_helpers import TINY_PDF, get_user, upload
from tests.api_progress_helpers import (  # noqa: F401 (module-scoped fixtures)
    ASAHIKAWA,
    HOKKAIDO,
    ROLES,
    SAPPORO,
    adoption_of,
    all_municipalities_csv,
    schedule,
    scheduled_world,
    snapshot,
)
from tenants.models import Organization

pytestmark = pytest.mark.django_db

URL = "/api/v1/adoption/"
IMPORT = f"{URL}import/"
FIELDS = {"id", "policy", "organization", "status", "target_fiscal_year", "updated_at"}


def url(adoption=None, suffix: str = "") -> str:
    return URL if adoption is None else f"{URL}{adoption.pk}/{suffix}"


def csv_file(text: str, name: str = "adoption.csv"):
    return upload(name, text.encode("utf-8"), "text/csv")


def xlsx_file(rows, name: str = "adoption.xlsx"):
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return upload(name, buffer.getvalue())


def changed_rows(policy) -> int:
    return Adoption.objects.filter(policy=policy).exclude(status="not_planned").count()


# --- who gets in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method, suffix, detail", [
    ("get", "", False), ("get", "", True), ("patch", "", True), ("get", "history/", True), ("post", "import/", False),
])
def test_anonymous_requests_get_401_and_change_nothing(api, schedule, method, suffix, detail):
    adoption = adoption_of(schedule.policy, SAPPORO)
    before = snapshot()
    target = url(adoption, suffix) if detail else f"{URL}{suffix}"
    response = getattr(api(), method)(target, {"status": "in_use", "policy": schedule.policy_id}, format="json")
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("username", ROLES)
def test_everyone_who_sees_the_policy_sees_every_local_governments_row(api, schedule, username):
    client = api(username)
    page = client.get(f"{URL}?policy={schedule.policy_id}")
    assert page.status_code == 200
    body = page.json()
    assert body["count"] == 1788
    assert len(body["results"]) == 50 and body["next"] and body["previous"] is None
    first = body["results"][0]
    assert set(first) == FIELDS
    assert first["policy"] == {"id": schedule.policy_id, "title": schedule.policy.title}
    assert set(first["organization"]) == {"id", "code", "name"}
    assert client.get(url(Adoption.objects.get(pk=first["id"]))).json() == first


@pytest.mark.parametrize("username, visible, patch", [
    ("secretariat", True, 403), ("soumu", True, 200), ("mhlw", True, 403), ("chijikai", True, 403),
    ("hokkaido", False, 404), ("sapporo", False, 404),
])
def test_adoption_follows_the_policys_visibility(api, schedule, submitted_policy, username, visible, patch):
    # A policy never put to consent is the council's only (its version is submitted).
    hidden = submitted_policy()
    actions.ensure_adoption_rows(hidden)
    row = adoption_of(hidden, SAPPORO)
    client = api(username)
    assert client.get(f"{URL}?policy={hidden.pk}").json()["count"] == (1788 if visible else 0)
    assert client.get(url(row)).status_code == (200 if visible else 404)
    assert client.get(url(row, "history/")).status_code == (200 if visible else 404)
    before = snapshot()
    assert client.patch(url(row), {"status": "in_use"}, format="json").status_code == patch
    if patch != 200:
        assert snapshot() == before


def test_it_filters_by_organization_status_and_prefecture(api, schedule):
    policy = schedule.policy
    sapporo = adoption_of(policy, SAPPORO)
    Adoption.objects.filter(pk=sapporo.pk).update(status="in_use")
    Adoption.objects.filter(policy=policy, organization__code="131016").update(status="in_use")  # 千代田区
    client = api("chijikai")
    organization = Organization.objects.get(code=SAPPORO)
    assert [r["id"] for r in client.get(f"{URL}?organization={organization.pk}").json()["results"]] == [sapporo.pk]
    in_use = client.get(f"{URL}?policy={policy.pk}&status=in_use").json()
    assert {r["organization"]["code"] for r in in_use["results"]} == {SAPPORO, "131016"}
    hokkaido = client.get(f"{URL}?prefecture={HOKKAIDO}&page_size=500").json()
    codes = {r["organization"]["code"] for r in hokkaido["results"]}
    expected = Organization.objects.filter(code=HOKKAIDO).count() + Organization.objects.filter(parent__code=HOKKAIDO).count()
    assert hokkaido["count"] == len(codes) == expected > 100
    assert {HOKKAIDO, SAPPORO, ASAHIKAWA} <= codes
    assert all(code.startswith("01") for code in codes)
    both = client.get(f"{URL}?prefecture={HOKKAIDO}&status=in_use").json()
    assert [r["organization"]["code"] for r in both["results"]] == [SAPPORO]


def test_it_orders_by_code_by_default_and_by_status_on_request(api, schedule):
    Adoption.objects.filter(policy=schedule.policy, organization__code=ASAHIKAWA).update(status="in_use")
    client = api("secretariat")
    codes = [r["organization"]["code"] for r in client.get(URL).json()["results"]]
    assert codes == sorted(codes) and codes[0] == HOKKAIDO
    assert client.get(f"{URL}?ordering=-status").json()["results"][0]["organization"]["code"] != ASAHIKAWA
    assert client.get(f"{URL}?ordering=status").json()["results"][0]["organization"]["code"] == ASAHIKAWA


@pytest.mark.parametrize("query, field", [
    ("?prefecture=010005", "prefecture"),  # wrong check digit
    ("?prefecture=hokkaido", "prefecture"),
    ("?status=using", "status"),
    ("?policy=x", "policy"),
    ("?organization=1.5", "organization"),
    ("?ordering=name", "ordering"),
])
def test_a_bad_filter_is_a_400_naming_it(api, schedule, query, field):
    response = api("secretariat").get(URL + query)
    assert response.status_code == 400
    assert field in response.json()


# --- recording one's own status -----------------------------------------------------------------


@pytest.mark.parametrize("username, code", [
    ("sapporo", SAPPORO),     # a municipality, its own row
    ("hokkaido", HOKKAIDO),   # a prefecture, its own row
    ("soumu", ASAHIKAWA),     # the owning ministry, any row
])
def test_a_local_government_or_the_owning_ministry_records_the_status(api, schedule, username, code):
    adoption = adoption_of(schedule.policy, code)
    response = api(username).patch(url(adoption), {"status": "planned", "target_fiscal_year": 2028}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["target_fiscal_year"], body["organization"]["code"]) == ("planned", 2028, code)
    adoption.refresh_from_db()
    assert (adoption.status, adoption.target_fiscal_year, adoption.updated_by.username) == ("planned", 2028, username)
    [change] = AdoptionChange.objects.filter(adoption=adoption)
    assert (change.from_status, change.to_status, change.target_fiscal_year, change.source, change.changed_by.username) == (
        "not_planned", "planned", 2028, "api", username)


@pytest.mark.parametrize("username, code", [
    ("sapporo", ASAHIKAWA),   # another municipality's row
    ("sapporo", HOKKAIDO),    # its prefecture's row
    ("hokkaido", SAPPORO),    # a prefecture does not record its municipalities' status
    ("mhlw", SAPPORO),        # another ministry
    ("chijikai", SAPPORO),
    ("secretariat", SAPPORO),
])
def test_nobody_else_records_a_status(api, schedule, username, code):
    adoption = adoption_of(schedule.policy, code)
    before = snapshot()
    response = api(username).patch(url(adoption), {"status": "in_use"}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("body, field", [
    ({"status": "planned"}, "target_fiscal_year"),
    ({"status": "planned", "target_fiscal_year": None}, "target_fiscal_year"),
    ({"status": "in_use", "target_fiscal_year": 2028}, "target_fiscal_year"),
    ({"status": "planned", "target_fiscal_year": 1999}, "target_fiscal_year"),
    ({"status": "planned", "target_fiscal_year": "来年"}, "target_fiscal_year"),
    ({"status": "using"}, "status"),
    ({"status": None}, "status"),
])
def test_a_bad_status_is_a_400_naming_the_field_and_saves_nothing(api, schedule, body, field):
    adoption = adoption_of(schedule.policy, SAPPORO)
    before = snapshot()
    response = api("sapporo").patch(url(adoption), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_the_year_stays_while_planned_and_goes_with_any_other_status(api, schedule):
    adoption = adoption_of(schedule.policy, SAPPORO)
    client = api("sapporo")
    assert client.patch(url(adoption), {"status": "planned", "target_fiscal_year": 2028}, format="json").status_code == 200
    assert client.patch(url(adoption), {"target_fiscal_year": 2029}, format="json").json()["target_fiscal_year"] == 2029
    assert client.patch(url(adoption), {"status": "planned"}, format="json").json()["target_fiscal_year"] == 2029
    moved = client.patch(url(adoption), {"status": "migrating"}, format="json").json()
    assert (moved["status"], moved["target_fiscal_year"]) == ("migrating", None)
    rows = client.get(url(adoption, "history/")).json()
    assert [(r["from"], r["to"], r["target_fiscal_year"]) for r in rows] == [
        ("not_planned", "planned", 2028), ("planned", "planned", 2029), ("planned", "planned", 2029),
        ("planned", "migrating", None)]


@pytest.mark.parametrize("username", ROLES)
def test_the_history_is_readable_by_everyone_who_sees_the_row(api, schedule, username):
    adoption = adoption_of(schedule.policy, SAPPORO)
    actions.change_adoption(adoption, get_user("sapporo"), status="considering", source="web")
    actions.change_adoption(adoption, get_user("soumu"), status="in_use", source="api")
    rows = api(username).get(url(adoption, "history/")).json()
    assert [(r["from"], r["to"], r["by"]["username"], r["source"]) for r in rows] == [
        ("not_planned", "considering", "sapporo", "web"), ("considering", "in_use", "soumu", "api")]
    assert set(rows[0]) == {"id", "from", "to", "target_fiscal_year", "by", "at", "source"}


def test_rows_are_not_created_replaced_or_deleted_through_the_api(api, schedule):
    adoption = adoption_of(schedule.policy, SAPPORO)
    client = api("soumu")
    before = snapshot()
    assert client.post(URL, {"policy": schedule.policy_id, "organization": 1}, format="json").status_code == 405
    assert client.put(url(adoption), {"status": "in_use"}, format="json").status_code == 405
    assert client.delete(url(adoption)).status_code == 405
    assert snapshot() == before


# --- import --------------------------------------------------------------------------------------


def test_the_owning_ministry_imports_every_municipality_at_once(api, schedule):
    policy = schedule.policy
    response = api("soumu").post(IMPORT, {"policy": policy.pk, "file": csv_file(all_municipalities_csv())}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json() == {"rows": 1741, "changed": 1741}
    assert Adoption.objects.filter(policy=policy, status="in_use").count() == 871
    assert Adoption.objects.filter(policy=policy, status="planned", target_fiscal_year=2029).count() == 870
    assert AdoptionChange.objects.filter(adoption__policy=policy, source="import", changed_by__username="soumu").count() == 1741
    # The same file again changes nothing.
    again = api("soumu").post(IMPORT, {"policy": policy.pk, "file": csv_file(all_municipalities_csv())}, format="multipart")
    assert again.json() == {"rows": 1741, "changed": 0}


def test_one_bad_line_among_1741_changes_nothing_and_names_the_line(api, schedule):
    before = snapshot()
    response = api("soumu").post(
        IMPORT, {"policy": schedule.policy_id, "file": csv_file(all_municipalities_csv(bad_line=900))}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {"file": ["900行目：団体コード「999999」の地方公共団体はありません。"]}
    assert snapshot() == before


def test_an_xlsx_import(api, schedule):
    rows = [["code", "status", "target_fiscal_year"], [11002, "migrating", None], ["131016", "planned", 2028]]
    response = api("soumu").post(IMPORT, {"policy": schedule.policy_id, "file": xlsx_file(rows)}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json() == {"rows": 2, "changed": 2}
    assert adoption_of(schedule.policy, SAPPORO).status == "migrating"


HEADER = "code,status,target_fiscal_year\n"


@pytest.mark.parametrize("file, message", [
    (("a.pdf", TINY_PDF), "CSV または XLSX"),
    (("a.txt", HEADER.encode() + b"011002,in_use,\n"), "CSV または XLSX"),
    (("a.csv", b"code,state,year\n011002,in_use,\n"), "1行目"),
    (("a.csv", (HEADER + "011002,in_use,\n011002,planned,2028\n").encode()), "3行目：団体コード「011002」が2行目と重複"),
    (("a.csv", (HEADER + "011002,in_use,\n123456,in_use,\n").encode()), "3行目：団体コード「123456」"),
    (("a.csv", (HEADER + "011002,using,\n").encode()), "2行目：導入状況「using」"),
    (("a.csv", (HEADER + "011002,planned,\n").encode()), "2行目：導入予定の場合は導入予定年度が必要"),
    (("a.csv", HEADER.encode()), "取り込む行がありません"),
    (("a.csv", HEADER.encode() + b"0" * (10 * 1024 * 1024)), "10MB"),
])
def test_a_bad_import_file_is_a_400_with_the_reason_and_changes_nothing(api, schedule, file, message):
    before = snapshot()
    response = api("soumu").post(IMPORT, {"policy": schedule.policy_id, "file": upload(*file)}, format="multipart")
    assert response.status_code == 400
    assert message in " ".join(response.json()["file"])
    assert snapshot() == before


def test_an_xlsx_with_a_wrong_header_is_refused(api, schedule):
    rows = [["団体コード", "状況", "年度"], ["011002", "in_use", None]]
    response = api("soumu").post(IMPORT, {"policy": schedule.policy_id, "file": xlsx_file(rows)}, format="multipart")
    assert response.status_code == 400
    assert "1行目" in response.json()["file"][0]


@pytest.mark.parametrize("body, field", [({"file": "{csv}"}, "policy"), ({"policy": "{pk}"}, "file"),
                                         ({"policy": 999999, "file": "{csv}"}, "policy")])
def test_an_import_needs_a_policy_and_a_file(api, schedule, body, field):
    values = {"{csv}": csv_file(HEADER + "011002,in_use,\n"), "{pk}": schedule.policy_id}
    body = {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = snapshot()
    response = api("soumu").post(IMPORT, body, format="multipart")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_a_policy_without_consent_has_no_adoption_to_import(api, schedule, submitted_policy):
    draft = submitted_policy()
    before = snapshot()
    response = api("soumu").post(IMPORT, {"policy": draft.pk, "file": csv_file(HEADER + "011002,in_use,\n")}, format="multipart")
    assert response.status_code == 400
    assert "policy" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("username", ["secretariat", "mhlw", "chijikai", "hokkaido", "sapporo"])
def test_only_the_owning_ministry_imports(api, schedule, username):
    before = snapshot()
    response = api(username).post(
        IMPORT, {"policy": schedule.policy_id, "file": csv_file(HEADER + "011002,in_use,\n")}, format="multipart"
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_a_refused_importer_is_refused_before_the_file_is_read(api, schedule):
    response = api("mhlw").post(IMPORT, {"policy": schedule.policy_id, "file": upload("a.pdf", TINY_PDF)}, format="multipart")
    assert response.status_code == 403


# --- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["secretariat", "soumu", "chijikai", "sapporo"])
def test_the_list_reads_in_constant_queries(api, schedule, username, django_assert_max_num_queries):
    client = api(username)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"{URL}?page_size=5").status_code == 200
    # token, memberships, count, page (policy and organization joined)
    with django_assert_max_num_queries(4):
        response = client.get(f"{URL}?page_size=500&prefecture={HOKKAIDO}")
    assert len(response.json()["results"]) > 100
    with CaptureQueriesContext(connection) as many:
        client.get(f"{URL}?page_size=500")
    assert len(many) == len(few)
