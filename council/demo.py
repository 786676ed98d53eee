"""Demo meetings of the council for `load_demo`: three past meetings (selection decisions,
a failed and a successful consent round, a progress report and measure requests; minutes
published or still in draft), one announced for next month, and one in preparation.

They point at the demo candidates, policies and reports (candidates.demo, policies.demo,
progress.demo), and are made through council.meetings.actions by the demo secretariat, as
in use. The candidates and rounds were decided by those demos already, so the decisions
here only record the meetings at which that happened.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from candidates.models import Candidate, CandidateStatus
from council import calendar
from council.meetings import actions
from council.meetings.models import AgendaKind, Meeting, MeetingFormat, MeetingStatus
from policies.models import ConsentRound, Policy, RoundStatus
from progress.models import MeasureRequest, ProgressReport, ReportStatus
from tenants.models import Organization

VENUE = "中央合同庁舎第4号館 共用第1特別会議室"

MINUTES_1 = """## 開会
事務局から、本協議会の運営方針と、対象候補の選定に用いる3つの基準（利用者起点、効果の見込み、実現可能性）について説明があった。

## 議事
### 対象候補の選定
事務局から各対象候補の評価結果を報告した。児童手当の認定・支給事務については、制度改正への対応負担が大きいとの意見が地方三団体から相次いだ。

- 全国市長会：既存システムの更新時期に合わせた無理のない移行を求める。
- 全国知事会：都道府県の審査事務への効果も検証してほしい。

審議の結果、議事次第のとおり選定・非選定を決定した。

## 閉会
次回は同意手続の状況と進捗報告の在り方について審議する。
"""

MINUTES_2 = """## 議事
### 児童手当の認定・支給事務に関する共通化推進方針への同意
全国市長会から、移行期限が短くシステム更新時期に合わない団体が多いとの異議があり、同意は得られなかった。
こども家庭庁は移行スケジュールを見直した改訂版を作成する。

### 措置依頼
小規模町村向けの移行支援策について、こども家庭庁に措置を依頼したことを事務局から報告した。
"""

MINUTES_3_DRAFT = """## 議事
### 改訂版への同意
移行スケジュールを1年延長した第2版について、地方三団体の同意が得られた。全国市長会から、移行状況を毎年度報告することとの条件が付された。

### 進捗報告
こども家庭庁から直近の四半期の進捗を報告した。（以下、事務局で整理中）
"""


def _business_day(day: date) -> date:
    return calendar.next_business_day(day)


def load_demo_meetings() -> int:
    """Returns how many meetings were created (0 when the demo meetings already exist)."""
    if Meeting.objects.exists():
        return 0
    secretariat = get_user_model().objects.filter(username="secretariat").first()
    if secretariat is None:
        return 0
    today = calendar.today()
    with transaction.atomic():
        first = _first_meeting(secretariat, _business_day(today - timedelta(days=180)))
        second = _second_meeting(secretariat, _business_day(today - timedelta(days=90)))
        third = _third_meeting(secretariat, _business_day(today - timedelta(days=21)))
        upcoming = _upcoming_meeting(secretariat, _business_day(today + timedelta(days=30)))
        draft = _draft_meeting(secretariat, _business_day(today + timedelta(days=120)))
    return len([m for m in (first, second, third, upcoming, draft) if m is not None])


def _create(secretariat, day: date, **fields) -> Meeting:
    fields.setdefault("start_time", time(10, 0))
    fields.setdefault("end_time", time(12, 0))
    fields.setdefault("format", MeetingFormat.HYBRID)
    fields.setdefault("venue", VENUE)
    meeting = actions.create_meeting(secretariat, date=day, standing_members=True, **fields)
    for code in ("cfa", "mhlw", "soumu"):
        organization = Organization.objects.filter(code=code).first()
        if organization is not None:
            actions.add_attendee(meeting, secretariat, organization=organization)
    return meeting


def _hold(meeting: Meeting, secretariat) -> None:
    actions.move_meeting(meeting, secretariat, MeetingStatus.SCHEDULED)
    actions.move_meeting(meeting, secretariat, MeetingStatus.HELD)


def _publish(meeting: Meeting, secretariat, minutes: str) -> None:
    actions.save_minutes(meeting, secretariat, minutes)
    actions.move_meeting(meeting, secretariat, MeetingStatus.MINUTES_PUBLISHED)
    # Published the week after the meeting, as the secretariat would.
    published = timezone.make_aware(datetime.combine(meeting.date + timedelta(days=7), time(17, 0)))
    Meeting.objects.filter(pk=meeting.pk).update(minutes_published_at=min(published, timezone.now()))


def _first_meeting(secretariat, day: date) -> Meeting:
    meeting = _create(secretariat, day)
    decided = Candidate.objects.filter(
        status__in=[CandidateStatus.SELECTED, CandidateStatus.NOT_SELECTED]
    ).order_by("status", "pk")
    actions.add_agenda_item(meeting, secretariat, kind=AgendaKind.OTHER, title="協議会の運営について",
                            notes="協議会の運営要領と、対象候補の選定基準を確認する。")
    items = [(actions.add_agenda_item(meeting, secretariat, kind=AgendaKind.SELECTION, target=c), c) for c in decided]
    _hold(meeting, secretariat)
    actions.record_decision(meeting.agenda_items.get(order=1), secretariat, outcome="approved",
                            text="運営要領（案）のとおり了承した。")
    for item, candidate in items:
        text = candidate.decision_note or ("原案のとおり選定する。" if candidate.status == "selected" else "選定しない。")
        actions.record_decision(item, secretariat, outcome=candidate.status, track=candidate.track, text=text)
    _publish(meeting, secretariat, MINUTES_1)
    return meeting


def _rounds():
    policy = Policy.objects.filter(rounds__status=RoundStatus.CLOSED).distinct().order_by("pk").first()
    if policy is None:
        return None, None
    rounds = list(ConsentRound.objects.filter(policy=policy, status=RoundStatus.CLOSED).order_by("opened_at", "pk"))
    return rounds[0], (rounds[1] if len(rounds) > 1 else None)


def _second_meeting(secretariat, day: date) -> Meeting:
    meeting = _create(secretariat, day)
    failed, _second = _rounds()
    measure = MeasureRequest.objects.filter(status="closed").order_by("pk").first()
    consent_item = (
        actions.add_agenda_item(meeting, secretariat, kind=AgendaKind.CONSENT, target=failed) if failed else None
    )
    measure_item = (
        actions.add_agenda_item(meeting, secretariat, kind=AgendaKind.MEASURE_REQUEST, target=measure) if measure else None
    )
    _hold(meeting, secretariat)
    if consent_item is not None:
        actions.record_decision(consent_item, secretariat, outcome=failed.outcome,
                                text="全国市長会の異議により同意に至らなかった。所管府省庁に移行スケジュールの見直しを求める。")
    if measure_item is not None:
        actions.record_decision(measure_item, secretariat, outcome="noted", text="措置依頼の内容を確認した。")
    _publish(meeting, secretariat, MINUTES_2)
    return meeting


def _third_meeting(secretariat, day: date) -> Meeting:
    meeting = _create(secretariat, day)
    _failed, consented = _rounds()
    report = ProgressReport.objects.filter(status=ReportStatus.ACCEPTED).order_by("-period_start").first()
    open_measure = MeasureRequest.objects.filter(status="open").order_by("pk").first()
    consent_item = (
        actions.add_agenda_item(meeting, secretariat, kind=AgendaKind.CONSENT, target=consented) if consented else None
    )
    report_item = (
        actions.add_agenda_item(meeting, secretariat, kind=AgendaKind.PROGRESS_REPORT, target=report) if report else None
    )
    if open_measure is not None:
        actions.add_agenda_item(meeting, secretariat, kind=AgendaKind.MEASURE_REQUEST, target=open_measure,
                                notes="次回の進捗報告での説明を求めている。")
    _hold(meeting, secretariat)
    if consent_item is not None:
        actions.record_decision(consent_item, secretariat, outcome=consented.outcome,
                                text="地方三団体の同意（条件付きを含む）を得た。")
    if report_item is not None:
        actions.record_decision(report_item, secretariat, outcome="noted", text="進捗報告を受けた。")
    actions.save_minutes(meeting, secretariat, MINUTES_3_DRAFT)  # a draft: not yet published
    return meeting


def _upcoming_meeting(secretariat, day: date) -> Meeting:
    meeting = _create(secretariat, day, start_time=time(14, 0), end_time=time(16, 0))
    for candidate in Candidate.objects.filter(status=CandidateStatus.UNDER_REVIEW).order_by("pk"):
        actions.add_agenda_item(meeting, secretariat, kind=AgendaKind.SELECTION, target=candidate)
    for round_ in ConsentRound.objects.filter(status=RoundStatus.OPEN).order_by("pk"):
        actions.add_agenda_item(meeting, secretariat, kind=AgendaKind.CONSENT, target=round_)
    actions.add_agenda_item(meeting, secretariat, kind=AgendaKind.OTHER, title="令和9年度の協議会の進め方について")
    actions.move_meeting(meeting, secretariat, MeetingStatus.SCHEDULED)
    return meeting


def _draft_meeting(secretariat, day: date) -> Meeting:
    meeting = _create(secretariat, day, format=MeetingFormat.ONLINE, venue="")
    actions.add_agenda_item(meeting, secretariat, kind=AgendaKind.OTHER, title="各府省の進捗報告（年度末）")
    return meeting
