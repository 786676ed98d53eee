"""Organizations (and business areas) are named in English on English pages and PDFs, from
the reference data's English names; the API's `name` stays the Japanese name."""

import pytest
from django.utils import translation

from tenants.models import Organization

pytestmark = pytest.mark.django_db


def test_the_label_follows_the_language(org):
    soumu, sapporo = org("soumu"), org("011002")
    assert (str(soumu), str(sapporo)) == ("総務省", "札幌市")
    with translation.override("en"):
        assert (str(soumu), sapporo.label) == ("Ministry of Internal Affairs and Communications", "Sapporo City")
    nameless = Organization(code="x", name="名称だけの団体", name_en="")
    with translation.override("en"):
        assert nameless.label == "名称だけの団体"


@pytest.mark.parametrize(("language", "shown", "not_shown"), [
    ("en", "Ministry of Internal Affairs and Communications", "総務省"),
    ("ja", "総務省", "Ministry of Internal Affairs and Communications"),
])
def test_a_policy_page_names_its_ministry_in_the_readers_language(client, user, submitted_policy, language, shown, not_shown):
    policy = submitted_policy("soumu")
    client.force_login(user("secretariat"))
    page = client.get(policy.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert shown in page
    assert f"{shown}</span>" in page  # the status line's ministry
    assert f"{not_shown}</span>" not in page  # (a user's own name may still contain it)


def test_the_api_keeps_the_japanese_name(api):
    response = api("secretariat").get("/api/v1/organizations/?code=soumu", HTTP_ACCEPT_LANGUAGE="en")
    names = {row["code"]: row["name"] for row in response.json()["results"]}
    assert names.get("soumu") == "総務省"
