"""The authorization matrix: for every route, the requests to try and each actor's answer.

The answers come from ../shared/DOMAIN.md ("People and what they may do") and the
conventions of ../shared/API.md ("401 without credentials; 403 where the user may see the
object but not do this; 404 where the user may not even see it; 409 for a workflow
transition not allowed from the current state"). Read as rules:

- Anonymous: pages send to the login page, the API answers 401. Only /healthz, /readyz,
  /metrics, the login page, logout, the token endpoint and the language switch are open.
- Secretariat sees everything; it proposes, assesses and decides candidates, sets the criteria
  weights, assigns studies and accepts or returns them, opens and closes consent rounds,
  sets report schedules, accepts or returns reports, requests measures and closes them,
  reports usage (as デジタル庁) and makes the council packs. It never writes a ministry's
  study, draft or report, nor a local government's adoption status.
- The owning ministry (総務省) sees its own drafts (studies, policy versions, reports not yet
  accepted) and writes them; assesses its own candidates; answers measure requests; reports
  usage; imports and records adoption for its policies.
- Another ministry (厚生労働省) sees what is published, never 総務省's drafts (404), and writes
  nothing of 総務省's (403 where it sees the object).
- The association (全国知事会) sees what is published and the drafts put to consent; it
  assesses candidates and casts its ballot, and comments on versions.
- Prefectural and municipal officials see published items and the consent status; each
  records its own organization's adoption status, never another's.
- Dashboards: every signed-in user reads them (cost figures, being study details, are the
  council's). Meetings: the secretariat runs them; everyone signed in reads them once announced
  (a meeting in preparation is outside everyone else's scope); the pack is the council's, draft
  minutes the secretariat's. Audit trail and operations page: the secretariat only.
  /healthz, /readyz and /metrics are unauthenticated infrastructure (/metrics from loopback and
  private addresses, or with its token).

Where DOMAIN.md is coarse the project's documented reading (API.md, the models' visible_to
docstrings) is used and said next to the case: candidates under deliberation are the
council's (secretariat, ministries, associations); an accepted study's details (history,
attachments) are the council's, its conclusion everyone's; measure requests are the
council's.

Each `Route` names one URL pattern (by its resolver name) and its `Case`s: a method, the
world object it is tried on, the body, and `expect(...)`'s table of answers. A write's
successful answer must change rows (unless `changes=False`); any other answer must change
none (tests/authz/writes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from council import calendar
from tests.api_helpers import FILLED_STUDY, TINY_PDF
from tests.authz.actors import ANONYMOUS, LOGIN, expect
from tests.authz.world import World
from tests.conftest import COMPLETE_BODY, COST_SHARING, SCHEDULE

Status = int | str
Data = Callable[[World, str], dict[str, Any]]
TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Case:
    method: str
    target: str | None
    expect: Mapping[str, Status]
    data: Data | None = None
    query: Callable[[World], dict[str, Any]] | None = None
    prepare: Callable[[World], None] | None = None
    changes: bool = True  # a successful write must change rows (False: must change none)
    anonymous: Status | None = None  # None: the route's default
    format: str = "json"  # API bodies: json or multipart
    xfail: Mapping[str, str] = field(default_factory=dict)  # actor -> reason (strict)
    headers: Mapping[str, str] = field(default_factory=dict)  # extra request META
    writes: bool | None = None  # None: every method but GET writes
    # Only these actors (None: all), where the answer provably cannot depend on the role.
    actors: tuple[str, ...] | None = None

    @property
    def is_write(self) -> bool:
        return self.method != "GET" if self.writes is None else self.writes


@dataclass(frozen=True)
class Route:
    name: str
    cases: tuple[Case, ...]
    api: bool = False
    args: Callable[[World, str | None], dict[str, Any]] = lambda w, t: {}

    def answer(self, case: Case, actor: str) -> Status:
        if actor == ANONYMOUS:
            if case.anonymous is not None:
                return case.anonymous
            return 401 if self.api else LOGIN
        return case.expect[actor]


def GET(target=None, expected=None, **kw) -> Case:
    return Case("GET", target, expected, **kw)


def POST(target=None, expected=None, **kw) -> Case:
    return Case("POST", target, expected, **kw)


def PUT(target=None, expected=None, **kw) -> Case:
    return Case("PUT", target, expected, **kw)


def PATCH(target=None, expected=None, **kw) -> Case:
    return Case("PATCH", target, expected, **kw)


def DELETE(target=None, expected=None, **kw) -> Case:
    """By default an endpoint that deletes nothing: every signed-in actor gets 405."""
    return Case("DELETE", target, expected or expect(405), **kw)


# --- URL arguments -------------------------------------------------------------------------------


def pk(w: World, t: str | None) -> dict:
    return {"pk": w[t]}


def policy_pk(w: World, t: str | None) -> dict:
    return {"policy_pk": w[t]}


def candidate_pk(w: World, t: str | None) -> dict:
    return {"candidate_pk": w[t]}


def assessment(w: World, t: str | None) -> dict:
    return {"candidate_pk": w["cand_proposed"], "pk": w[t]}


def version_page(w: World, t: str | None) -> dict:
    policy, number = w.versions[t]
    return {"pk": policy, "number": number}


def version_api(w: World, t: str | None) -> dict:
    policy, number = w.versions[t]
    return {"policy_pk": policy, "number": number}


# --- Bodies ----------------------------------------------------------------------------------------


def const(**values: Any) -> Data:
    return lambda w, actor: dict(values)


def future(days: int = 30) -> str:
    return calendar.next_business_day(calendar.today() + timedelta(days=days)).isoformat()


def pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("追加資料.pdf", TINY_PDF, content_type="application/pdf")


def csv_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("adoption.csv", b"code,status,target_fiscal_year\n011002,in_use,\n", content_type="text/csv")


def business_area_id() -> int:
    from candidates.models import BusinessArea

    return BusinessArea.objects.order_by("pk").values_list("pk", flat=True).first()


def candidate_form(w: World, actor: str) -> dict:
    return {
        "title": "窓口予約の共通化（権限表）", "description": "来庁予約を共通の仕組みで受け付ける。",
        "owning_ministry": w.org("soumu"), "business_areas": [business_area_id()], "proposed_by": w.org("digital"),
    }


def candidate_json(w: World, actor: str) -> dict:
    return {
        "title": "窓口予約の共通化（権限表）", "description": "来庁予約を共通の仕組みで受け付ける。",
        "owning_ministry": w.org("soumu"), "business_areas": [business_area_id()],
    }


SCORES = {"user_need": 3, "expected_effect": 2, "feasibility": 5, "rationale": "改めた評価の理由", "viewpoints": ["ii"]}


def scores_form(w: World, actor: str) -> dict:
    return {**{k: str(v) for k, v in SCORES.items() if k != "viewpoints"}, "viewpoints": ["ii"]}


def study_form(w: World, actor: str) -> dict:
    from candidates.models import FeasibilityStudy

    data = dict.fromkeys(FeasibilityStudy.MINISTRY_FIELDS, "")
    data.update({k: str(v) for k, v in FILLED_STUDY.items()})
    return {**data, "findings": "権限表で改めた所見", "intent": "save"}


def version_form(w: World, actor: str) -> dict:
    from policies.models import PolicyVersion

    policy, number = w.versions["p_draft.v1"]
    revision = PolicyVersion.objects.get(policy_id=policy, number=number).revision
    data = {"body": COMPLETE_BODY + "\n追記。", "revision": str(revision), "intent": "save"}
    for row in COST_SHARING:
        data[f"payer__{row['layer']}__{row['item']}"] = row["payer"]
        if row.get("until"):
            data[f"until__{row['layer']}"] = str(row["until"])
    data.update({"schedule-TOTAL_FORMS": str(len(SCHEDULE)), "schedule-INITIAL_FORMS": str(len(SCHEDULE))})
    for index, row in enumerate(SCHEDULE):
        data[f"schedule-{index}-milestone"] = row["milestone"]
        data[f"schedule-{index}-target_date"] = row["target_date"]
    return data


def closes_at_input(w: World, actor: str) -> dict:
    return {"closes_at": (timezone.now() + timedelta(days=5)).astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")}


def report_form(w: World, actor: str) -> dict:
    data = {"summary": "権限表で改めた概要", "risks": "", "intent": "save"}
    rows = {
        "milestones": [{"name": "標準仕様の策定", "status": "in_progress", "percent": "60", "weight": "1"}],
        "kpis": [{"name": "利用団体数", "target": "100", "actual": "20", "unit": "団体"}],
    }
    for prefix, items in rows.items():
        data[f"{prefix}-TOTAL_FORMS"], data[f"{prefix}-INITIAL_FORMS"] = str(len(items)), "0"
        for i, row in enumerate(items):
            for key, value in row.items():
                data[f"{prefix}-{i}-{key}"] = value
    return data


REPORTERS = {"secretariat": "digital", "mhlw": "mhlw"}


def usage_form(w: World, actor: str) -> dict:
    data = {
        "system_name": "権限表の基盤", "layer": "dpi", "period_start": "2026-04-01", "period_end": "2026-06-30", "note": "",
        "reporter": w.org(REPORTERS.get(actor, "soumu")),
        "metrics-TOTAL_FORMS": "1", "metrics-INITIAL_FORMS": "0",
        "metrics-0-name": "利用団体数", "metrics-0-value": "100", "metrics-0-unit": "団体",
    }
    return data


def usage_json(w: World, actor: str) -> dict:
    return {
        "system_name": "権限表の基盤", "layer": "dpi", "period_start": "2026-04-01", "period_end": "2026-06-30",
        "metrics": [{"name": "利用団体数", "value": 100, "unit": "団体"}],
    }


def pack_period(w: World, actor: str) -> dict:
    from progress.periods import Period

    quarter = Period.containing(calendar.today(), "quarterly")
    return {"period": f"{quarter.fiscal_year}-{quarter.number}"}


def submit_revising_draft(w: World) -> None:
    """p_revising's version 2 submitted, so that a version 3 may be started."""
    from django.contrib.auth import get_user_model

    from policies import actions
    from policies.models import PolicyVersion

    policy, number = w.versions["p_revising.v2"]
    actions.submit_version(PolicyVersion.objects.get(policy_id=policy, number=number), get_user_model().objects.get(username="soumu"))


def credentials(w: World, actor: str) -> dict:
    return {"username": "sapporo" if actor == ANONYMOUS else actor, "password": settings.DEMO_PASSWORD}


# A policy whose version 1 is submitted but not yet put to consent. DOMAIN.md: a ministry
# officer sees "everything published; its own ministry's drafts", an association "published
# items; drafts put to consent". This version is neither published nor put to consent, so it
# is 総務省's (and the secretariat's). The code (Policy/PolicyVersion.visible_to) shows every
# submitted version to every council member; changing that is not a local fix (version
# comments before consent rely on it), so it stands as a known disagreement.
# --- Who may: the tables that recur ------------------------------------------------------------------

EVERYONE = expect(200)
COUNCIL_ONLY = expect(200, local=404)  # council deliberation items: outside a local official's scope
OWNER_DRAFT = expect(404, secretariat=200, soumu=200)  # 総務省's drafts: the secretariat and 総務省 only
# A submitted version is frozen and submitted to the council: published to its members (the
# ministries' "everything published"; the associations comment on it before any consent round),
# not yet to local officials, who see a policy once it is put to consent (DOMAIN.md).
SUBMITTED = expect(200, local=404)
SECRETARIAT_PAGE = expect(403, secretariat=200)
SECRETARIAT_ONLY = expect(404, secretariat=200)  # a meeting in preparation: outside everyone else's scope


def owner_write(ok: int) -> dict:
    """A draft of 総務省's that only 総務省 writes; the secretariat sees it but may not write it."""
    return expect(404, secretariat=403, soumu=ok)


def secretariat_decides(ok: int) -> dict:
    """A move on 総務省's submitted draft that only the secretariat makes."""
    return expect(404, secretariat=ok, soumu=403)


# --- The matrix ---------------------------------------------------------------------------------------

PAGES: tuple[Route, ...] = (
    # The platform itself.
    Route("home", (GET(None, EVERYONE),)),
    Route("healthz", (GET(None, EVERYONE, anonymous=200),)),  # liveness: unauthenticated infra
    Route("login", (GET(None, expect(302), anonymous=200),)),  # signed in: sent home
    Route("logout", (
        POST(None, expect(302), anonymous=302, changes=False),
        GET(None, expect(405), anonymous=405),
    )),
    Route("set_language", (POST(None, expect(302), anonymous=302, changes=False, data=const(language="en", next="/")),)),
    Route("api-docs", (GET(None, EVERYONE),)),

    # Stage 1: candidates (proposed ones are the council's; selected ones everyone's).
    Route("candidates:list", (GET(None, EVERYONE),)),
    Route("candidates:create", (
        GET(None, SECRETARIAT_PAGE),
        POST(None, expect(403, secretariat=302), data=candidate_form),
    )),
    Route("candidates:weights", (
        GET(None, SECRETARIAT_PAGE),
        POST(None, expect(403, secretariat=302), data=const(user_need="2", expected_effect="1", feasibility="1")),
    )),
    Route("candidates:detail", (
        GET("cand_proposed", COUNCIL_ONLY),
        GET("cand_selected", EVERYONE),
    ), args=pk),
    Route("candidates:edit", (
        GET("cand_proposed", expect(403, secretariat=200, local=404)),
        POST("cand_proposed", expect(403, secretariat=302, local=404), data=candidate_form),
    ), args=pk),
    Route("candidates:assess", (
        # The secretariat, the owning ministry and the associations assess; another ministry does not.
        GET("cand_proposed", expect(200, mhlw=403, local=404)),
        POST("cand_proposed", expect(302, mhlw=403, local=404), data=scores_form),
    ), args=pk),
    Route("candidates:transition", (
        POST("cand_proposed", expect(403, secretariat=302, local=404), data=const(to="under_review")),
    ), args=pk),
    Route("candidates:assign-study", (
        GET("cand_selected", SECRETARIAT_PAGE),
        POST("cand_selected", expect(403, secretariat=302), data=lambda w, a: {"due_date": future()}),
    ), args=pk),
    Route("candidates:evidence-download", (
        GET("evidence_proposed", COUNCIL_ONLY),
        GET("evidence_selected", EVERYONE),
    ), args=pk),

    # Stage 2: feasibility studies (drafts: the secretariat and 総務省).
    Route("candidates:study-list", (GET(None, EVERYONE),)),
    Route("candidates:study-detail", (
        GET("study_assigned", OWNER_DRAFT),
        GET("study_submitted", OWNER_DRAFT),
        GET("study_accepted", EVERYONE),
    ), args=pk),
    Route("candidates:study-edit", (
        GET("study_assigned", owner_write(200)),
        POST("study_assigned", owner_write(302), data=study_form),
    ), args=pk),
    Route("candidates:study-transition", (
        POST("study_assigned", owner_write(302), data=const(to="submitted")),
        POST("study_submitted", secretariat_decides(302), data=const(to="accepted")),
    ), args=pk),
    Route("candidates:attachment-download", (
        GET("attach_assigned", OWNER_DRAFT),
        GET("attach_accepted", COUNCIL_ONLY),  # an accepted study's details are the council's
    ), args=pk),

    # Stage 3: policies, versions, consent.
    Route("policies:list", (GET(None, EVERYONE),)),
    Route("policies:create", (
        GET(None, expect(403, soumu=200), query=lambda w: {"candidate": w["cand_ready"]}),
        POST(None, expect(403, soumu=302), query=lambda w: {"candidate": w["cand_ready"]}, data=const(title="権限表で作る方針")),
    )),
    Route("policies:detail", (
        GET("p_draft", OWNER_DRAFT),
        GET("p_submitted", SUBMITTED),
        GET("p_consent", EVERYONE),
        GET("p_revising", EVERYONE),
        GET("p_consented", EVERYONE),
    ), args=pk),
    Route("policies:transition", (
        # Withdrawal: the owning ministry, or the secretariat that runs the process.
        POST("p_draft", expect(404, secretariat=302, soumu=302), data=const(to="withdrawn", comment="取下げ")),
        POST("p_consent", expect(403, secretariat=409, soumu=409), data=const(to="withdrawn", comment="取下げ")),
    ), args=pk),
    Route("policies:version-new", (
        POST("p_revising", expect(403, soumu=302), prepare=submit_revising_draft),
    ), args=pk),
    Route("policies:version", (
        GET("p_draft.v1", OWNER_DRAFT),
        GET("p_submitted.v1", SUBMITTED),
        GET("p_revising.v2", OWNER_DRAFT),  # a draft under a published policy is still a draft
        GET("p_consent.v1", EVERYONE),
    ), args=version_page),
    Route("policies:version-edit", (
        GET("p_draft.v1", owner_write(200)),
        POST("p_draft.v1", owner_write(302), data=version_form),
    ), args=version_page),
    Route("policies:version-submit", (POST("p_draft.v1", owner_write(302)),), args=version_page),
    Route("policies:version-diff", (
        GET("p_revising.v2", OWNER_DRAFT),
        GET("p_revising.v1", EVERYONE),
    ), args=version_page),
    Route("policies:version-pdf", (
        GET("p_consent.v1", EVERYONE),
        POST("p_consent.v1", expect(302), changes=False),  # already rendered: nothing to do
        GET("p_draft.v1", expect(404, secretariat=409, soumu=409)),  # drafts have no PDF
    ), args=version_page),
    Route("policies:version-comment", (
        POST("p_consent.v1", expect(403, secretariat=302, chijikai=302), data=const(section="KPI", body="意見")),
    ), args=version_page),
    Route("policies:round-new", (
        GET("p_revising", SECRETARIAT_PAGE),
        POST("p_revising", expect(403, secretariat=302), data=closes_at_input),
        GET("p_draft", expect(404, secretariat=200, soumu=403)),
    ), args=pk),
    Route("policies:consent-status", (GET(None, EVERYONE),)),
    Route("policies:round-detail", (GET("r_open", EVERYONE), GET("r_failed", EVERYONE)), args=pk),
    Route("policies:round-close", (POST("r_open", expect(403, secretariat=302)),), args=pk),
    Route("policies:ballot", (
        GET("r_open", expect(403, chijikai=200)),
        POST("r_open", expect(403, chijikai=302), data=const(choice="consent")),
    ), args=pk),

    # Stage 4: progress.
    Route("progress:report-list", (GET(None, EVERYONE),)),
    Route("progress:report-detail", (
        GET("report_due", OWNER_DRAFT),
        GET("report_submitted", OWNER_DRAFT),
        GET("report_accepted", EVERYONE),
    ), args=pk),
    Route("progress:report-edit", (
        GET("report_due", owner_write(200)),
        POST("report_due", owner_write(302), data=report_form),
    ), args=pk),
    Route("progress:report-transition", (
        POST("report_due", owner_write(302), data=const(to="submitted")),
        POST("report_submitted", secretariat_decides(302), data=const(to="accepted")),
    ), args=pk),
    Route("progress:report-pdf", (
        GET("report_accepted", EVERYONE),
        POST("report_accepted", expect(302), changes=False),  # already rendered
        POST("report_due", expect(404, secretariat=302, soumu=302)),
    ), args=pk),
    Route("progress:report-attachment", (
        GET("attach_report_due", OWNER_DRAFT),
        GET("attach_report_accepted", EVERYONE),
    ), args=pk),
    Route("progress:packs", (
        GET(None, SECRETARIAT_PAGE),
        POST(None, expect(403, secretariat=302), data=pack_period),
    )),
    Route("progress:pack-download", (GET("pack", SECRETARIAT_PAGE),), args=pk),
    Route("progress:schedule-new", (
        GET("p_bare", SECRETARIAT_PAGE),
        POST("p_bare", expect(403, secretariat=302), data=const(frequency="quarterly", due_days_after_period="30")),
        GET("p_draft", expect(404, secretariat=200, soumu=403)),
    ), args=policy_pk),
    Route("progress:kpi-trend", (GET("p_consented", EVERYONE), GET("p_draft", OWNER_DRAFT)), args=policy_pk),
    Route("progress:adoption-import", (
        GET("p_consented", expect(403, soumu=200)),
        POST("p_consented", expect(403, soumu=302), data=lambda w, a: {"file": csv_file()}),
    ), args=policy_pk),
    Route("progress:adoption", (GET(None, EVERYONE),)),
    Route("progress:adoption-mine", (GET(None, expect(403, local=200)),)),
    Route("progress:adoption-edit", (
        # Each government records its own status, and the owning ministry any; no one else.
        GET("adoption_sapporo", expect(403, soumu=200, sapporo=200)),
        POST("adoption_sapporo", expect(403, soumu=302, sapporo=302), data=const(status="in_use")),
        POST("adoption_asahikawa", expect(403, soumu=302, asahikawa=302), data=const(status="in_use")),
        POST("adoption_hokkaido", expect(403, soumu=302, hokkaido=302), data=const(status="in_use")),
    ), args=pk),
    Route("progress:usage-list", (GET(None, EVERYONE),)),
    Route("progress:usage-new", (
        GET(None, expect(403, secretariat=200, ministries=200)),
        POST(None, expect(403, secretariat=302, ministries=302), data=usage_form),
    )),
    Route("progress:measure-list", (GET(None, expect(200, local=403)),)),
    Route("progress:measure-new", (
        GET(None, SECRETARIAT_PAGE),
        POST(None, expect(403, secretariat=302), data=lambda w, a: {
            "policy": w["p_consented"], "ministry": w.org("soumu"), "request": "対応を示してください。", "due_date": future(),
        }),
    )),
    Route("progress:measure-detail", (GET("measure_open", COUNCIL_ONLY),), args=pk),
    Route("progress:measure-transition", (
        POST("measure_open", expect(403, soumu=302, local=404), data=const(to="responded", response="対応します。")),
        POST("measure_responded", expect(403, secretariat=302, local=404), data=const(to="closed")),
    ), args=pk),

    # Late arrivals: infra, operations, audit, accounts, dashboards, trace, meetings.
    Route("readyz", (GET(None, EVERYONE, anonymous=200),)),  # readiness: unauthenticated infra
    Route("ops:metrics", (
        # Unauthenticated infra for the scraper beside the app (loopback, private networks) ...
        GET(None, EVERYONE, anonymous=200),
        # ... and nobody else without the token, signed in or not.
        GET(None, expect(403), anonymous=403, headers={"REMOTE_ADDR": "8.8.8.8"}),
    )),
    Route("ops:dashboard", (GET(None, SECRETARIAT_PAGE),)),
    Route("audit:list", (GET(None, SECRETARIAT_PAGE),)),
    Route("audit:export", (GET(None, SECRETARIAT_PAGE),)),
    Route("password_change", (
        GET(None, EVERYONE),
        # Each user changes only their own password (the form asks for it).
        POST(None, expect(302), data=lambda w, a: {
            "old_password": settings.DEMO_PASSWORD, "new_password1": "Kengen-hyou-2026!", "new_password2": "Kengen-hyou-2026!",
        }),
    )),
    Route("password_change_done", (GET(None, EVERYONE),)),
    Route("otp-setup", (
        # Roles that may enrol a device (OTP_ROLES): the secretariat and the associations. The
        # page makes the unconfirmed device it shows, so its GET writes.
        GET(None, expect(404, secretariat=200, chijikai=200), writes=True),
    )),
    Route("otp-verify", (
        GET(None, expect(302)),  # no device: nothing to verify, sent on
        POST(None, expect(302), data=const(token="000000"), changes=False),
    )),
    Route("dashboards:prefecture", (
        GET("010006", EVERYONE, query=lambda w: {"policy": w["p_consented"]}),
        GET("010006", OWNER_DRAFT, query=lambda w: {"policy": w["p_draft"]}),
    ), args=lambda w, t: {"code": t}),
    Route("dashboards:costs", (GET(None, COUNCIL_ONLY),)),  # cost figures are study details: the council's
    Route("dashboards:export", (
        GET("summary.csv", EVERYONE),
        GET("costs.csv", COUNCIL_ONLY),
        GET("adoption-prefectures.csv", EVERYONE, query=lambda w: {"policy": w["p_consented"]}),
        GET("adoption-prefectures.csv", OWNER_DRAFT, query=lambda w: {"policy": w["p_draft"]}),
    ), args=lambda w, t: dict(zip(("table", "fmt"), t.split("."), strict=True))),
    Route("dashboards:open-data", (GET(None, EVERYONE),)),
    Route("dashboards:open-data-zip", (GET(None, EVERYONE),)),
    Route("trace", (
        GET("candidate/cand_proposed", COUNCIL_ONLY),
        GET("policy/p_draft", OWNER_DRAFT),
        GET("policy/p_consented", EVERYONE),
    ), args=lambda w, t: {"kind": t.split("/")[0], "pk": w[t.split("/")[1]]}),

    # Meetings: the secretariat runs them; everyone signed in reads them once announced.
    Route("meetings:list", (GET(None, EVERYONE),)),
    Route("meetings:create", (
        GET(None, SECRETARIAT_PAGE),
        POST(None, expect(403, secretariat=302), data=lambda w, a: {
            "number": "92", "date": future(40), "format": "online", "title": "権限表の新しい会議",
        }),
    )),
    Route("meetings:detail", (GET("meeting_draft", SECRETARIAT_ONLY), GET("meeting_held", EVERYONE)), args=pk),
    Route("meetings:edit", (
        GET("meeting_draft", SECRETARIAT_ONLY),
        GET("meeting_held", SECRETARIAT_PAGE),
        POST("meeting_draft", expect(404, secretariat=302), data=lambda w, a: {
            "number": "90", "date": future(20), "format": "online", "title": "権限表の会議（改）",
        }),
    ), args=pk),
    Route("meetings:delete", (
        POST("meeting_draft", expect(404, secretariat=302)),
        POST("meeting_held", expect(403)),  # announced meetings are cancelled, never deleted
    ), args=pk),
    Route("meetings:transition", (
        POST("meeting_draft", expect(404, secretariat=302), data=const(to="scheduled")),
        POST("meeting_held", expect(403, secretariat=409), data=const(to="cancelled", comment="中止")),
    ), args=pk),
    Route("meetings:minutes", (
        GET("meeting_held", SECRETARIAT_PAGE),  # draft minutes are the secretariat's
        POST("meeting_held", expect(403, secretariat=302), data=const(minutes="## 議事\n報告を受けた。")),
    ), args=pk),
    Route("meetings:attendees", (
        GET("meeting_held", SECRETARIAT_PAGE),
        POST("meeting_held", expect(403, secretariat=302), data=lambda w, a: {"organization": w.org("mhlw")}),
    ), args=pk),
    Route("meetings:attendee-remove", (
        POST("meeting_held", expect(403, secretariat=302)),
        POST("meeting_draft", expect(404, secretariat=302)),
    ), args=lambda w, t: {"pk": w[t], "attendee_pk": w[f"{t}.attendee"]}),
    Route("meetings:item-create", (GET("meeting_held", SECRETARIAT_PAGE), GET("meeting_draft", SECRETARIAT_ONLY)), args=pk),
    Route("meetings:item-edit", (
        GET("meeting_held", SECRETARIAT_PAGE),
        GET("meeting_draft", SECRETARIAT_ONLY),
    ), args=lambda w, t: {"pk": w[t], "item_pk": w[f"{t}.item"]}),
    Route("meetings:item-delete", (
        POST("meeting_held", expect(403, secretariat=302)),
        POST("meeting_draft", expect(404, secretariat=302)),
    ), args=lambda w, t: {"pk": w[t], "item_pk": w[f"{t}.item"]}),
    Route("meetings:item-move", (
        POST("meeting_held", expect(403, secretariat=302), data=const(direction="down")),
    ), args=lambda w, t: {"pk": w[t], "item_pk": w[f"{t}.item"]}),
    Route("meetings:decision", (
        GET("meeting_held", SECRETARIAT_PAGE),
        POST("meeting_held", expect(403, secretariat=302), data=const(outcome="noted", text="報告を了承した。")),
    ), args=lambda w, t: {"pk": w[t], "item_pk": w[f"{t}.item"]}),
    Route("meetings:pdf", (
        # The pack is the council's working document; draft minutes the secretariat's.
        POST("meeting_held/pack", expect(302, local=403)),
        POST("meeting_held/minutes", expect(403, secretariat=302)),
        GET("meeting_draft/pack", expect(404, secretariat=404)),  # not rendered: 404 for all
    ), args=lambda w, t: {"pk": w[t.split("/")[0]], "kind": t.split("/")[1]}),
)


def api(name: str, *cases: Case, args=lambda w, t: {}) -> Route:
    return Route(name, tuple(cases), api=True, args=args)


API: tuple[Route, ...] = (
    api("api-root", GET(None, EVERYONE)),
    # One document for every signed-in user (SERVE_PERMISSIONS: IsAuthenticated, nothing per
    # role), and generating it takes seconds: the anonymous visitor and the most and the least
    # entitled users stand for the rest.
    api("api-schema", GET(None, EVERYONE, actors=(ANONYMOUS, "secretariat", "asahikawa"))),
    api("api-token",
        # The one open API endpoint: it is the login. Each actor gets its own token.
        POST(None, expect(200), anonymous=200, changes=False, data=credentials),
        POST(None, expect(400), anonymous=400, data=const(username="sapporo", password="wrong")),
        GET(None, expect(405), anonymous=405)),
    api("organization-list", GET(None, EVERYONE)),
    api("organization-detail", GET("org_sapporo", EVERYONE), DELETE("org_sapporo"), args=pk),
    api("business-area-list", GET(None, EVERYONE)),
    api("business-area-detail", GET("business_area", EVERYONE), DELETE("business_area"), args=pk),
    api("criteria-weights",
        GET(None, EVERYONE),
        PUT(None, expect(403, secretariat=200), data=const(user_need="2", expected_effect="1", feasibility="1"))),

    # Stage 1.
    api("candidate-list", GET(None, EVERYONE), POST(None, expect(403, secretariat=201), data=candidate_json)),
    api("candidate-detail",
        GET("cand_proposed", COUNCIL_ONLY),
        GET("cand_selected", EVERYONE),
        PATCH("cand_proposed", expect(403, secretariat=200, local=404), data=const(title="改めた件名")),
        PUT("cand_proposed", expect(403, secretariat=200, local=404), data=candidate_json),
        DELETE("cand_proposed"),
        args=pk),
    api("candidate-history", GET("cand_proposed", COUNCIL_ONLY), GET("cand_selected", EVERYONE), args=pk),
    api("candidate-transition",
        POST("cand_proposed", expect(403, secretariat=200, local=404), data=const(to="under_review")), args=pk),
    api("candidate-assessment-list",
        GET("cand_proposed", COUNCIL_ONLY),
        # The secretariat revises its assessment (200); 総務省 and 知事会 add theirs; 厚労省 may not.
        POST("cand_proposed", expect(201, secretariat=200, mhlw=403, local=404), data=const(**SCORES)),
        args=candidate_pk),
    api("candidate-assessment-detail",
        GET("assessment_proposed", COUNCIL_ONLY),
        PATCH("assessment_proposed", expect(403, secretariat=200, local=404), data=const(rationale="改めた理由")),
        PUT("assessment_proposed", expect(403, secretariat=200, local=404), data=const(**SCORES)),
        args=assessment),

    # Stage 2.
    api("feasibility-study-list",
        GET(None, EVERYONE),
        POST(None, expect(403, secretariat=201), data=lambda w, a: {"candidate": w["cand_selected"], "due_date": future()})),
    api("feasibility-study-detail",
        GET("study_assigned", OWNER_DRAFT),
        GET("study_accepted", EVERYONE),
        PATCH("study_assigned", owner_write(200), data=const(findings="権限表で改めた所見")),
        DELETE("study_assigned"),
        args=pk),
    api("feasibility-study-history",
        GET("study_assigned", OWNER_DRAFT),
        GET("study_accepted", expect(200, local=403)),  # the return reasons are details: the council's
        args=pk),
    api("feasibility-study-transition",
        POST("study_assigned", owner_write(200), data=const(to="submitted")),
        POST("study_submitted", secretariat_decides(200), data=const(to="accepted")),
        args=pk),
    api("feasibility-study-attachments",
        POST("study_assigned", owner_write(201), format="multipart", data=lambda w, a: {"file": pdf()}), args=pk),

    # Stage 3.
    api("policy-list",
        GET(None, EVERYONE),
        POST(None, expect(403, soumu=201), data=lambda w, a: {"candidate": w["cand_ready"], "title": "権限表で作る方針"})),
    api("policy-detail",
        GET("p_draft", OWNER_DRAFT),
        GET("p_submitted", SUBMITTED),
        GET("p_consent", EVERYONE),
        DELETE("p_consent"),
        args=pk),
    api("policy-history", GET("p_draft", OWNER_DRAFT), GET("p_consented", EVERYONE), args=pk),
    api("policy-transition",
        POST("p_draft", expect(404, secretariat=200, soumu=200), data=const(to="withdrawn", comment="取下げ")),
        POST("p_consent", expect(403, secretariat=409, soumu=409), data=const(to="withdrawn", comment="取下げ")),
        args=pk),
    api("policy-version-list",
        GET("p_draft", OWNER_DRAFT),
        GET("p_consent", EVERYONE),
        POST("p_revising", expect(403, soumu=201), prepare=submit_revising_draft, data=const()),
        args=policy_pk),
    api("policy-version-detail",
        GET("p_revising.v2", OWNER_DRAFT),
        GET("p_submitted.v1", SUBMITTED),
        GET("p_consent.v1", EVERYONE),
        PATCH("p_draft.v1", owner_write(200), data=const(body=COMPLETE_BODY + "\n追記。")),
        args=version_api),
    api("policy-version-submit", POST("p_draft.v1", owner_write(200)), args=version_api),
    api("policy-version-diff",
        GET("p_revising.v2", OWNER_DRAFT, query=lambda w: {"against": 1}),
        GET("p_revising.v1", EVERYONE, query=lambda w: {"against": 1}),
        args=version_api),
    api("policy-version-pdf",
        GET("p_consent.v1", EVERYONE),
        POST("p_consent.v1", expect(202), changes=False),  # already rendered
        args=version_api),
    api("policy-version-comments",
        GET("p_consent.v1", EVERYONE),
        POST("p_consent.v1", expect(403, secretariat=201, chijikai=201), data=const(section="KPI", body="意見")),
        args=version_api),
    api("consent-round-list",
        GET(None, EVERYONE),
        POST(None, expect(403, secretariat=201), data=lambda w, a: {
            "policy_version": w["p_revising.v1"], "closes_at": (timezone.now() + timedelta(days=5)).isoformat(),
        })),
    api("consent-round-detail", GET("r_open", EVERYONE), DELETE("r_open"), args=pk),
    api("consent-round-history", GET("r_open", EVERYONE), args=pk),
    api("consent-round-transition", POST("r_open", expect(403, secretariat=200), data=const(to="closed")), args=pk),
    api("consent-round-voters",
        POST("r_open", expect(403, secretariat=201), data=lambda w, a: {"organization": w.org("digital")}), args=pk),
    api("consent-round-ballots",
        GET("r_open", EVERYONE),
        POST("r_open", expect(403, chijikai=200), data=const(choice="consent")),
        args=pk),

    # Stage 4.
    api("reporting-schedule-list",
        GET(None, EVERYONE),
        POST(None, expect(403, secretariat=201), data=lambda w, a: {
            "policy": w["p_bare"], "frequency": "quarterly", "due_days_after_period": 30,
        })),
    api("reporting-schedule-detail", GET("schedule", EVERYONE), DELETE("schedule"), args=pk),
    api("progress-report-list", GET(None, EVERYONE)),
    api("progress-report-detail",
        GET("report_due", OWNER_DRAFT),
        GET("report_accepted", EVERYONE),
        PATCH("report_due", owner_write(200), data=const(summary="権限表で改めた概要")),
        DELETE("report_due"),
        args=pk),
    api("progress-report-history", GET("report_due", OWNER_DRAFT), GET("report_accepted", EVERYONE), args=pk),
    api("progress-report-transition",
        POST("report_due", owner_write(200), data=const(to="submitted")),
        POST("report_submitted", secretariat_decides(200), data=const(to="accepted")),
        args=pk),
    api("progress-report-attachments",
        POST("report_due", owner_write(201), format="multipart", data=lambda w, a: {"file": pdf()}), args=pk),
    api("progress-report-kpi-trend",
        GET(None, EVERYONE, query=lambda w: {"policy": w["p_consented"]}),
        GET(None, OWNER_DRAFT, query=lambda w: {"policy": w["p_draft"]})),
    api("progress-report-pdf",
        GET("report_accepted", EVERYONE),
        POST("report_accepted", expect(202), changes=False),  # already rendered
        POST("report_due", expect(404, secretariat=202, soumu=202)),
        args=pk),
    api("adoption-list", GET(None, EVERYONE)),
    api("adoption-detail",
        GET("adoption_sapporo", EVERYONE),
        PATCH("adoption_sapporo", expect(403, soumu=200, sapporo=200), data=const(status="in_use")),
        PATCH("adoption_asahikawa", expect(403, soumu=200, asahikawa=200), data=const(status="in_use")),
        PATCH("adoption_hokkaido", expect(403, soumu=200, hokkaido=200), data=const(status="in_use")),
        DELETE("adoption_sapporo"),
        args=pk),
    api("adoption-history", GET("adoption_sapporo", EVERYONE), args=pk),
    api("adoption-import",
        POST(None, expect(403, soumu=200), format="multipart", data=lambda w, a: {"policy": w["p_consented"], "file": csv_file()})),
    api("usage-report-list",
        GET(None, EVERYONE),
        POST(None, expect(403, secretariat=201, ministries=201), data=usage_json)),
    api("usage-report-detail", GET("usage", EVERYONE), DELETE("usage"), args=pk),
    api("measure-request-list",
        GET(None, EVERYONE),  # a list is never refused: a local official's is empty
        POST(None, expect(403, secretariat=201), data=lambda w, a: {
            "policy": w["p_consented"], "request": "対応を示してください。", "due_date": future(),
        })),
    api("measure-request-detail", GET("measure_open", COUNCIL_ONLY), DELETE("measure_open"), args=pk),
    api("measure-request-history", GET("measure_open", COUNCIL_ONLY), args=pk),
    api("measure-request-transition",
        POST("measure_open", expect(403, soumu=200, local=404), data=const(to="responded", response="対応します。")),
        POST("measure_responded", expect(403, secretariat=200, local=404), data=const(to="closed")),
        args=pk),

    # Late arrivals.
    api("audit-event-list", GET(None, expect(403, secretariat=200))),  # audit: secretariat only
    api("audit-event-detail", GET("audit_event", expect(403, secretariat=200)), args=lambda w, t: {"sequence": w[t]}),
    api("dashboard-summary", GET(None, EVERYONE)),
    api("dashboard-adoption",
        GET(None, EVERYONE, query=lambda w: {"policy": w["p_consented"], "group_by": "prefecture"}),
        GET(None, OWNER_DRAFT, query=lambda w: {"policy": w["p_draft"], "group_by": "prefecture"})),
    api("dashboard-adoption-trend",
        GET(None, EVERYONE, query=lambda w: {"policy": w["p_consented"]}),
        GET(None, OWNER_DRAFT, query=lambda w: {"policy": w["p_draft"]})),
    api("dashboard-costs", GET(None, COUNCIL_ONLY)),
    api("api-trace",
        GET("candidate/cand_proposed", COUNCIL_ONLY),
        GET("policy/p_draft", OWNER_DRAFT),
        GET("policy/p_consented", EVERYONE),
        args=lambda w, t: {"kind": t.split("/")[0], "pk": w[t.split("/")[1]]}),
    api("meeting-list",
        GET(None, EVERYONE),
        POST(None, expect(403, secretariat=201), data=lambda w, a: {"date": future(40), "format": "online"})),
    api("meeting-detail",
        GET("meeting_draft", SECRETARIAT_ONLY),
        GET("meeting_held", EVERYONE),
        PATCH("meeting_held", expect(403, secretariat=200), data=const(venue="会議室A")),
        PUT("meeting_draft", expect(404, secretariat=200), data=lambda w, a: {"date": future(20), "format": "online", "number": 91}),
        DELETE("meeting_draft", expected=expect(404, secretariat=204)),
        DELETE("meeting_held", expected=expect(403, secretariat=409)),
        args=pk),
    api("meeting-history", GET("meeting_held", expect(403, secretariat=200)), args=pk),  # working notes
    api("meeting-transition",
        POST("meeting_draft", expect(404, secretariat=200), data=const(to="scheduled")),
        POST("meeting_held", expect(403, secretariat=409), data=const(to="cancelled", comment="中止")),
        args=pk),
    api("meeting-pdf",
        POST("meeting_held", expect(202, local=403), query=lambda w: {"kind": "pack"}),
        GET("meeting_held", expect(403, secretariat=404), query=lambda w: {"kind": "minutes"}),
        args=pk),
    api("meeting-agenda-item-list",
        GET("meeting_held", EVERYONE),
        GET("meeting_draft", SECRETARIAT_ONLY),
        POST("meeting_held", expect(403, secretariat=201), data=const(kind="other", title="追加の議題")),
        args=lambda w, t: {"meeting_pk": w[t]}),
    api("meeting-agenda-item-detail",
        GET("meeting_held.item", EVERYONE),
        GET("meeting_held.item_council", COUNCIL_ONLY),  # an item is seen with its target
        PATCH("meeting_held.item", expect(403, secretariat=200), data=const(title="改めた議題")),
        DELETE("meeting_held.item", expected=expect(403, secretariat=204)),
        args=lambda w, t: {"meeting_pk": w[t.split(".")[0]], "pk": w[t]}),
    api("meeting-agenda-item-decision",
        POST("meeting_held.item", expect(403, secretariat=201), data=const(outcome="noted", text="報告を了承した。")),
        args=lambda w, t: {"meeting_pk": w[t.split(".")[0]], "pk": w[t]}),
    api("meeting-attendee-list",
        GET("meeting_held", EVERYONE),
        POST("meeting_held", expect(403, secretariat=201), data=lambda w, a: {"organization": w.org("mhlw")}),
        args=lambda w, t: {"meeting_pk": w[t]}),
    api("meeting-attendee-detail",
        DELETE("meeting_held.attendee", expected=expect(403, secretariat=204)),
        args=lambda w, t: {"meeting_pk": w[t.split(".")[0]], "pk": w[t]}),
)

MATRIX: tuple[Route, ...] = PAGES + API

# The Django admin is covered as a whole (tests/test_authz_matrix.py, test_the_admin_is_staff_only):
# its index and every registered model's list, for every actor.
ADMIN_NAMESPACE = "admin"

# API list endpoints and their details, for "the list and the detail never disagree".
# (list route, detail route, world keys of objects of that kind, list query, detail args)
LISTS: tuple[tuple[str, str, tuple[str, ...], Callable[[World], dict], Callable], ...] = (
    ("candidate-list", "candidate-detail", ("cand_proposed", "cand_selected", "cand_ready"), lambda w: {}, pk),
    ("feasibility-study-list", "feasibility-study-detail", ("study_assigned", "study_submitted", "study_accepted"), lambda w: {}, pk),
    ("policy-list", "policy-detail", ("p_draft", "p_submitted", "p_consent", "p_revising", "p_consented", "p_bare"),
     lambda w: {}, pk),
    ("meeting-list", "meeting-detail", ("meeting_draft", "meeting_held"), lambda w: {}, pk),
    ("consent-round-list", "consent-round-detail", ("r_open", "r_failed", "r_closed"), lambda w: {}, pk),
    ("reporting-schedule-list", "reporting-schedule-detail", ("schedule",), lambda w: {}, pk),
    ("progress-report-list", "progress-report-detail", ("report_due", "report_submitted", "report_accepted"), lambda w: {}, pk),
    ("measure-request-list", "measure-request-detail", ("measure_open", "measure_responded"), lambda w: {}, pk),
    ("usage-report-list", "usage-report-detail", ("usage",), lambda w: {}, pk),
    ("adoption-list", "adoption-detail", ("adoption_sapporo", "adoption_asahikawa", "adoption_hokkaido"),
     lambda w: {"policy": w["p_consented"], "prefecture": "010006"}, pk),
    ("business-area-list", "business-area-detail", ("business_area",), lambda w: {}, pk),
    ("organization-list", "organization-detail", ("org_sapporo",), lambda w: {"kind": "municipality", "prefecture": "010006"}, pk),
)

# Pages that list objects, and the detail page each row links to, for the same agreement.
# (list route, detail route, world keys of objects of that kind)
PAGE_LISTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("candidates:list", "candidates:detail", ("cand_proposed", "cand_selected", "cand_ready")),
    ("candidates:study-list", "candidates:study-detail", ("study_assigned", "study_submitted", "study_accepted")),
    ("policies:list", "policies:detail", ("p_draft", "p_submitted", "p_consent", "p_revising", "p_consented", "p_bare")),
    ("progress:report-list", "progress:report-detail", ("report_due", "report_submitted", "report_accepted")),
    ("meetings:list", "meetings:detail", ("meeting_draft", "meeting_held")),
)
