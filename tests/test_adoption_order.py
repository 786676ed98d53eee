"""The adoption row's copy of its organization's code (progress/orgcode.py): kept by database
triggers through every way rows are written and codes edited, so that the list's order
(policy, then 団体コード) is read from an index and is the order of the organizations' codes."""

import pytest
from django.db import connection

from progress import actions
from progress.models import Adoption
from tenants.models import Organization
from tests.api_helpers import token_client

pytestmark = pytest.mark.django_db


def copies_match() -> bool:
    rows = Adoption.objects.values_list("organization_code", "organization__code")
    return all(copy == code for copy, code in rows) and rows.exists()


@pytest.fixture
def policy(consented_policy):
    policy = consented_policy("soumu")
    actions.ensure_adoption_rows(policy)  # bulk_create: the rows are written without their code
    return policy


def test_rows_written_in_bulk_get_their_code(policy):
    assert Adoption.objects.filter(policy=policy).count() == 1788
    assert copies_match()


def test_a_saved_row_cannot_carry_another_code(policy):
    row = Adoption.objects.get(policy=policy, organization__code="011002")
    row.organization_code = "999999"
    row.save()
    row.refresh_from_db()
    assert row.organization_code == "011002"
    Adoption.objects.filter(pk=row.pk).update(organization_code="")
    assert Adoption.objects.get(pk=row.pk).organization_code == "011002"


def test_raw_sql_inserts_get_their_code(policy, consented_policy):
    other = consented_policy("mhlw")
    sapporo = Organization.objects.get(code="011002")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO progress_adoption (policy_id, organization_id, status, updated_at, organization_code) "
            "VALUES (%s, %s, 'not_planned', CURRENT_TIMESTAMP, '')",
            [other.pk, sapporo.pk],
        )
    assert Adoption.objects.get(policy=other, organization=sapporo).organization_code == "011002"


def test_an_edited_code_is_followed(policy):
    sapporo = Organization.objects.get(code="011002")
    sapporo.code = "011003"
    sapporo.save()
    assert Adoption.objects.get(policy=policy, organization=sapporo).organization_code == "011003"
    Organization.objects.filter(pk=sapporo.pk).update(code="011002")
    assert copies_match()


def test_the_list_is_in_code_order_and_reads_the_index(policy, user):
    client = token_client(user("secretariat"))
    codes = []
    for page in (1, 2, 36):
        response = client.get("/api/v1/adoption/", {"policy": policy.pk, "page": page})
        assert response.status_code == 200
        codes += [row["organization"]["code"] for row in response.json()["results"]]
    expected = list(Organization.objects.filter(adoptions__policy=policy).order_by("code").values_list("code", flat=True))
    assert codes == expected[:100] + expected[1750:]
    descending = client.get("/api/v1/adoption/", {"policy": policy.pk, "ordering": "-code"}).json()["results"]
    assert [row["organization"]["code"] for row in descending] == expected[::-1][:50]
    if connection.vendor == "postgresql":
        sql = str(Adoption.objects.filter(policy=policy)[:50].query)
        assert "tenants_organization" not in sql  # no join for the order
