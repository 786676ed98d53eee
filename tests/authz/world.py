"""The one world the matrix asks about: an object in every state that changes who sees it.

Everything is made through the actions (candidates, policies, progress), as users would
make it; only the rendered PDFs are stored directly, since rendering them is not what the
matrix tests. Built once per test module inside a transaction rolled back afterwards, so
every test (in its own savepoint) starts from the same rows.

| key | what | who sees it (DOMAIN.md) |
|---|---|---|
| cand_proposed | 総務省's candidate, proposed, assessed by the secretariat with evidence | the council |
| cand_selected | selected (commonization), no study yet | everyone |
| cand_ready | selected, study accepted, no policy yet | everyone |
| study_assigned | assigned to 総務省, filled, with an attachment | secretariat, 総務省 |
| study_submitted | submitted by 総務省 | secretariat, 総務省 |
| study_accepted | accepted (cand_ready's), with an attachment | everyone (details: the council) |
| p_draft | drafting, version 1 an unsubmitted (complete) draft | secretariat, 総務省 |
| p_submitted | drafting, version 1 submitted, not yet put to consent | secretariat, 総務省 (see the matrix) |
| p_consent | in consent: version 1 put to round r_open | everyone |
| p_revising | not consented (round r_failed), back in drafting with a version-2 draft | everyone; v2: secretariat, 総務省 |
| p_consented | consented (round r_closed), quarterly schedule, reports, adoption rows | everyone |
| p_bare | consented, no schedule yet | everyone |
| report_accepted / report_submitted / report_due | p_consented's reports | accepted: everyone; others: secretariat, 総務省 |
| adoption_sapporo / _asahikawa / _hokkaido | p_consented's adoption rows | everyone; each written by its own government and 総務省 |
| measure_open / measure_responded | measure requests to 総務省 | the council |
| meeting_draft / meeting_held | meetings in preparation / held, each with an agenda item and an attendee | secretariat / everyone |
| usage | a usage report of 総務省 | everyone |
| pack | a rendered quarterly council pack | secretariat |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.authtoken.models import Token

from candidates import actions as candidate_actions
from candidates.models import AssessmentEvidence, BusinessArea, Candidate, StudyAttachment
from council import calendar
from policies import actions as policy_actions
from policies.models import PolicyVersion, VersionPdf
from policies.pdf import pdf_key
from progress import actions as progress_actions
from progress.models import Adoption, DocumentStatus, ProgressDocument, ProgressReport, ReportAttachment
from progress.periods import Period
from tenants.models import Membership, Organization, Role
from tests.api_helpers import FILLED_STUDY, TINY_PDF
from tests.api_progress_helpers import FILLED_REPORT
from tests.authz.actors import OTHER_MUNICIPALITY, USERS
from tests.conftest import COMPLETE_BODY, COST_SHARING, SCHEDULE

SAPPORO, ASAHIKAWA, HOKKAIDO = "011002", "012041", "010006"


@dataclass
class World:
    """Primary keys of the world's objects by key (see the module's table), and more."""

    ids: dict[str, int] = field(default_factory=dict)
    versions: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (policy pk, number)
    orgs: dict[str, int] = field(default_factory=dict)  # organization code -> pk
    tokens: dict[str, str] = field(default_factory=dict)  # username -> API token
    sessions: dict[str, str] = field(default_factory=dict)  # username -> session key

    def __getitem__(self, key: str) -> int:
        return self.ids[key]

    def org(self, code: str) -> int:
        if code not in self.orgs:
            self.orgs[code] = Organization.objects.get(code=code).pk
        return self.orgs[code]


def _user(username: str):
    return get_user_model().objects.get(username=username)


def _pdf(name: str = "資料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, TINY_PDF, content_type="application/pdf")


def _future(days: int = 30):
    return calendar.next_business_day(calendar.today() + timedelta(days=days))


def make_second_municipality(password: str) -> None:
    """旭川市's official: the municipality that is not the owner of sapporo's adoption row."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=OTHER_MUNICIPALITY, defaults={"last_name": "旭川市 担当者", "email": "asahikawa@example.jp"}
    )
    if created:
        user.set_password(password)
        user.save()
        Membership(user=user, organization=Organization.objects.get(code=ASAHIKAWA), role=Role.LOCAL_OFFICIAL).save()


class _Builder:
    def __init__(self, world: World) -> None:
        self.world = world
        self.secretariat = _user("secretariat")
        self.soumu = _user("soumu")
        self.soumu_org = Organization.objects.get(code="soumu")
        self.count = 0

    # -- stage 1 and 2 ------------------------------------------------------------------------
    def candidate(self, label: str, *, assess: bool = True, evidence: bool = False) -> Candidate:
        self.count += 1
        candidate = candidate_actions.propose_candidate(
            self.secretariat, title=f"権限表の対象候補{self.count}（{label}）", description="概要",
            owning_ministry=self.soumu_org,
        )
        if assess:
            candidate_actions.assess(
                candidate, self.secretariat, user_need=4, expected_effect=4, feasibility=4, rationale="理由",
                viewpoints=["i"], evidence=[_pdf("根拠.pdf")] if evidence else [],
            )
        return candidate

    def selected(self, label: str, *, evidence: bool = False) -> Candidate:
        candidate = self.candidate(label, evidence=evidence)
        candidate_actions.decide(candidate, self.secretariat, "under_review")
        return candidate_actions.decide(candidate, self.secretariat, "selected", track="commonization", comment="選定")

    def study(self, label: str, *, to: str, attachment: bool = False):
        candidate = self.selected(label)
        study, _moved = candidate_actions.assign_study(candidate, self.secretariat, due_date=_future())
        study = candidate_actions.save_study(study, self.soumu, dict(FILLED_STUDY), [_pdf("調査資料.pdf")] if attachment else [])
        if to in ("submitted", "accepted"):
            study = candidate_actions.move_study(study, self.soumu, "submitted")
        if to == "accepted":
            study = candidate_actions.move_study(study, self.secretariat, "accepted")
        return candidate, study

    # -- stage 3 ------------------------------------------------------------------------------
    def policy(self, label: str, *, submit: bool = True):
        candidate, _study = self.study(f"{label}の候補", to="accepted")
        policy = policy_actions.create_policy(candidate, self.soumu, title=f"権限表の方針（{label}）")
        version = policy.versions.get()
        policy_actions.update_version(version, self.soumu, {"body": COMPLETE_BODY, "cost_sharing": COST_SHARING, "schedule": SCHEDULE})
        if submit:
            version = policy_actions.submit_version(version, self.soumu)
        return policy, version

    def round(self, version, *choices: str):
        round_ = policy_actions.open_round(version, self.secretariat, closes_at=timezone.now() + timedelta(days=7))
        if choices:
            for username, choice in zip(("chijikai", "shichokai", "chosonkai"), choices, strict=True):
                policy_actions.cast_ballot(round_, _user(username), choice=choice, comment="" if choice == "consent" else "理由")
            round_ = policy_actions.close_round(round_, self.secretariat)
        return round_


def build_world(password: str) -> World:
    world = World()
    ids = world.ids
    make_second_municipality(password)
    for username in USERS:
        world.tokens[username] = Token.objects.get_or_create(user=_user(username))[0].key
    b = _Builder(world)
    secretariat, soumu = b.secretariat, b.soumu

    # Stage 1: candidates.
    proposed = b.candidate("提案中", evidence=True)
    ids["cand_proposed"] = proposed.pk
    ids["assessment_proposed"] = proposed.assessments.get().pk
    ids["evidence_proposed"] = AssessmentEvidence.objects.get(assessment__candidate=proposed).pk
    selected = b.selected("選定済み", evidence=True)
    ids["cand_selected"] = selected.pk
    ids["evidence_selected"] = AssessmentEvidence.objects.get(assessment__candidate=selected).pk

    # Stage 2: feasibility studies.
    _candidate, study = b.study("調査中", to="assigned", attachment=True)
    ids["study_assigned"] = study.pk
    ids["attach_assigned"] = StudyAttachment.objects.get(study=study).pk
    _candidate, study = b.study("調査提出済み", to="submitted")
    ids["study_submitted"] = study.pk
    ready, study = b.study("調査受理済み", to="accepted", attachment=True)
    ids["cand_ready"] = ready.pk
    ids["study_accepted"] = study.pk
    ids["attach_accepted"] = StudyAttachment.objects.get(study=study).pk

    # Stage 3: policies and consent rounds.
    policy, version = b.policy("策定中", submit=False)
    ids["p_draft"] = policy.pk
    world.versions["p_draft.v1"] = (policy.pk, 1)

    policy, version = b.policy("提出済み・同意手続前")
    ids["p_submitted"] = policy.pk
    world.versions["p_submitted.v1"] = (policy.pk, 1)

    policy, version = b.policy("同意手続中")
    ids["p_consent"] = policy.pk
    ids["r_open"] = b.round(version).pk
    world.versions["p_consent.v1"] = (policy.pk, 1)
    ids["p_consent.v1"] = version.pk
    VersionPdf.objects.create(version=version, key=pdf_key(version), file=ContentFile(TINY_PDF, "v1.pdf"), size=len(TINY_PDF))

    policy, version = b.policy("再策定中")
    ids["p_revising"] = policy.pk
    ids["r_failed"] = b.round(version, "consent", "objection", "consent").pk
    ids["p_revising.v1"] = version.pk
    policy_actions.create_version(policy, soumu)
    world.versions["p_revising.v1"] = (policy.pk, 1)
    world.versions["p_revising.v2"] = (policy.pk, 2)

    policy, version = b.policy("同意済み")
    ids["p_consented"] = policy.pk
    ids["r_closed"] = b.round(version, "consent", "consent", "consent").pk
    world.versions["p_consented.v1"] = (policy.pk, 1)
    consented = policy

    policy, version = b.policy("同意済み・スケジュール未設定")
    ids["p_bare"] = policy.pk
    b.round(version, "consent", "consent", "consent")

    # Stage 4: the schedule, three periods' reports, adoption, measures, usage, PDFs.
    schedule = progress_actions.set_schedule(consented, secretariat, frequency="quarterly", due_days_after_period=30)
    ids["schedule"] = schedule.pk
    period = schedule.first.next().next()
    progress_actions.ensure_reports(schedule, today=period.start)
    first, second, third = ProgressReport.objects.filter(schedule=schedule).order_by("period_start")
    first = progress_actions.save_report(first, soumu, dict(FILLED_REPORT), [_pdf("報告資料.pdf")])
    progress_actions.move_report(first, soumu, "submitted")
    first = progress_actions.move_report(first, secretariat, "accepted")
    second = progress_actions.save_report(second, soumu, dict(FILLED_REPORT))
    progress_actions.move_report(second, soumu, "submitted")
    third = progress_actions.save_report(third, soumu, dict(FILLED_REPORT), [_pdf("報告資料（下書き）.pdf")])
    ids["report_accepted"], ids["report_submitted"], ids["report_due"] = first.pk, second.pk, third.pk
    ids["attach_report_accepted"] = ReportAttachment.objects.get(report=first).pk
    ids["attach_report_due"] = ReportAttachment.objects.get(report=third).pk
    ProgressDocument.objects.create(
        kind=ProgressDocument.Kind.REPORT, report=first, status=DocumentStatus.DONE, requested_by=secretariat,
        file=ContentFile(TINY_PDF, "report.pdf"), pages=1,
    )
    quarter = Period.containing(calendar.today(), "quarterly")
    ids["pack"] = ProgressDocument.objects.create(
        kind=ProgressDocument.Kind.PACK, fiscal_year=quarter.fiscal_year, quarter=quarter.number,
        status=DocumentStatus.DONE, requested_by=secretariat, file=ContentFile(TINY_PDF, "pack.pdf"), pages=1,
    ).pk

    for key, code in (("adoption_sapporo", SAPPORO), ("adoption_asahikawa", ASAHIKAWA), ("adoption_hokkaido", HOKKAIDO)):
        ids[key] = Adoption.objects.get(policy=consented, organization__code=code).pk
    progress_actions.change_adoption(Adoption.objects.get(pk=ids["adoption_sapporo"]), _user("sapporo"), status="considering")

    ids["measure_open"] = progress_actions.request_measures(
        secretariat, policy=consented, request="移行の遅れへの対応策を示してください。", due_date=_future(), report=first,
    ).pk
    responded = progress_actions.request_measures(secretariat, policy=consented, request="KPIの根拠を示してください。", due_date=_future())
    progress_actions.respond_to_measure(responded, soumu, response="根拠を追記しました。")
    ids["measure_responded"] = responded.pk

    ids["usage"] = progress_actions.create_usage_report(
        soumu, system_name="権限表の共通SaaS", layer="common_saas", period_start=quarter.start, period_end=quarter.end,
        metrics=[{"name": "利用団体数", "value": 120, "unit": "団体"}],
    ).pk
    for code in (SAPPORO, ASAHIKAWA, HOKKAIDO, "soumu", "mhlw", "digital", "chijikai"):
        world.org(code)
    ids["org_sapporo"] = world.org(SAPPORO)
    ids["business_area"] = BusinessArea.objects.order_by("pk").values_list("pk", flat=True).first()
    build_meetings(world, secretariat)
    from council.audit.models import AuditEvent

    ids["audit_event"] = AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True).first()
    assert ids["audit_event"] is not None, "the world's writes leave audit events"
    assert PolicyVersion.objects.filter(policy_id=ids["p_revising"]).count() == 2
    return world


def build_meetings(world: World, secretariat) -> None:
    """A meeting in preparation (the secretariat's only) and one held, each with an agenda
    item and an attendee; the held one's second item is a candidate under deliberation."""
    from council.meetings import actions as meeting_actions

    ids = world.ids
    draft = meeting_actions.create_meeting(secretariat, date=_future(20), title="権限表の会議（準備中）", format="online")
    ids["meeting_draft"] = draft.pk
    ids["meeting_draft.item"] = meeting_actions.add_agenda_item(draft, secretariat, kind="other", title="報告事項").pk
    ids["meeting_draft.attendee"] = meeting_actions.add_attendee(
        draft, secretariat, organization=Organization.objects.get(code="chijikai")
    ).pk
    held = meeting_actions.create_meeting(secretariat, date=calendar.today(), title="権限表の会議（開催済み）", format="online")
    ids["meeting_held"] = held.pk
    ids["meeting_held.item"] = meeting_actions.add_agenda_item(held, secretariat, kind="other", title="報告事項").pk
    ids["meeting_held.item_council"] = meeting_actions.add_agenda_item(
        held, secretariat, kind="selection", target=Candidate.objects.get(pk=ids["cand_proposed"])
    ).pk
    ids["meeting_held.attendee"] = meeting_actions.add_attendee(
        held, secretariat, organization=Organization.objects.get(code="chijikai")
    ).pk
    meeting_actions.move_meeting(held, secretariat, "scheduled")
    meeting_actions.move_meeting(held, secretariat, "held")
