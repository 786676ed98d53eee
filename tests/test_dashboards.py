"""Dashboard figures against a hand-counted world, their refresh on change, and the REST
dashboards with ETag / Last-Modified."""

from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from council import calendar
from council.dashboards import aggregates, queries
from council.dashboards.models import AdoptionFigure, CostFigure, Stamp, SummaryFigure
from progress import actions as progress_actions
from progress.models import Adoption, AdoptionStatus
from tenants.models import Organization

User = get_user_model()
HOKKAIDO_LOCAL_GOVERNMENTS = 180  # 北海道 itself and its 179 municipalities (reference data)
TOKYO_LOCAL_GOVERNMENTS = 63  # 東京都, 23 special wards, 26 cities, 5 towns, 8 villages
ALL_LOCAL_GOVERNMENTS = 1788


def u(name):
    return User.objects.get(username=name)


@pytest.fixture
def hand_counted(db, consented_policy, submitted_policy):
    """What the assertions count by hand:

    candidates: soumu selected (consented policy), mhlw selected (drafting policy), cfa proposed ×2,
      soumu withdrawn → 5; studies: 2 accepted (soumu, mhlw); policies: consented 1, drafting 1;
      consent rounds: 1 consented; reports: the current period's obligation of the consented
      policy (due); measure requests: 1 open (soumu).
    adoption of the consented policy: 札幌市 in_use, 北海道 planned, 旭川市 considering,
      新宿区 not_applicable, every other local government not_planned.
    """
    from candidates import actions as candidate_actions

    consented = consented_policy("soumu")
    drafting = submitted_policy("mhlw")
    secretariat = u("secretariat")
    cfa = Organization.objects.get(code="cfa") if Organization.objects.filter(code="cfa").exists() else None
    cfa = cfa or u("cfa").memberships.get().organization
    for title in ("児童手当の共通化", "保育の共通化"):
        candidate_actions.propose_candidate(secretariat, title=title, description="概要", owning_ministry=cfa)
    withdrawn = candidate_actions.propose_candidate(
        secretariat, title="取り下げる候補", description="概要", owning_ministry=consented.ministry
    )
    candidate_actions.decide(withdrawn, secretariat, "withdrawn")
    progress_actions.set_schedule(consented, secretariat, frequency="quarterly", due_days_after_period=30)
    progress_actions.request_measures(
        secretariat, policy=consented, request="移行計画の前倒しを検討してください。", due_date=calendar.today() + timedelta(days=20)
    )
    changes = {
        "011002": (AdoptionStatus.IN_USE, None, "sapporo"),  # 札幌市
        "010006": (AdoptionStatus.PLANNED, 2028, "hokkaido"),  # 北海道
        "012041": (AdoptionStatus.CONSIDERING, None, "soumu"),  # 旭川市
        "131041": (AdoptionStatus.NOT_APPLICABLE, None, "soumu"),  # 新宿区
    }
    for code, (status, year, by) in changes.items():
        adoption = Adoption.objects.get(policy=consented, organization__code=code)
        progress_actions.change_adoption(adoption, u(by), status=status, target_fiscal_year=year)
    aggregates.rebuild_all()
    return consented, drafting


def test_summary_matches_the_hand_count(hand_counted):
    result = queries.summary(queries.Filters())
    assert result["candidates"]["by_status"] == {
        "proposed": 2, "under_review": 0, "selected": 2, "not_selected": 0, "withdrawn": 1
    }
    assert result["candidates"]["total"] == 5
    assert result["feasibility_studies"] == {
        "total": 2, "by_status": {"assigned": 0, "submitted": 0, "accepted": 2, "returned": 0}, "overdue": 0
    }
    assert result["policies"]["by_status"] == {"drafting": 1, "in_consent": 0, "consented": 1, "withdrawn": 0}
    assert result["consent_outcomes"] == {"open": 0, "consented": 1, "not_consented": 0}
    assert result["progress_reports"]["total"] == 1
    assert result["progress_reports"]["by_status"]["due"] == 1
    assert result["progress_reports"]["overdue"] == 0
    assert result["measure_requests"] == {
        "total": 1, "by_status": {"open": 1, "responded": 0, "closed": 0}, "open": 1, "overdue": 0
    }


def test_summary_filters_by_ministry_fiscal_year_and_policy(hand_counted):
    consented, drafting = hand_counted
    soumu = queries.summary(queries.Filters(ministry=consented.ministry_id))
    assert soumu["candidates"]["by_status"]["selected"] == 1
    assert soumu["candidates"]["by_status"]["withdrawn"] == 1
    assert soumu["candidates"]["by_status"]["proposed"] == 0
    assert soumu["measure_requests"]["open"] == 1
    mhlw = queries.summary(queries.Filters(ministry=drafting.ministry_id))
    assert mhlw["policies"]["by_status"] == {"drafting": 1, "in_consent": 0, "consented": 0, "withdrawn": 0}
    assert mhlw["measure_requests"]["total"] == 0
    this_year = calendar.fiscal_year(calendar.today())
    assert queries.summary(queries.Filters(fiscal_year=this_year))["candidates"]["total"] == 5
    assert queries.summary(queries.Filters(fiscal_year=this_year - 3))["candidates"]["total"] == 0
    one = queries.summary(queries.Filters(policy=consented.pk))
    assert one["candidates"]["total"] == 1  # the candidate the policy came from
    assert one["consent_outcomes"]["consented"] == 1
    assert one["progress_reports"]["total"] == 1
    assert queries.summary(queries.Filters(policy=drafting.pk))["progress_reports"]["total"] == 0


def test_overdue_figures_follow_the_date(hand_counted):
    later = calendar.today() + timedelta(days=400)
    aggregates.rebuild_summary(today=later)
    result = queries.summary(queries.Filters())
    assert result["progress_reports"]["overdue"] == 1
    assert result["measure_requests"]["overdue"] == 1


def test_adoption_per_prefecture_for_every_prefecture(hand_counted):
    consented, _ = hand_counted
    result = queries.adoption_by_prefecture(consented.pk)
    assert len(result["results"]) == 47
    assert [r["code"] for r in result["results"]][:2] == ["010006", "020001"]
    assert result["results"][-1]["code"] == "470007"
    national = result["national"]
    assert national["total"] == ALL_LOCAL_GOVERNMENTS
    assert national["counts"] == {
        "not_planned": ALL_LOCAL_GOVERNMENTS - 4, "considering": 1, "planned": 1, "migrating": 0, "in_use": 1, "not_applicable": 1
    }
    assert national["in_use_rate"] == round(1 / (ALL_LOCAL_GOVERNMENTS - 1) * 100, 1)
    by_code = {r["code"]: r for r in result["results"]}
    hokkaido = by_code["010006"]
    assert hokkaido["total"] == HOKKAIDO_LOCAL_GOVERNMENTS
    assert hokkaido["counts"]["in_use"] == 1 and hokkaido["counts"]["planned"] == 1 and hokkaido["counts"]["considering"] == 1
    assert hokkaido["in_use_rate"] == round(100 / HOKKAIDO_LOCAL_GOVERNMENTS, 1)
    tokyo = by_code["130001"]
    assert tokyo["total"] == TOKYO_LOCAL_GOVERNMENTS
    assert tokyo["counts"]["not_applicable"] == 1
    assert tokyo["in_use_rate"] == 0.0
    assert sum(r["total"] for r in result["results"]) == ALL_LOCAL_GOVERNMENTS
    for row in result["results"]:
        if row["code"] not in ("010006", "130001"):
            assert row["counts"]["not_planned"] == row["total"] > 0, row["code"]


def test_adoption_per_municipality_of_one_prefecture(hand_counted):
    consented, _ = hand_counted
    hokkaido = Organization.objects.get(code="010006")
    result = queries.adoption_by_municipality(consented.pk, hokkaido)
    assert len(result["results"]) == HOKKAIDO_LOCAL_GOVERNMENTS
    assert result["results"][0]["code"] == "010006"
    statuses = {r["code"]: r["status"] for r in result["results"]}
    assert statuses["011002"] == "in_use" and statuses["012041"] == "considering" and statuses["010006"] == "planned"
    assert result["summary"]["counts"]["in_use"] == 1


def test_adoption_trend_counts_each_month_end(hand_counted):
    consented, _ = hand_counted
    points = queries.adoption_trend(consented.pk)
    assert points[-1]["month"] == calendar.today().strftime("%Y-%m")
    assert points[-1]["counts"]["in_use"] == 1
    assert points[-1]["total"] == ALL_LOCAL_GOVERNMENTS


def test_trend_points_replay_history_month_by_month():
    tz = calendar.TOKYO
    statuses = {1: "in_use", 2: "planned", 3: "not_planned"}
    changes = [
        (1, datetime(2026, 1, 31, 23, 59, tzinfo=tz), "not_planned", "considering"),
        (1, datetime(2026, 2, 1, 0, 0, tzinfo=tz), "considering", "in_use"),  # February, Tokyo time
        (2, datetime(2026, 3, 15, tzinfo=tz), "", "planned"),
    ]
    points = aggregates.trend_points(statuses, changes, date(2026, 4, 10))
    by_month: dict = {}
    for month, status, n in points:
        by_month.setdefault(month.strftime("%Y-%m"), {})[status] = n
    assert by_month == {
        "2026-01": {"considering": 1, "not_planned": 2},
        "2026-02": {"in_use": 1, "not_planned": 2},
        "2026-03": {"in_use": 1, "planned": 1, "not_planned": 1},
        "2026-04": {"in_use": 1, "planned": 1, "not_planned": 1},
    }


def test_the_database_count_of_the_history_equals_the_replay_of_every_row(hand_counted):
    """rebuild_adoption counts the history grouped by month in the database; the replay of the
    rows one by one (trend_points) must give the same points, month ends in Tokyo time."""
    from progress.models import AdoptionChange

    consented, _ = hand_counted
    tz = calendar.TOKYO
    moves = [
        ("012050", datetime(2026, 1, 31, 23, 59, tzinfo=tz), "not_planned", "considering"),  # 室蘭市
        ("012050", datetime(2026, 2, 1, 0, 0, tzinfo=tz), "considering", "planned"),  # UTC: still January
        ("012068", datetime(2025, 11, 3, 9, 0, tzinfo=tz), "", "considering"),  # 釧路市
        ("012068", datetime(2026, 3, 15, 12, 0, tzinfo=tz), "considering", "in_use"),
    ]
    for code, at, before, after in moves:
        adoption = Adoption.objects.get(policy=consented, organization__code=code)
        AdoptionChange.objects.create(adoption=adoption, from_status=before, to_status=after, changed_at=at, source="system")
        year = 2028 if after == "planned" else None
        Adoption.objects.filter(pk=adoption.pk).update(status=after, target_fiscal_year=year)
    aggregates.rebuild_adoption([consented.pk])

    stored = [
        (p["month"], status, n)
        for p in queries.adoption_trend(consented.pk)
        for status, n in sorted(p["counts"].items())
        if n
    ]
    statuses = dict(Adoption.objects.filter(policy=consented).values_list("pk", "status"))
    changes = AdoptionChange.objects.filter(adoption__policy=consented).order_by("changed_at", "pk").values_list(
        "adoption_id", "changed_at", "from_status", "to_status"
    )
    replayed = [(m.strftime("%Y-%m"), s, n) for m, s, n in aggregates.trend_points(statuses, changes, calendar.today())]
    assert stored == replayed
    by_month = {}
    for month, status, n in stored:
        by_month.setdefault(month, {})[status] = n
    assert by_month["2025-11"]["considering"] == 1
    assert by_month["2026-01"]["considering"] == 2  # 室蘭市 and 釧路市
    assert by_month["2026-02"]["planned"] == 1 and by_month["2026-02"]["considering"] == 1


def test_cost_split_by_payer_and_effect_scaled_by_adoption(hand_counted):
    consented, drafting = hand_counted
    from candidates.models import FeasibilityStudy

    FeasibilityStudy.objects.filter(candidate=consented.candidate).update(staff_hours_saved_per_year=17_410)
    aggregates.rebuild_cost()
    # The fixture's study: initial 100,000,000 yen, annual 10,000,000 yen, 1,741 affected local
    # governments; the cost-sharing table: usage_fee → local, specification → state,
    # initial_support → state. Initial items: specification + initial_support (both state).
    figure = CostFigure.objects.get(policy=consented)
    assert figure.initial_split == {"state": 100_000_000, "local": 0, "shared": 0, "manager": 0, "unallocated": 0}
    assert figure.annual_split == {"state": 0, "local": 10_000_000, "shared": 0, "manager": 0, "unallocated": 0}
    assert figure.in_use == 1
    assert figure.staff_hours_current == 10  # 17,410 h × 1 / 1,741
    result = queries.costs(consented.__class__.objects.all(), queries.Filters())
    assert result["totals"]["cost_initial_yen"] == 200_000_000  # both policies' studies
    assert result["totals"]["annual_split"]["local"] == 20_000_000
    assert [r["policy"]["id"] for r in result["results"]] == sorted([consented.pk, drafting.pk])


def test_split_cost_adds_up_exactly():
    rows = [
        {"item": "development", "payer": "state"},
        {"item": "survey", "payer": "local"},
        {"item": "specification", "payer": "shared"},
        {"item": "operation", "payer": "manager"},
    ]
    split = aggregates.split_cost(100, rows, aggregates.INITIAL_ITEMS)
    assert split == {"state": 34, "local": 33, "shared": 33, "manager": 0, "unallocated": 0}
    assert aggregates.split_cost(7, rows, aggregates.ANNUAL_ITEMS)["manager"] == 7
    assert aggregates.split_cost(7, [], aggregates.ANNUAL_ITEMS)["unallocated"] == 7
    assert sum(aggregates.split_cost(0, rows, aggregates.INITIAL_ITEMS).values()) == 0


# --- Kept current when the data changes -----------------------------------------------------------


def test_changes_rebuild_the_figures_after_commit(hand_counted, django_capture_on_commit_callbacks):
    consented, _ = hand_counted
    version = Stamp.objects.get(scope=aggregates.adoption_scope(consented.pk)).version
    adoption = Adoption.objects.get(policy=consented, organization__code="012041")
    with django_capture_on_commit_callbacks(execute=True):
        progress_actions.change_adoption(adoption, u("soumu"), status=AdoptionStatus.IN_USE)
    assert Stamp.objects.get(scope=aggregates.adoption_scope(consented.pk)).version == version + 1
    hokkaido = AdoptionFigure.objects.get(policy=consented, prefecture__code="010006", status="in_use")
    assert hokkaido.count == 2
    assert CostFigure.objects.get(policy=consented).in_use == 2

    from candidates import actions as candidate_actions

    with django_capture_on_commit_callbacks(execute=True):
        candidate_actions.propose_candidate(
            u("secretariat"), title="新しい候補", description="概要", owning_ministry=consented.ministry
        )
    assert queries.summary(queries.Filters())["candidates"]["by_status"]["proposed"] == 3


def test_an_import_rebuilds_the_adoption_figures(hand_counted, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    consented, _ = hand_counted
    upload = SimpleUploadedFile("adoption.csv", b"code,status,target_fiscal_year\n012025,in_use,\n012033,migrating,\n", "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        progress_actions.import_adoption(consented, u("soumu"), upload)
    counts = queries.adoption_by_prefecture(consented.pk)["national"]["counts"]
    assert counts["in_use"] == 2 and counts["migrating"] == 1


def test_marks_in_one_transaction_queue_one_rebuild(db, monkeypatch, django_capture_on_commit_callbacks):
    from django.db import transaction

    from council.dashboards import changes
    from council.dashboards import tasks

    calls = []
    monkeypatch.setattr(tasks.refresh_dashboards, "delay", lambda **kw: calls.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            changes.mark(summary=True)
            changes.mark(policies=[3])
            changes.mark(cost=True, policies=[1])
    assert calls == [{"summary": True, "cost": True, "policies": [1, 3]}]


def test_rebuild_is_idempotent(hand_counted):
    before = sorted(SummaryFigure.objects.values_list("grain", "metric", "key", "ministry_id", "fiscal_year", "policy_id", "value"))
    aggregates.rebuild_all()
    after = sorted(SummaryFigure.objects.values_list("grain", "metric", "key", "ministry_id", "fiscal_year", "policy_id", "value"))
    assert before == after


def test_command_rebuilds_everything(hand_counted):
    from io import StringIO

    from django.core.management import call_command

    consented, _ = hand_counted
    AdoptionFigure.objects.all().delete()
    out = StringIO()
    call_command("refresh_dashboards", stdout=out)
    assert AdoptionFigure.objects.filter(policy=consented).exists()
    assert "rebuilt" in out.getvalue()
