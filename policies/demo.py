"""Demo policies for `load_demo`: one at every stage, and one whose first consent round
failed before a revised version was consented."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from candidates.models import Candidate
from policies import actions
from policies.models import Policy

BODY = """## 目的と範囲
{purpose}

## 対象システムと業務
{targets}

## スケジュールとマイルストーン
令和9年度に標準仕様を確定し、令和10年度から各団体のシステム更新時期に合わせて順次移行する。

## 移行の考え方
各地方公共団体のシステム更新時期に合わせた無理のない移行とし、早期移行団体には初期経費を国が期限を設けて支援する。

## KPI
- 共通SaaSの利用団体数
- 窓口での処理時間の削減率
"""

COST_SHARING = [
    {"layer": "common_saas", "item": "survey", "payer": "state"},
    {"layer": "common_saas", "item": "specification", "payer": "state"},
    {"layer": "common_saas", "item": "development", "payer": "state"},
    {"layer": "common_saas", "item": "usage_fee", "payer": "local"},
    {"layer": "common_saas", "item": "initial_support", "payer": "state", "until": 2030},
    {"layer": "dpi", "item": "development", "payer": "state"},
    {"layer": "dpi", "item": "operation", "payer": "state"},
    {"layer": "infrastructure", "item": "operation", "payer": "manager"},
    {"layer": "infrastructure", "item": "usage_fee", "payer": "shared"},
]


def _schedule(years: int = 0) -> list[dict]:
    return [
        {"milestone": "標準仕様の確定", "target_date": f"{2028 + years}-03-31"},
        {"milestone": "先行団体での利用開始", "target_date": f"{2028 + years}-10-01"},
        {"milestone": "全団体の移行完了", "target_date": f"{2031 + years}-03-31"},
    ]


# title of the candidate → (policy title, final stage)
DEMO_POLICIES = {
    "児童手当の認定・支給事務の共通化": ("児童手当の認定・支給事務に関する共通化推進方針", "consented_after_failure"),
    "国民健康保険の資格管理事務の共通化": ("国民健康保険の資格管理事務に関する共通化推進方針", "in_consent"),
    "児童扶養手当の現況届のオンライン化": ("児童扶養手当の現況届オンライン化に関する共通化推進方針", "drafting"),
    "後期高齢者医療の保険料賦課事務の共通化": ("後期高齢者医療の保険料賦課事務に関する共通化推進方針", "withdrawn"),
}


def load_demo_policies() -> int:
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["secretariat", "cfa", "mhlw", "chijikai", "shichokai", "chosonkai"])}
    created = 0
    for candidate in Candidate.objects.filter(title__in=DEMO_POLICIES, policy__isnull=True).select_related("owning_ministry"):
        title, stage = DEMO_POLICIES[candidate.title]
        with transaction.atomic():
            _create(candidate, title, stage, users)
        created += 1
    return created


def _create(candidate, title, stage, users) -> Policy:
    owner, secretariat = users[candidate.owning_ministry.code], users["secretariat"]
    policy = actions.create_policy(candidate, owner, title=title)
    version = policy.versions.get()
    body = BODY.format(purpose=f"{candidate.title}により、{candidate.description}", targets=candidate.description)
    if stage == "drafting":
        actions.update_version(version, owner, {"body": body, "cost_sharing": COST_SHARING[:4]})
        return policy
    actions.update_version(version, owner, {"body": body, "cost_sharing": COST_SHARING, "schedule": _schedule(0)})
    actions.submit_version(version, owner)
    if stage == "withdrawn":
        actions.withdraw_policy(policy, owner, comment="広域連合の標準システムで対応するため取り下げる。")
        return policy
    closes_at = timezone.now() + timedelta(days=14)
    round_ = actions.open_round(version, secretariat, closes_at=closes_at)
    if stage == "in_consent":
        actions.cast_ballot(round_, users["chijikai"], choice="consent")
        actions.cast_ballot(round_, users["shichokai"], choice="conditional_consent", comment="被保険者証の廃止に伴う窓口対応の周知を国が行うこと。")
        return policy
    # The first round fails: the city mayors object to the migration schedule.
    actions.cast_ballot(round_, users["chijikai"], choice="consent")
    actions.cast_ballot(round_, users["shichokai"], choice="objection", comment="移行期限が短く、システム更新時期に合わない団体が多い。")
    actions.cast_ballot(round_, users["chosonkai"], choice="conditional_consent", comment="小規模町村への初期経費支援を明記すること。")
    actions.close_round(round_, secretariat)
    policy.refresh_from_db()
    revised = actions.create_version(policy, owner, schedule=_schedule(1))
    actions.submit_version(revised, owner)
    second = actions.open_round(revised, secretariat, closes_at=closes_at)
    for username, choice, comment in (
        ("chijikai", "consent", ""),
        ("shichokai", "conditional_consent", "移行状況を毎年度報告すること。"),
        ("chosonkai", "consent", ""),
    ):
        actions.cast_ballot(second, users[username], choice=choice, comment=comment)
    actions.close_round(second, secretariat)
    return policy
