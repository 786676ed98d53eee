"""Demo candidates for `load_demo`: a living pipeline drawn from the source document's own
examples (DPI, common SaaS, the 20 standardized areas, joint procurement) in every state.

Everything is created through candidates.actions, by the demo users, as it would be in use.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from candidates import actions
from candidates.models import BusinessArea, Candidate, FeasibilityStudy
from council import calendar
from tenants.models import Organization

# (username, user_need, expected_effect, feasibility, viewpoints, rationale)
Score = tuple[str, int, int, int, tuple[str, ...], str]


@dataclass(frozen=True)
class DemoCandidate:
    title: str
    description: str
    ministry: str
    areas: tuple[str, ...] = ()
    scores: tuple[Score, ...] = ()
    # The path through the workflow: statuses after "proposed", in order.
    path: tuple[str, ...] = ()
    track: str = ""
    note: str = ""
    study: dict = field(default_factory=dict)


SECRETARIAT_RATIONALE = "全国の団体で同種の事務が重複しており、共通化による総コスト低減が見込まれる。"

DEMO_CANDIDATES = (
    DemoCandidate(
        title="児童手当の認定・支給事務の共通化",
        description="児童手当の認定請求、現況確認、支給決定を共通SaaSで処理し、制度改正への対応を国が一括して行う。",
        ministry="cfa",
        areas=("child-allowance",),
        scores=(
            ("secretariat", 5, 4, 4, ("ii",), "制度改正が頻繁で、各団体の改修負担が大きい。"),
            ("cfa", 4, 5, 4, ("ii",), "令和6年度の抜本的拡充で全団体が同時に改修した経験から、共通化の効果は大きい。"),
            ("chijikai", 4, 4, 3, ("ii",), "都道府県の審査事務にも効果があるが、移行時期の配慮が必要。"),
            ("shichokai", 5, 4, 3, ("ii",), "市の窓口負担の軽減が期待できる。既存システムの更新時期に合わせた移行を求める。"),
        ),
        path=("under_review", "selected"),
        track="commonization",
        note="3つの基準をいずれも満たすため選定。",
        study={
            "status": "accepted",
            "findings": "全1,741市区町村で同一の業務フローに整理でき、共通SaaSでの提供が可能。",
            "affected_local_governments": 1741,
            "cost_initial_yen": 4_800_000_000,
            "cost_annual_yen": 1_200_000_000,
            "expected_effect": "制度改正時の各団体の改修が不要になり、窓口での確認事務が減る。",
            "staff_hours_saved_per_year": 620_000,
            "risks": "既存ベンダーとの契約期間が団体ごとに異なる。",
            "conclusion": "feasible",
        },
    ),
    DemoCandidate(
        title="要介護認定事務の共通SaaS化",
        description="要介護認定の申請受付から認定審査会資料の作成までを共通SaaSで処理する。",
        ministry="mhlw",
        areas=("long-term-care-insurance",),
        scores=(
            ("secretariat", 4, 4, 3, ("iii",), "国への報告（介護保険事業状況報告）の手間が大きい。"),
            ("mhlw", 4, 4, 4, ("iii",), "認定データの即時把握により保険者支援が迅速になる。"),
            ("chosonkai", 5, 4, 3, (), "小規模町村では審査会資料作成の負担が特に重い。"),
        ),
        path=("under_review", "selected"),
        track="commonization",
        note="効果の見込みが高く、実現可能性調査を行う。",
        study={
            "status": "submitted",
            "findings": "認定審査会の運用に団体差があるが、標準様式で吸収できる。",
            "affected_local_governments": 1571,
            "cost_initial_yen": 2_100_000_000,
            "cost_annual_yen": 650_000_000,
            "expected_effect": "審査会資料の作成時間を半減。",
            "staff_hours_saved_per_year": 310_000,
            "risks": "広域連合で認定を行う地域の扱い。",
            "conclusion": "conditionally_feasible",
        },
    ),
    DemoCandidate(
        title="個人住民税の特別徴収税額通知の電子化・共通化",
        description="特別徴収税額通知を共通の仕組みで事業者に電子送付する。",
        ministry="soumu",
        areas=("individual-resident-tax",),
        scores=(
            ("secretariat", 4, 5, 4, (), "事業者・団体双方の郵送事務が大幅に減る。"),
            ("soumu", 4, 4, 5, (), "eLTAXの既存基盤を活用でき実現可能性が高い。"),
            ("shichokai", 4, 4, 4, (), "市の繁忙期の負担軽減になる。"),
        ),
        path=("under_review", "selected"),
        track="commonization",
        note="eLTAXの活用を前提に選定。",
        # Assigned and already past its due date: shows as overdue.
        study={"status": "assigned", "overdue": True},
    ),
    DemoCandidate(
        title="被災者台帳・罹災証明書交付システムの共通化",
        description="災害時に被災者台帳の作成と罹災証明書の交付を迅速に行える共通SaaSを平時から整備する。",
        ministry="cao",
        scores=(
            ("secretariat", 5, 4, 3, ("i",), "導入団体は少ないが、有事に国も利用する必要性が高い。"),
            ("chijikai", 5, 5, 3, ("i",), "広域災害では都道府県による支援に不可欠。"),
            ("chosonkai", 5, 4, 2, ("i",), "平時に使わない仕組みを職員が使いこなせるかが課題。"),
        ),
        path=("under_review", "selected"),
        track="commonization",
        note="有事に国が利用することが想定され、国の関与の必要性が高い。",
        study={
            "status": "returned",
            "findings": "平時利用の業務が限られるため、訓練での利用を想定する。",
            "affected_local_governments": 1741,
            "cost_initial_yen": 900_000_000,
            "cost_annual_yen": 0,
            "expected_effect": "発災後の証明書交付までの日数短縮。",
            "risks": "運用費用の負担区分が未整理。",
            "conclusion": "conditionally_feasible",
            "return_comment": "運用・保守費用の負担区分（国・地方）を費用負担の基本的考え方に沿って整理してください。",
        },
    ),
    DemoCandidate(
        title="選挙人名簿と投票所受付の共通基盤",
        description="選挙人名簿の照合と投票所での受付をマイナンバーカードで行う共通の仕組み。",
        ministry="soumu",
        areas=("electoral-roll",),
        scores=(
            ("secretariat", 4, 3, 3, ("ii",), "選挙制度の改正への対応が多い。"),
            ("soumu", 3, 3, 4, (), "名簿システムの標準化が先行しており段階的に実施可能。"),
        ),
        path=("under_review",),
    ),
    DemoCandidate(
        title="障害福祉サービス受給者証の発行事務の共通化",
        description="受給者証の発行と事業所への情報連携を共通SaaSで行う。",
        ministry="mhlw",
        areas=("disability-welfare",),
        scores=(("chijikai", 4, 3, 3, (), "都道府県の指定事務とも連携が必要。"),),
        path=("under_review",),
    ),
    DemoCandidate(
        title="学校給食費の公会計化システム",
        description="学校給食費の徴収・管理を公会計化し、共通のシステムで処理する。",
        ministry="mext",
        areas=("school-enrollment",),
    ),
    DemoCandidate(
        title="地方財政状況調査のデータ連携",
        description="国への統計報告（地方財政状況調査）を、財務会計システムからのデータ連携で自動化する。",
        ministry="soumu",
        scores=(("secretariat", 4, 4, 3, ("iii",), "国への報告に毎年多くの手間を要している。"),),
    ),
    DemoCandidate(
        title="公共施設予約システム",
        description="体育館・会議室等の予約システムを共通化する。",
        ministry="soumu",
        scores=(
            ("secretariat", 2, 3, 4, (), "既に多くの団体が独自に導入済みで、共通化の効果は限定的。"),
            ("shichokai", 3, 2, 4, (), "都道府県単位の共同調達で十分対応できる。"),
        ),
        path=("under_review", "not_selected"),
        track="joint_procurement",
        note="基準に合致しないため、都道府県の共同調達による横展開を推進する。",
    ),
    DemoCandidate(
        title="戸籍の附票システムの更改",
        description="戸籍の附票システムを共通化の対象とするか検討する。",
        ministry="soumu",
        areas=("family-register-annex",),
        scores=(("soumu", 3, 3, 3, (), "標準化対象20業務として既に標準仕様に基づく移行が進んでいる。"),),
        path=("under_review", "not_selected"),
        track="standardization",
        note="20業務の標準化の中で引き続き対応する。",
    ),
    DemoCandidate(
        title="国民健康保険の資格管理事務の共通化",
        description="国保の資格取得・喪失の届出と資格情報の管理を共通SaaSで行い、オンライン資格確認と連携する。",
        ministry="mhlw",
        areas=("national-health-insurance",),
        scores=(
            ("secretariat", 4, 4, 4, ("ii",), "医療保険制度の改正が続いており、共通化の効果が大きい。"),
            ("mhlw", 5, 4, 4, ("ii", "iii"), "オンライン資格確認との連携で、資格情報の即時反映が可能になる。"),
            ("shichokai", 4, 4, 3, (), "被保険者証の廃止に伴う窓口事務の見直しと合わせて進めたい。"),
        ),
        path=("under_review", "selected"),
        track="commonization",
        note="制度改正への対応負担が大きく、共通化の効果が見込まれる。",
        study={
            "status": "accepted",
            "findings": "資格管理の業務フローは全国で共通化可能。",
            "affected_local_governments": 1716,
            "cost_initial_yen": 3_200_000_000,
            "cost_annual_yen": 900_000_000,
            "expected_effect": "資格異動の反映の即時化と、窓口・電話照会の削減。",
            "staff_hours_saved_per_year": 410_000,
            "risks": "広域化している一部事務組合の扱い。",
            "conclusion": "feasible",
        },
    ),
    DemoCandidate(
        title="児童扶養手当の現況届のオンライン化",
        description="児童扶養手当の現況届をオンラインで受け付け、審査を共通の仕組みで行う。",
        ministry="cfa",
        areas=("child-rearing-allowance",),
        scores=(("cfa", 4, 4, 4, ("i",), "受給者の来庁負担が大きく、オンライン化の効果が高い。"),),
        path=("under_review", "selected"),
        track="commonization",
        note="利用者起点の効果が大きい。",
        study={
            "status": "accepted",
            "findings": "マイナポータルの申請機能を活用して実現可能。",
            "affected_local_governments": 1741,
            "cost_initial_yen": 600_000_000,
            "cost_annual_yen": 120_000_000,
            "expected_effect": "8月の現況届の窓口混雑の解消。",
            "staff_hours_saved_per_year": 95_000,
            "risks": "本人確認書類の扱い。",
            "conclusion": "feasible",
        },
    ),
    DemoCandidate(
        title="後期高齢者医療の保険料賦課事務の共通化",
        description="広域連合と市町村の間の保険料賦課・収納情報の連携を共通化する。",
        ministry="mhlw",
        areas=("late-stage-elderly-medical",),
        scores=(("mhlw", 3, 3, 4, (), "広域連合の標準システムとの整理が必要。"),),
        path=("under_review", "selected"),
        track="commonization",
        note="実現可能性調査で効果を確認する。",
        study={
            "status": "accepted",
            "findings": "広域連合の標準システムで既に大半が対応済み。",
            "affected_local_governments": 1741,
            "cost_initial_yen": 150_000_000,
            "cost_annual_yen": 30_000_000,
            "expected_effect": "限定的。",
            "conclusion": "conditionally_feasible",
        },
    ),
    DemoCandidate(
        title="図書館システムの共通化",
        description="公立図書館の蔵書管理・貸出システムを共通化する。",
        ministry="mext",
        path=("withdrawn",),
        note="提案団体から取下げ。",
    ),
)


def load_demo_candidates() -> int:
    """Create the demo candidates that do not exist yet (matched by title); returns how many."""
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in={"secretariat", "soumu", "mhlw", "cfa", "cao", "chijikai", "shichokai", "chosonkai"})}
    secretariat = users["secretariat"]
    ministries = {o.code: o for o in Organization.objects.filter(code__in={c.ministry for c in DEMO_CANDIDATES})}
    areas = {a.code: a for a in BusinessArea.objects.all()}
    existing = set(Candidate.objects.filter(title__in=[c.title for c in DEMO_CANDIDATES]).values_list("title", flat=True))
    created = 0
    for demo in DEMO_CANDIDATES:
        if demo.title in existing:
            continue
        with transaction.atomic():
            _create(demo, users, secretariat, ministries, areas)
        created += 1
    return created


def _create(demo: DemoCandidate, users, secretariat, ministries, areas) -> None:
    candidate = actions.propose_candidate(
        secretariat,
        title=demo.title,
        description=demo.description,
        owning_ministry=ministries[demo.ministry],
        business_areas=[areas[code] for code in demo.areas],
    )
    for username, need, effect, feasible, viewpoints, rationale in demo.scores:
        actions.assess(
            candidate, users[username], user_need=need, expected_effect=effect, feasibility=feasible,
            rationale=rationale, viewpoints=viewpoints,
        )
    for status in demo.path:
        actions.decide(candidate, secretariat, status, track=demo.track, comment=demo.note if status == demo.path[-1] else "")
    if demo.study:
        _create_study(candidate, demo.study, users, secretariat)


def _create_study(candidate: Candidate, spec: dict, users, secretariat) -> None:
    spec = dict(spec)
    target = spec.pop("status")
    overdue = spec.pop("overdue", False)
    return_comment = spec.pop("return_comment", "")
    study, _moved = actions.assign_study(candidate, secretariat, due_date=calendar.add_business_days(calendar.today(), 40))
    officer = users[candidate.owning_ministry.code]
    if spec:
        study = actions.save_study(study, officer, spec)
    if target in ("submitted", "accepted", "returned"):
        actions.move_study(study, officer, "submitted")
    if target == "accepted":
        actions.move_study(study, secretariat, "accepted", comment="内容を確認し受理します。")
    if target == "returned":
        actions.move_study(study, secretariat, "returned", comment=return_comment)
    if overdue:
        # Demo only: show what an overdue study looks like.
        FeasibilityStudy.objects.filter(pk=study.pk).update(due_date=calendar.today() - timedelta(days=7))
