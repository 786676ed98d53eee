"""The open-data ZIP holds exactly what a local official may see, as CSV."""

import csv
import io
import zipfile

import pytest
from django.contrib.auth import get_user_model

from council import opendata
from council.dashboards import aggregates
from progress import actions as progress_actions


@pytest.fixture
def world(db, consented_policy, submitted_policy, user):
    from candidates import actions as candidate_actions

    consented = consented_policy("soumu")
    drafting = submitted_policy("mhlw")
    progress_actions.set_schedule(consented, user("secretariat"), frequency="quarterly", due_days_after_period=30)
    candidate_actions.propose_candidate(user("secretariat"), title="非公開の提案", description="概要", owning_ministry=consented.ministry)
    aggregates.rebuild_all()
    return consented, drafting


def _read(content: bytes) -> dict[str, list[list[str]]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    tables = {}
    for name in archive.namelist():
        if name.endswith(".csv"):
            text = archive.read(name).decode("utf-8")
            assert text.startswith("\ufeff"), name
            tables[name] = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert "README.txt" in archive.namelist()
    return tables


def test_the_zip_holds_the_published_data_only(client, demo_password, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    consented, drafting = world
    assert client.login(username="sapporo", password=demo_password)
    response = client.get("/open-data/council-open-data.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    tables = _read(b"".join(response.streaming_content))
    assert set(tables) == set(opendata.FILES)
    policies = tables["policies.csv"]
    assert policies[0][:3] == ["id", "candidate_id", "title"]
    assert [int(r[0]) for r in policies[1:]] == [consented.pk]  # the draft never put to consent is absent
    assert len(tables["adoption.csv"]) == 1 + 1788
    assert any(r[1:3] == ["011002", "札幌市"] for r in tables["adoption.csv"])
    assert "非公開の提案" not in {r[1] for r in tables["candidates.csv"]}
    assert len(tables["consent_ballots.csv"]) == 1 + 3
    assert all("cost" not in h for h in tables["feasibility_studies.csv"][0])


def test_published_rules_match_what_a_local_official_sees(world):
    """Each published table equals the models' own visibility for 札幌市's official."""
    from candidates.models import Candidate
    from policies.models import ConsentRound, Policy
    from progress.models import Adoption, ProgressReport, UsageReport

    sapporo = get_user_model().objects.get(username="sapporo")
    tables = opendata.published()

    def ids(name):
        return set(tables[name][1].values_list("pk", flat=True))

    assert ids("candidates.csv") == set(Candidate.objects.visible_to(sapporo).values_list("pk", flat=True))
    assert ids("policies.csv") == set(Policy.objects.visible_to(sapporo).values_list("pk", flat=True))
    assert ids("consent_rounds.csv") == set(ConsentRound.objects.visible_to(sapporo).values_list("pk", flat=True))
    assert ids("progress_reports.csv") == set(ProgressReport.objects.visible_to(sapporo).values_list("pk", flat=True))
    assert ids("adoption.csv") == set(Adoption.objects.visible_to(sapporo).values_list("pk", flat=True))
    assert ids("usage_reports.csv") == set(UsageReport.objects.visible_to(sapporo).values_list("pk", flat=True))


def test_the_zip_is_rebuilt_when_the_data_changes(world, settings, tmp_path, django_capture_on_commit_callbacks, user):
    settings.MEDIA_ROOT = tmp_path
    consented, _ = world
    first = opendata.current_zip()
    assert opendata.current_zip() == first  # reused while nothing changed
    from progress.models import Adoption

    adoption = Adoption.objects.get(policy=consented, organization__code="011002")
    with django_capture_on_commit_callbacks(execute=True):
        progress_actions.change_adoption(adoption, user("sapporo"), status="in_use")
    second = opendata.current_zip()
    assert second != first and not first.exists()
    rows = _read(second.read_bytes())["adoption.csv"]
    assert any(r[1] == "011002" and r[3] == "in_use" for r in rows)


def test_open_data_needs_a_login(client, db):
    for url in ("/open-data/", "/open-data/council-open-data.zip"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_open_data_page(client, demo_password, db):
    assert client.login(username="hokkaido", password=demo_password)
    html = client.get("/open-data/").content.decode()
    assert "adoption.csv" in html and "ZIPをダウンロード" in html
