"""National-scale data for measuring performance (`manage.py generate_national_data`).

At scale 1: the real reference data (every organization, the 20 business areas), the demo
users, 2,000 users across all organizations, 300 candidates with assessments, 120
feasibility studies, 80 consented policies (versions frozen by hash, consent rounds with a
correct hash chain, some after a failed first round) plus 12 more in drafting, in consent
or withdrawn, five fiscal years of quarterly progress reports per consented policy,
adoption by all 1,788 local governments of every consented policy with about six changes
each in its history (≈ 0.86 million rows), measure requests and usage reports.
Scale N multiplies the candidates, studies, policies and everything under them.

The same seed, scale and `as_of` date give the same rows. The generation is one
transaction and refuses a database that already has candidates or policies: it fills an
empty pipeline (`make bench` recreates its database for each run).

Rows are written with explicit ids, bypassing save() and signals: PostgreSQL's COPY
(psycopg 3 `cursor.copy`) for every table, plain INSERTs on SQLite (small scales, tests).
Model invariants are kept by computing them the way the models do (PolicyVersion.
compute_hash, ConsentRecord.compute_hash, the adoption row's status = its last change).
Pre-aggregated figures that signals would maintain are rebuilt at the end
(`refresh_aggregates`).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import random
import time as time_module
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from guardian.models import GroupObjectPermission

from candidates.models import (
    Assessment,
    BusinessArea,
    Candidate,
    CandidateStatus,
    Conclusion,
    FeasibilityStudy,
    StudyStatus,
    Track,
)
from council import calendar
from council.models import TransitionLog
from policies.actions import GENESIS
from policies.models import (
    Ballot,
    ConsentRecord,
    ConsentRound,
    ConsentVoter,
    Outcome,
    Policy,
    PolicyStatus,
    PolicyVersion,
    RoundStatus,
    VersionComment,
)
from progress.models import (
    Adoption,
    AdoptionChange,
    MeasureRequest,
    MeasureStatus,
    ProgressReport,
    ReportingSchedule,
    ReportStatus,
    UsageReport,
)
from progress.periods import Period
from tenants.models import Membership, Organization, OrganizationKind, Role

USERNAME_PREFIX = "nat-"
QUARTERS = 20  # five fiscal years of quarterly reports
BASE_COUNTS = {"candidates": 300, "studies": 120, "policies": 80, "pipeline_policies": 12, "users": 2000}
REPORT_DUE_DAYS = 30


class GenerationError(Exception):
    """Generation refused or impossible; nothing was written."""


@dataclass(frozen=True)
class Plan:
    """How many of everything, derived from the scale (or overridden)."""

    scale: float
    seed: int
    as_of: date
    candidates: int
    studies: int
    policies: int  # consented, each with schedule, reports and adoption by every local government
    pipeline_policies: int  # drafting, in consent or withdrawn
    users: int
    changes_per_adoption: float = 6.0

    @classmethod
    def for_scale(
        cls, scale: float, *, seed: int = 1, as_of: date | None = None, policies: int | None = None,
        changes_per_adoption: float = 6.0,
    ) -> Plan:
        if scale <= 0:
            raise GenerationError("--scale must be greater than 0")
        if policies is not None and policies < 1:
            raise GenerationError("--policies must be at least 1")
        if not 1 <= changes_per_adoption <= 20:
            raise GenerationError("--changes-per-adoption must be between 1 and 20")
        consented = policies if policies is not None else max(1, round(BASE_COUNTS["policies"] * scale))
        factor = consented / BASE_COUNTS["policies"]
        pipeline = round(BASE_COUNTS["pipeline_policies"] * factor)
        studies = max(consented + pipeline, round(BASE_COUNTS["studies"] * factor))
        candidates = max(studies + 2, round(BASE_COUNTS["candidates"] * factor))
        # Users belong to organizations, which do not multiply: 2,000 from scale 1 up.
        users = max(40, round(BASE_COUNTS["users"] * min(1.0, factor)))
        return cls(
            scale=scale, seed=seed, as_of=as_of or calendar.today(), candidates=candidates, studies=studies,
            policies=consented, pipeline_policies=pipeline, users=users, changes_per_adoption=changes_per_adoption,
        )


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=dict)
    aggregates: str = ""

    def add(self, name: str, n: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


# --- Writing rows -------------------------------------------------------------------------------------


class Writer:
    """Inserts rows with explicit ids, without save() or signals: COPY on PostgreSQL."""

    def __init__(self, summary: Summary) -> None:
        self.summary = summary
        self.is_postgres = connection.vendor == "postgresql"
        self.next_ids: dict[type[models.Model], int] = {}
        self.written: set[type[models.Model]] = set()
        self.replica = False

    def next_id(self, model: type[models.Model]) -> int:
        if model not in self.next_ids:
            self.next_ids[model] = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        value = self.next_ids[model]
        self.next_ids[model] = value + 1
        return value

    def objects(self, model: type[models.Model], objs: Sequence[models.Model]) -> None:
        """Write model instances (every concrete field as it is set: no auto_now, no save())."""
        fields = [f for f in model._meta.concrete_fields]
        rows = ([f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] for obj in objs)
        self._write(model, [f.column for f in fields], rows, prepared=True)
        self.summary.add(model._meta.label, len(objs))

    def tuples(self, model: type[models.Model], attnames: Sequence[str], rows: Iterable[tuple]) -> int:
        """Write plain value tuples (ints, strings, dates, aware datetimes, None) to `attnames`."""
        columns = [model._meta.get_field(name).column for name in attnames]
        count = self._write(model, columns, rows, prepared=False)
        self.summary.add(model._meta.label, count)
        return count

    def _write(self, model, columns: list[str], rows: Iterable, *, prepared: bool) -> int:
        self.written.add(model)
        table = connection.ops.quote_name(model._meta.db_table)
        column_sql = ", ".join(connection.ops.quote_name(c) for c in columns)
        count = 0
        with connection.cursor() as cursor:
            if self.is_postgres:
                with cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                return count
            placeholders = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})"
            batch: list = []
            for row in rows:
                if not prepared:
                    row = [connection.ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in row]
                batch.append(row)
                if len(batch) >= 2000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
        return count

    def begin(self) -> None:
        """On PostgreSQL as a superuser, skip the per-row foreign-key triggers for this
        transaction: each would lock the referenced row, and a million deferred checks make
        the COMMIT take minutes. `finish()` checks every foreign key in one query instead."""
        if not self.is_postgres:
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
            self.replica = bool(row and row[0])
            if self.replica:
                cursor.execute("SET LOCAL session_replication_role = replica")

    def finish(self) -> None:
        """Check the foreign keys the triggers skipped, then move PostgreSQL's id sequences
        past the ids written explicitly."""
        if not self.is_postgres or not self.written:
            return
        models_ = sorted(self.written, key=lambda m: m._meta.label)
        with connection.cursor() as cursor:
            if self.replica:
                cursor.execute("SET LOCAL session_replication_role = origin")
                for model in models_:
                    for fk in (f for f in model._meta.concrete_fields if f.is_relation and f.many_to_one):
                        q = connection.ops.quote_name
                        target = fk.target_field
                        cursor.execute(
                            f"SELECT count(*) FROM {q(model._meta.db_table)} c WHERE c.{q(fk.column)} IS NOT NULL AND NOT EXISTS "
                            f"(SELECT 1 FROM {q(target.model._meta.db_table)} p WHERE p.{q(target.column)} = c.{q(fk.column)})"
                        )
                        dangling = cursor.fetchone()[0]
                        if dangling:
                            raise GenerationError(f"{dangling} rows of {model._meta.label} point to no {target.model._meta.label}")
            for sql in connection.ops.sequence_reset_sql(no_style(), models_):
                cursor.execute(sql)


# --- Words for titles and bodies ---------------------------------------------------------------------

SUBJECTS = (
    "住民票の写し等の交付", "児童手当の認定・支給", "要介護認定", "保育所等の利用調整", "国民健康保険の資格管理",
    "後期高齢者医療の保険料賦課", "障害福祉サービスの支給決定", "生活保護の医療扶助", "就学援助の認定", "学校給食費の公会計",
    "公共施設の予約", "図書館の蔵書管理", "上下水道料金の収納", "道路占用許可", "建築確認の審査", "農地転用の許可",
    "消防用設備等の届出", "防災行政無線の運用", "被災者台帳の作成", "罹災証明書の交付", "固定資産税の課税", "軽自動車税の申告",
    "個人住民税の特別徴収", "法人住民税の申告受付", "印鑑登録証明", "戸籍の附票", "選挙人名簿の管理", "健康診断の予約",
    "予防接種の記録", "母子健康手帳の交付", "ごみ収集の申込", "粗大ごみの手数料収納", "空き家の実態調査", "公営住宅の入居管理",
    "奨学金の貸与", "文化財の管理", "観光統計の集計", "中小企業向け補助金の申請", "鳥獣被害対策の報告", "地方財政状況調査の報告",
)
FORMS = (
    "事務の共通化", "の共通SaaS化", "のオンライン化", "のデータ連携", "の共通基盤", "の標準化と共通化",
    "の都道府県共同調達", "の電子申請", "の台帳の共通化", "の国への報告の自動化",
)
ASSESSMENT_RATIONALES = (
    "全国の団体で同種の事務が重複しており、共通化による総コスト低減が見込まれる。",
    "制度改正が頻繁で、各団体の改修負担が大きい。",
    "国への報告に毎年多くの手間を要している。",
    "小規模団体では担当職員の負担が特に重い。",
    "既に独自に導入している団体が多く、移行時期の配慮が必要。",
    "利用者の来庁負担が大きく、オンライン化の効果が高い。",
)
RISKS = (
    "既存ベンダーとの契約期間が団体ごとに異なる。",
    "広域連合・一部事務組合で処理している地域の扱い。",
    "移行期における二重運用の負担。",
    "本人確認書類の取扱いの整理。",
)
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
USAGE_SYSTEMS = (
    ("公的個人認証サービス（マイナンバーカードによる認証）", "dpi"),
    ("GビズID", "dpi"),
    ("ベース・レジストリ（アドレス）", "dpi"),
    ("ガバメントクラウド", "infrastructure"),
    ("ガバメントソリューションサービス（GSS）", "infrastructure"),
    ("地方公共団体情報システム機構の共通基盤", "infrastructure"),
    ("eLTAX（地方税ポータルシステム）", "common_saas"),
    ("マイナポータル（ぴったりサービス）", "common_saas"),
    ("自治体窓口DXSaaS", "common_saas"),
    ("公金収納のeL-QR", "common_saas"),
    ("自治体向け電子契約", "common_saas"),
    ("避難所運営支援システム", "common_saas"),
)


def policy_body(title: str, description: str, rng: random.Random, paragraphs: int = 1) -> str:
    """A version's Markdown with the five required sections (policies.sections)."""
    filler = [
        "各地方公共団体のシステム更新時期に合わせた無理のない移行とし、早期移行団体には初期経費を国が期限を設けて支援する。",
        "標準仕様は関係府省庁と地方三団体の意見を聴いて定め、制度改正への対応は国が一括して行う。",
        "利用状況と効果は四半期ごとに協議会へ報告し、必要に応じて措置を講じる。",
        "個人情報の取扱いは個人情報保護委員会の指針に沿って整理し、監査の結果を公表する。",
    ]

    def text(lead: str) -> str:
        extra = [filler[(i + rng.randrange(len(filler))) % len(filler)] for i in range(paragraphs)]
        return "\n\n".join([lead, *extra])

    return (
        f"## 目的と範囲\n{text(title + 'により、' + description)}\n\n"
        f"## 対象システムと業務\n{text(description)}\n\n"
        f"## スケジュールとマイルストーン\n{text('標準仕様を確定した後、各団体のシステム更新時期に合わせて順次移行する。')}\n\n"
        f"## 移行の考え方\n{text('移行は各団体の判断による。共通化を強制するものではない。')}\n\n"
        "## KPI\n- 共通SaaSの利用団体数\n- 窓口での処理時間の削減率\n- 国への報告に要する時間の削減率\n"
    )


def _dt(day: date, rng: random.Random | None = None, hour: int = 10) -> datetime:
    """An aware UTC datetime on `day` (Tokyo office hours), whole seconds."""
    minute = rng.randrange(60) if rng else 0
    local = datetime.combine(day, time(hour, minute), tzinfo=calendar.TOKYO)
    return local.astimezone(dt_timezone.utc)


# --- The generator ---------------------------------------------------------------------------------


@dataclass
class World:
    """What later steps look up: organizations, users by organization, permission ids."""

    by_code: dict[str, Organization]
    secretariat_orgs: list[Organization]
    ministries: list[Organization]
    associations: list[Organization]
    local_governments: list[Organization]
    users_by_org: dict[int, list[int]]
    secretariat_user: int
    business_areas: list[BusinessArea]
    permission_ids: dict[str, int]
    content_type_ids: dict[type[models.Model], int]

    def user_of(self, organization_id: int, rng: random.Random) -> int:
        users = self.users_by_org.get(organization_id)
        return rng.choice(users) if users else self.secretariat_user


class Generator:
    def __init__(self, plan: Plan, log: Callable[[str], None] = lambda message: None) -> None:
        self.plan = plan
        self.started = time_module.perf_counter()
        self.log = lambda message: log(f"[{time_module.perf_counter() - self.started:6.1f} s] {message}")
        self.summary = Summary()
        self.writer = Writer(self.summary)
        self.as_of = plan.as_of
        self.current_period = Period.containing(plan.as_of, "quarterly")
        first = self.current_period
        for _ in range(QUARTERS - 1):
            first = _previous(first)
        self.first_period = first

    def rng(self, *parts) -> random.Random:
        """A generator of its own for each part of the data, so one part's size never shifts another's."""
        return random.Random(f"{self.plan.seed}:" + ":".join(str(p) for p in parts))

    def run(self) -> Summary:
        if not Organization.objects.filter(kind=OrganizationKind.MUNICIPALITY).exists():
            # A fresh database: the real reference data first (a loaded one is left as it is).
            call_command("load_reference_data", stdout=io.StringIO())
        from tenants.demo import load_demo

        load_demo(settings.DEMO_PASSWORD)
        self.log("reference data and demo users")
        self.writer.begin()
        if Candidate.objects.exists() or Policy.objects.exists():
            raise GenerationError(
                f"the database already has {Candidate.objects.count()} candidates and {Policy.objects.count()} policies: "
                "generate_national_data fills an empty pipeline; use a fresh database (make bench recreates council_bench)"
            )
        if get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).exists():
            raise GenerationError("generated users already exist: use a fresh database")
        world = self.users()
        self.log(f"users: {self.summary.counts.get('auth.User', 0)}")
        candidates = self.candidates(world)
        self.log(f"candidates: {len(candidates)}")
        policies = self.policies(world, candidates)
        self.log(f"policies: {len(policies)}")
        self.progress(world, policies)
        self.usage_reports(world)
        self.writer.finish()
        # The COPY ran with the triggers off (as superuser): the adoption and report tallies
        # and the candidates' score totals are recounted.
        from candidates import scores
        from progress import report_tally, tally

        tally.rebuild()
        report_tally.rebuild()
        scores.rebuild()
        self.log("foreign keys checked, tallies and score totals recounted; rebuilding aggregates")
        self.summary.aggregates = refresh_aggregates()
        self.log("aggregates rebuilt")
        return self.summary

    # -- users ------------------------------------------------------------------------------------

    def users(self) -> World:
        User = get_user_model()
        organizations = list(Organization.objects.select_related("group").order_by("code"))
        by_kind: dict[str, list[Organization]] = {}
        for org in organizations:
            by_kind.setdefault(org.kind, []).append(org)
        national = by_kind[OrganizationKind.SECRETARIAT] + by_kind[OrganizationKind.MINISTRY] + by_kind[OrganizationKind.ASSOCIATION]
        local = by_kind[OrganizationKind.PREFECTURE] + by_kind[OrganizationKind.MUNICIPALITY]
        rng = self.rng("users")
        # Every national body first (the secretariat and ministries several), then one per local
        # government while there are users left, then the rest to prefectures and large cities.
        seats: list[Organization] = []
        per_national = {OrganizationKind.SECRETARIAT: 10, OrganizationKind.MINISTRY: 5, OrganizationKind.ASSOCIATION: 3}
        total = self.plan.users
        if total < 400:
            per_national = dict.fromkeys(per_national, 1)
        for org in national:
            seats.extend([org] * per_national[org.kind])
        remaining = max(0, total - len(seats))
        shuffled = local[:]
        rng.shuffle(shuffled)
        seats.extend(shuffled[:remaining])
        remaining -= min(remaining, len(shuffled))
        big = by_kind[OrganizationKind.PREFECTURE]
        index = 0
        while remaining > 0:
            seats.append(big[index % len(big)])
            index += 1
            remaining -= 1

        role_for = {
            OrganizationKind.SECRETARIAT: Role.SECRETARIAT_STAFF,
            OrganizationKind.MINISTRY: Role.MINISTRY_OFFICER,
            OrganizationKind.ASSOCIATION: Role.ASSOCIATION_REPRESENTATIVE,
            OrganizationKind.PREFECTURE: Role.LOCAL_OFFICIAL,
            OrganizationKind.MUNICIPALITY: Role.LOCAL_OFFICIAL,
        }
        role_groups = {role: Group.objects.get_or_create(name=f"role:{role}")[0].pk for role in Role.values}
        # One hash for every generated user (hashing 2,000 passwords would take minutes).
        password = make_password(settings.DEMO_PASSWORD)
        joined = _dt(self.as_of - timedelta(days=5 * 365))
        users, memberships, group_rows = [], [], []
        users_by_org: dict[int, list[int]] = {}
        for n, org in enumerate(seats, start=1):
            uid = self.writer.next_id(User)
            # A few local officials are read-only viewers.
            role = Role.VIEWER if org.is_local_government and n % 25 == 0 else role_for[org.kind]
            users.append(User(
                id=uid, username=f"{USERNAME_PREFIX}{n:05d}", password=password, last_name=f"{org.name} 職員{n}",
                first_name="", email=f"{USERNAME_PREFIX}{n:05d}@example.jp", is_staff=False, is_active=True,
                is_superuser=False, date_joined=joined,
            ))
            memberships.append(Membership(id=self.writer.next_id(Membership), user_id=uid, organization_id=org.pk,
                                          role=role, created_at=joined))
            for group_id in (org.group_id, role_groups[role]):
                group_rows.append((self.writer.next_id(User.groups.through), uid, group_id))
            if role != Role.VIEWER:
                users_by_org.setdefault(org.pk, []).append(uid)
        self.writer.objects(User, users)
        self.writer.objects(Membership, memberships)
        self.writer.tuples(User.groups.through, ["id", "user_id", "group_id"], group_rows)

        # The demo users act too (they are who the benchmark signs in as).
        for uid, org_id, role in Membership.objects.filter(user__username__in=[
            "secretariat", "soumu", "mhlw", "cfa", "cao", "chijikai", "shichokai", "chosonkai", "hokkaido", "sapporo",
        ]).values_list("user_id", "organization_id", "role"):
            if role != Role.VIEWER:
                users_by_org.setdefault(org_id, []).insert(0, uid)
        secretariat_user = get_user_model().objects.get(username="secretariat").pk

        def content_type(model) -> int:
            return ContentType.objects.get_for_model(model).pk

        permission_ids = {
            p.codename: p.pk for p in Permission.objects.filter(codename__in=[
                "view_policy", "change_policy", "view_feasibilitystudy", "change_feasibilitystudy", "submit_feasibilitystudy",
            ])
        }
        by_code = {o.code: o for o in organizations}
        return World(
            by_code=by_code,
            secretariat_orgs=by_kind[OrganizationKind.SECRETARIAT],
            ministries=by_kind[OrganizationKind.MINISTRY],
            associations=by_kind[OrganizationKind.ASSOCIATION],
            local_governments=local,
            users_by_org=users_by_org,
            secretariat_user=secretariat_user,
            business_areas=list(BusinessArea.objects.order_by("sort_order", "code")),
            permission_ids=permission_ids,
            content_type_ids={m: content_type(m) for m in (Candidate, FeasibilityStudy, Policy, ProgressReport, MeasureRequest)},
        )

    # -- candidates, assessments, studies -------------------------------------------------------------

    def candidates(self, world: World) -> list[dict]:
        """Candidates in every state; the first `studies` are selected and have a study, the
        first policies + pipeline_policies of those an accepted one (they get policies)."""
        plan = self.plan
        rng = self.rng("candidates")
        owners = [m for m in world.ministries if m.pk in world.users_by_org]
        with_policy = plan.policies + plan.pipeline_policies
        rest = plan.candidates - plan.studies
        # The candidates without a study: selected (awaiting a study), under review, proposed,
        # not selected, withdrawn.
        shares = [("selected", 0.11), ("under_review", 0.28), ("proposed", 0.33), ("not_selected", 0.22), ("withdrawn", 0.06)]
        other_states: list[str] = []
        for state, share in shares:
            other_states += [state] * round(rest * share)
        other_states = (other_states + ["proposed"] * rest)[:rest]
        rng.shuffle(other_states)

        candidates, history, assessments, studies, perms, links = [], [], [], [], [], []
        leading: list[dict] = []  # the candidates that lead to policies
        proposers = world.secretariat_orgs + world.ministries + world.associations + world.local_governments[:47]
        through = Candidate.business_areas.through
        for index in range(plan.candidates):
            crng = self.rng("candidate", index)
            state = "selected" if index < plan.studies else other_states[index - plan.studies]
            ministry = owners[index % len(owners)] if index < with_policy else crng.choice(owners)
            subject, form = crng.choice(SUBJECTS), crng.choice(FORMS)
            title = f"{subject}{form}（案{index + 1:04d}）"
            if index < with_policy:
                start = self.first_period.start - timedelta(days=crng.randrange(420, 720))
            else:
                start = self.as_of - timedelta(days=crng.randrange(20, 1500))
            created = _dt(start, crng)
            cid = self.writer.next_id(Candidate)
            decided = state in ("selected", "not_selected")
            track = ""
            if state == "selected":
                track = Track.COMMONIZATION
            elif state == "not_selected":
                track = crng.choice([Track.STANDARDIZATION, Track.JOINT_PROCUREMENT])
            updated = created + timedelta(days=40 if state != "proposed" else 0)
            candidates.append(Candidate(
                id=cid, title=title, description=f"{subject}を全国共通の仕組みで処理し、各団体の重複投資と制度改正対応の負担をなくす。",
                owning_ministry_id=ministry.pk, proposed_by_id=crng.choice(proposers).pk, status=state, track=track,
                decided_on=(created + timedelta(days=40)).date() if decided else None,
                decision_note="3つの基準に照らして判断した。" if decided else "", created_by_id=world.secretariat_user,
                created_at=created, updated_at=updated,
            ))
            for area in crng.sample(world.business_areas, crng.choice([0, 1, 1, 2])):
                links.append((self.writer.next_id(through), cid, area.pk))
            path = {"proposed": [], "under_review": ["under_review"], "selected": ["under_review", "selected"],
                    "not_selected": ["under_review", "not_selected"], "withdrawn": ["withdrawn"]}[state]
            history += self._history(Candidate, world, cid, CandidateStatus.PROPOSED, path, created, 20, world.secretariat_user)
            # Assessments: the secretariat, the owning ministry, some associations.
            assessors = [(world.secretariat_user, world.secretariat_orgs[1].pk)]
            assessors.append((world.user_of(ministry.pk, crng), ministry.pk))
            for association in world.associations:
                if crng.random() < 0.6:
                    assessors.append((world.user_of(association.pk, crng), association.pk))
            if state == "proposed":
                assessors = assessors[: crng.randrange(0, 3)]
            seen = set()
            for assessor, org_id in assessors:
                if assessor in seen:
                    continue
                seen.add(assessor)
                at = created + timedelta(days=crng.randrange(1, 20))
                assessments.append(Assessment(
                    id=self.writer.next_id(Assessment), candidate_id=cid, assessor_id=assessor, organization_id=org_id,
                    user_need=crng.randint(2, 5), expected_effect=crng.randint(2, 5), feasibility=crng.randint(1, 5),
                    rationale=crng.choice(ASSESSMENT_RATIONALES), viewpoint_i=crng.random() < 0.3,
                    viewpoint_ii=crng.random() < 0.4, viewpoint_iii=crng.random() < 0.3, created_at=at, updated_at=at,
                ))
            if index < plan.studies:
                study_state = StudyStatus.ACCEPTED if index < with_policy else crng.choice(
                    [StudyStatus.ASSIGNED, StudyStatus.SUBMITTED, StudyStatus.RETURNED, StudyStatus.ACCEPTED, StudyStatus.ACCEPTED])
                studies.append(self._study(world, crng, cid, ministry, study_state, created + timedelta(days=45), history, perms))
            if index < with_policy:
                leading.append({"id": cid, "title": title, "ministry": ministry, "created": created, "subject": subject})
        self.writer.objects(Candidate, candidates)
        self.writer.tuples(through, ["id", "candidate_id", "businessarea_id"], links)
        self.writer.objects(Assessment, assessments)
        self.writer.objects(FeasibilityStudy, studies)
        self.writer.tuples(GroupObjectPermission, ["id", "permission_id", "content_type_id", "object_pk", "group_id"], perms)
        self.writer.objects(TransitionLog, history)
        return leading

    def _study(self, world, rng, candidate_id, ministry, state, assigned, history, perms) -> FeasibilityStudy:
        sid = self.writer.next_id(FeasibilityStudy)
        filled = state != StudyStatus.ASSIGNED
        submitted = assigned + timedelta(days=75) if filled else None
        decided = submitted + timedelta(days=30) if state in (StudyStatus.ACCEPTED, StudyStatus.RETURNED) else None
        study = FeasibilityStudy(
            id=sid, candidate_id=candidate_id, ministry_id=ministry.pk, status=state,
            due_date=calendar.add_business_days(assigned.date(), 40),
            findings="全国の団体で同一の業務フローに整理でき、共通SaaSでの提供が可能。" if filled else "",
            affected_local_governments=rng.randint(300, 1788) if filled else None,
            cost_initial_yen=rng.randrange(100, 5000) * 1_000_000 if filled else None,
            cost_annual_yen=rng.randrange(10, 1500) * 1_000_000 if filled else None,
            expected_effect="制度改正時の各団体の改修が不要になり、窓口での確認事務が減る。" if filled else "",
            staff_hours_saved_per_year=rng.randrange(10, 700) * 1000 if filled else None,
            risks=rng.choice(RISKS) if filled else "",
            conclusion=(Conclusion.FEASIBLE if state == StudyStatus.ACCEPTED else rng.choice(Conclusion.values)) if filled else "",
            assigned_by_id=world.secretariat_user, assigned_at=assigned, submitted_at=submitted, decided_at=decided,
            updated_at=decided or submitted or assigned,
        )
        path = {StudyStatus.ASSIGNED: [], StudyStatus.SUBMITTED: ["submitted"],
                StudyStatus.RETURNED: ["submitted", "returned"], StudyStatus.ACCEPTED: ["submitted", "accepted"]}[state]
        officer = world.user_of(ministry.pk, rng)
        history += self._history(FeasibilityStudy, world, sid, StudyStatus.ASSIGNED, path, assigned, 37, world.secretariat_user,
                                 movers={"submitted": officer})
        for codename in ("view_feasibilitystudy", "change_feasibilitystudy", "submit_feasibilitystudy"):
            perms.append((self.writer.next_id(GroupObjectPermission), world.permission_ids[codename],
                          world.content_type_ids[FeasibilityStudy], str(sid), ministry.group_id))
        return study

    def _history(self, model, world, object_id, initial, path, start, step_days, by, movers=None, comments=None,
                 created_at=None) -> list[TransitionLog]:
        """The creation row (at `created_at`, else `start`), then one row per move `step_days` apart."""
        rows = [TransitionLog(id=self.writer.next_id(TransitionLog), content_type_id=world.content_type_ids[model],
                              object_id=object_id, from_status="", to_status=initial, by_id=by, at=created_at or start, comment="")]
        previous, at = initial, (start - timedelta(days=step_days)) if created_at else start
        for n, status in enumerate(path):
            at = at + timedelta(days=step_days)
            rows.append(TransitionLog(
                id=self.writer.next_id(TransitionLog), content_type_id=world.content_type_ids[model], object_id=object_id,
                from_status=previous, to_status=status, by_id=(movers or {}).get(status, by), at=at,
                comment=(comments or {}).get(n, ""),
            ))
            previous = status
        return rows

    # -- policies, versions, consent ----------------------------------------------------------------------

    def policies(self, world: World, candidates: list[dict]) -> list[dict]:
        plan = self.plan
        policies, versions, rounds, voters, ballots, records, comments, history, perms = ([] for _ in range(9))
        consented: list[dict] = []
        pipeline_states = [PolicyStatus.DRAFTING, PolicyStatus.IN_CONSENT, PolicyStatus.WITHDRAWN]
        for index, cand in enumerate(candidates):
            rng = self.rng("policy", index)
            is_consented = index < plan.policies
            final = PolicyStatus.CONSENTED if is_consented else pipeline_states[(index - plan.policies) % 3]
            ministry = cand["ministry"]
            owner = world.user_of(ministry.pk, rng)
            pid = self.writer.next_id(Policy)
            title = f"{cand['subject']}に関する共通化推進方針（{index + 1:04d}）"
            t0 = cand["created"] + timedelta(days=160)
            if not is_consented:
                t0 = _dt(self.as_of - timedelta(days=rng.randrange(90, 300)), rng)
            failed_first = is_consented and rng.random() < 0.25
            # Versions: each submitted one goes to a round (except a withdrawn policy's).
            n_submitted = {PolicyStatus.CONSENTED: 2 if failed_first else 1, PolicyStatus.IN_CONSENT: 1,
                           PolicyStatus.WITHDRAWN: 1, PolicyStatus.DRAFTING: 0}[final]
            moves: list[tuple[str, datetime, int, str]] = []  # (to, at, by, comment)
            at = t0
            body = policy_body(title, f"{cand['subject']}を共通SaaSで処理する。", rng)
            for number in range(1, n_submitted + 1):
                created = at + timedelta(days=1 if number == 1 else 10)
                submitted = created + timedelta(days=60 if number == 1 else 30)
                schedule = [
                    {"milestone": "標準仕様の確定", "target_date": f"{self.first_period.fiscal_year + 1}-03-31"},
                    {"milestone": "先行団体での利用開始", "target_date": f"{self.first_period.fiscal_year + 1 + number}-10-01"},
                    {"milestone": "全団体の移行完了", "target_date": f"{self.first_period.fiscal_year + 4 + number}-03-31"},
                ]
                version = PolicyVersion(
                    id=self.writer.next_id(PolicyVersion), policy_id=pid, number=number, body=body,
                    cost_sharing=COST_SHARING, schedule=schedule, revision=2, created_by_id=owner, created_at=created,
                    updated_at=submitted, submitted_at=submitted, submitted_by_id=owner,
                )
                version.content_hash = version.compute_hash()
                versions.append(version)
                for organization in rng.sample(world.associations, 1):
                    comments.append(VersionComment(
                        id=self.writer.next_id(VersionComment), version_id=version.id, section="移行の考え方",
                        body="小規模団体への初期経費の支援を明記してください。", author_id=world.user_of(organization.pk, rng),
                        organization_id=organization.pk, created_at=submitted + timedelta(days=2),
                    ))
                at = submitted
                if final == PolicyStatus.WITHDRAWN:
                    moves.append((PolicyStatus.WITHDRAWN, at + timedelta(days=20), owner, "他の方針に統合するため取り下げる。"))
                    break
                last_round = number == n_submitted
                open_round = final == PolicyStatus.IN_CONSENT
                outcome = Outcome.CONSENTED if last_round else Outcome.NOT_CONSENTED
                opened = at + timedelta(days=5)
                moves.append((PolicyStatus.IN_CONSENT, opened, world.secretariat_user, f"第{number}版を同意手続に付す。"))
                round_id = self.writer.next_id(ConsentRound)
                closes = opened + timedelta(days=14) if not open_round else _dt(self.as_of + timedelta(days=14))
                closed = None if open_round else opened + timedelta(days=14)
                round_ = ConsentRound(
                    id=round_id, policy_id=pid, version_id=version.id, version_hash=version.content_hash,
                    status=RoundStatus.OPEN if open_round else RoundStatus.CLOSED, outcome="" if open_round else outcome,
                    closes_at=closes, opened_by_id=world.secretariat_user, opened_at=opened, closed_at=closed,
                    closed_by_id=None if open_round else world.secretariat_user,
                    outcome_notified_at=closed, opening_notified_at=opened,
                )
                rounds.append(round_)
                chain = RecordChain(self.writer, round_id, records)
                chain.add(ConsentRecord.Kind.OPENED, {"policy": pid, "version": version.id, "version_hash": version.content_hash,
                                                     "closes_at": closes.isoformat()}, world.secretariat_user, opened)
                for organization in world.associations:
                    voters.append(ConsentVoter(id=self.writer.next_id(ConsentVoter), round_id=round_id,
                                               organization_id=organization.pk, added_by_id=world.secretariat_user, added_at=opened))
                    chain.add(ConsentRecord.Kind.VOTER_ADDED, {"organization": organization.pk}, world.secretariat_user, opened)
                cast: dict[int, str] = {}
                for k, organization in enumerate(world.associations):
                    if open_round and k == 2:
                        continue  # one association has not voted yet
                    if outcome == Outcome.NOT_CONSENTED and k == 1:
                        choice, comment = "objection", "移行期限が短く、システム更新時期に合わない団体が多い。"
                    elif rng.random() < 0.3:
                        choice, comment = "conditional_consent", "移行状況を毎年度報告すること。"
                    else:
                        choice, comment = "consent", ""
                    voter_user = world.user_of(organization.pk, rng)
                    cast_at = opened + timedelta(days=3 + k, hours=rng.randrange(8))
                    ballots.append(Ballot(id=self.writer.next_id(Ballot), round_id=round_id, organization_id=organization.pk,
                                          choice=choice, comment=comment, cast_by_id=voter_user, cast_at=cast_at))
                    chain.add(ConsentRecord.Kind.BALLOT, {"organization": organization.pk, "choice": choice, "comment": comment},
                              voter_user, cast_at)
                    cast[organization.pk] = choice
                if not open_round:
                    chain.add(ConsentRecord.Kind.CLOSED, {"outcome": outcome, "ballots": {str(k): v for k, v in sorted(cast.items())},
                                                         "comment": ""}, world.secretariat_user, closed)
                    note = "同意が得られた。" if outcome == Outcome.CONSENTED else "同意が得られなかったため、策定中に戻る。"
                    moves.append((PolicyStatus.CONSENTED if outcome == Outcome.CONSENTED else PolicyStatus.DRAFTING,
                                  closed, world.secretariat_user, note))
                    at = closed
            if final == PolicyStatus.DRAFTING:
                created = t0 + timedelta(days=1)
                versions.append(PolicyVersion(
                    id=self.writer.next_id(PolicyVersion), policy_id=pid, number=1, body=body, cost_sharing=COST_SHARING[:4],
                    schedule=[], revision=3, created_by_id=owner, created_at=created, updated_at=created + timedelta(days=9),
                    submitted_at=None, submitted_by_id=None, content_hash="",
                ))
            updated = moves[-1][1] if moves else t0
            policies.append(Policy(id=pid, candidate_id=cand["id"], ministry_id=ministry.pk, title=title, status=final,
                                   created_by_id=owner, created_at=t0, updated_at=updated))
            history.append(TransitionLog(id=self.writer.next_id(TransitionLog), content_type_id=world.content_type_ids[Policy],
                                         object_id=pid, from_status="", to_status=PolicyStatus.DRAFTING, by_id=owner, at=t0, comment=""))
            previous = PolicyStatus.DRAFTING
            for to, move_at, by, comment in moves:
                history.append(TransitionLog(id=self.writer.next_id(TransitionLog), content_type_id=world.content_type_ids[Policy],
                                             object_id=pid, from_status=previous, to_status=to, by_id=by, at=move_at, comment=comment))
                previous = to
            for codename in ("view_policy", "change_policy"):
                perms.append((self.writer.next_id(GroupObjectPermission), world.permission_ids[codename],
                              world.content_type_ids[Policy], str(pid), ministry.group_id))
            if is_consented:
                consented.append({"id": pid, "ministry": ministry, "owner": owner, "consented_at": updated, "title": title})
        self.writer.objects(Policy, policies)
        self.writer.objects(PolicyVersion, versions)
        self.writer.objects(VersionComment, comments)
        self.writer.objects(ConsentRound, rounds)
        self.writer.objects(ConsentVoter, voters)
        self.writer.objects(Ballot, ballots)
        self.writer.objects(ConsentRecord, records)
        self.writer.objects(TransitionLog, history)
        self.writer.tuples(GroupObjectPermission, ["id", "permission_id", "content_type_id", "object_pk", "group_id"], perms)
        return consented

    # -- stage 4 ----------------------------------------------------------------------------------------

    def progress(self, world: World, policies: list[dict]) -> None:
        periods = [self.first_period]
        while len(periods) < QUARTERS:
            periods.append(periods[-1].next())
        due = {p: p.due_date(REPORT_DUE_DAYS) for p in periods}
        schedules, reports, history, measures = [], [], [], []
        for policy in policies:
            rng = self.rng("reports", policy["id"])
            sid = self.writer.next_id(ReportingSchedule)
            schedules.append(ReportingSchedule(
                id=sid, policy_id=policy["id"], frequency="quarterly", due_days_after_period=REPORT_DUE_DAYS,
                first_fiscal_year=self.first_period.fiscal_year, first_period=self.first_period.number,
                created_by_id=world.secretariat_user, created_at=policy["consented_at"] + timedelta(days=3),
            ))
            past = [p for p in periods if due[p] < self.as_of]
            for period in periods:
                rid = self.writer.next_id(ProgressReport)
                k = len(past) - past.index(period) if period in past else 0  # 1 = the most recent past due
                if k == 0:
                    state = ReportStatus.DUE
                elif k == 1:
                    state = rng.choices([ReportStatus.DUE, ReportStatus.SUBMITTED, ReportStatus.ACCEPTED], [25, 35, 40])[0]
                elif k == 2:
                    state = rng.choices([ReportStatus.RETURNED, ReportStatus.SUBMITTED, ReportStatus.ACCEPTED], [15, 15, 70])[0]
                else:
                    state = ReportStatus.ACCEPTED
                share = (periods.index(period) + 1) / len(periods)
                filled = state != ReportStatus.DUE
                submitted = _dt(due[period] - timedelta(days=rng.randrange(1, 10)), rng) if filled else None
                decided = submitted + timedelta(days=rng.randrange(5, 20)) if state in (ReportStatus.ACCEPTED, ReportStatus.RETURNED) else None
                created = _dt(period.start)
                reports.append(ProgressReport(
                    id=rid, schedule_id=sid, policy_id=policy["id"], fiscal_year=period.fiscal_year, period=period.number,
                    period_start=period.start, period_end=period.end, due_date=due[period], status=state,
                    summary=f"{period.label}は、標準仕様の確定と先行団体での利用開始に向けた作業を進めた。" if filled else "",
                    milestones=[
                        {"name": "標準仕様の確定", "status": "done" if share > 0.4 else "in_progress", "percent": min(100, round(share * 250)), "weight": 2},
                        {"name": "先行団体での利用開始", "status": "in_progress" if share > 0.4 else "not_started", "percent": max(0, round((share - 0.4) * 160)), "weight": 2},
                        {"name": "全団体の移行", "status": "in_progress" if share >= 0.7 else "not_started", "percent": max(0, round((share - 0.7) * 100)), "weight": 1},
                    ] if filled else [],
                    kpis=[
                        {"name": "共通SaaSの利用団体数", "target": 300, "actual": round(1200 * share ** 2), "unit": "団体"},
                        {"name": "窓口処理時間の削減率", "target": 30, "actual": round(32 * share, 1), "unit": "%"},
                    ] if filled else [],
                    risks=rng.choice(RISKS) if filled else "", submitted_at=submitted, decided_at=decided,
                    created_at=created, updated_at=decided or submitted or created,
                ))
                path: list[str] = []
                if filled:
                    path = ["submitted"]
                    if state == ReportStatus.RETURNED or (state == ReportStatus.ACCEPTED and rng.random() < 0.1):
                        path += ["returned"] if state == ReportStatus.RETURNED else ["returned", "submitted"]
                    if state == ReportStatus.ACCEPTED:
                        path.append("accepted")
                    history += self._history(ProgressReport, world, rid, ReportStatus.DUE, path, submitted, 3,
                                             world.secretariat_user, movers={"submitted": policy["owner"]}, created_at=created)
            # Measure requests: about one in three policies, in every state.
            mrng = self.rng("measures", policy["id"])
            # (the first policy always has some, so that small data shows every resource)
            for _ in range(max(mrng.choice([0, 0, 1, 2]), 2 if policy is policies[0] else 0)):
                state = mrng.choice([MeasureStatus.OPEN, MeasureStatus.RESPONDED, MeasureStatus.CLOSED])
                requested = _dt(self.as_of - timedelta(days=mrng.randrange(10, 400)), mrng)
                mid = self.writer.next_id(MeasureRequest)
                responded = requested + timedelta(days=20) if state != MeasureStatus.OPEN else None
                closed = responded + timedelta(days=10) if state == MeasureStatus.CLOSED else None
                measures.append(MeasureRequest(
                    id=mid, policy_id=policy["id"], ministry_id=policy["ministry"].pk, report_id=None,
                    request="移行が遅れている都道府県の状況を次回報告で説明してください。",
                    due_date=requested.date() + timedelta(days=30), status=state,
                    response="次回の進捗報告で、都道府県別の移行状況と支援策を示します。" if responded else "",
                    requested_by_id=world.secretariat_user, requested_at=requested, responded_at=responded, closed_at=closed,
                    updated_at=closed or responded or requested,
                ))
                path = {"open": [], "responded": ["responded"], "closed": ["responded", "closed"]}[state]
                history += self._history(MeasureRequest, world, mid, MeasureStatus.OPEN, path, requested, 15,
                                         world.secretariat_user, movers={"responded": policy["owner"]})
        self.writer.objects(ReportingSchedule, schedules)
        self.writer.objects(ProgressReport, reports)
        self.writer.objects(MeasureRequest, measures)
        self.writer.objects(TransitionLog, history)
        self.log(f"reports: {len(reports)}")
        self.adoption(world, policies)

    def adoption(self, world: World, policies: list[dict]) -> None:
        """One row per policy × local government, each with its history of changes; written
        policy by policy (a policy's 1,788 rows and ~10,700 changes at a time)."""
        local = world.local_governments
        prefecture_of = {o.pk: (o.parent_id or o.pk) for o in local}
        eagerness_of = {p.pk: self.rng("prefecture", p.code).uniform(0.2, 0.9) for p in local if p.parent_id is None}
        next_adoption = self.writer.next_id(Adoption)
        next_change = self.writer.next_id(AdoptionChange)
        mean = self.plan.changes_per_adoption
        low, high = max(1, round(mean) - 2), round(mean) + 2
        fy = calendar.fiscal_year(self.as_of)
        sources = ["web", "api", "import", "import"]
        # organization_code: the copy the triggers keep (progress/orgcode.py), which the COPY skips.
        adoption_cols = ["id", "policy_id", "organization_id", "status", "target_fiscal_year", "updated_by_id", "updated_at",
                         "organization_code"]
        change_cols = ["id", "adoption_id", "from_status", "to_status", "target_fiscal_year", "changed_by_id", "changed_at", "source"]
        adoption_rows: list[tuple] = []
        change_rows: list[tuple] = []
        start_id = next_adoption
        total_adoption = total_changes = 0
        for policy in policies:
            rng = self.rng("adoption", policy["id"])
            policy_eagerness = rng.uniform(0.6, 1.2)
            start = policy["consented_at"] + timedelta(days=10)
            span = max(1, int((_dt(self.as_of) - start).total_seconds()))
            ministry_users = world.users_by_org.get(policy["ministry"].pk) or [world.secretariat_user]
            for org in local:
                eagerness = min(0.95, eagerness_of[prefecture_of[org.pk]] * policy_eagerness)
                local_users = world.users_by_org.get(org.pk)
                n = rng.randint(low, high)
                offsets = sorted(rng.randrange(span) for _ in range(n))
                status, year = "not_planned", None
                aid = next_adoption
                next_adoption += 1
                last_by, last_at = None, None
                for offset in offsets:
                    to = _next_status(status, eagerness, rng)
                    year = (fy + rng.randrange(0, 5)) if to == "planned" else None
                    by = rng.choice(local_users) if local_users and rng.random() < 0.7 else rng.choice(ministry_users)
                    at = start + timedelta(seconds=offset)
                    change_rows.append((next_change, aid, status, to, year, by, at, rng.choice(sources)))
                    next_change += 1
                    status, last_by, last_at = to, by, at
                adoption_rows.append((aid, policy["id"], org.pk, status, year if status == "planned" else None, last_by,
                                      last_at or start, org.code))
            total_adoption += self.writer.tuples(Adoption, adoption_cols, adoption_rows)
            total_changes += self.writer.tuples(AdoptionChange, change_cols, change_rows)
            adoption_rows, change_rows = [], []
        self.writer.next_ids[Adoption] = max(next_adoption, start_id)
        self.writer.next_ids[AdoptionChange] = next_change
        self.log(f"adoption rows: {total_adoption}, adoption changes: {total_changes}")

    def usage_reports(self, world: World) -> None:
        rng = self.rng("usage")
        reporters = [world.by_code.get("digital")] + world.ministries
        periods = [self.first_period]
        while len(periods) < QUARTERS:
            periods.append(periods[-1].next())
        rows = []
        for number, (name, layer) in enumerate(USAGE_SYSTEMS):
            reporter = reporters[number % len(reporters)]
            for k, period in enumerate(periods):
                if period.end >= self.as_of:
                    continue
                rows.append(UsageReport(
                    id=self.writer.next_id(UsageReport), reporter_id=reporter.pk, system_name=name, layer=layer,
                    period_start=period.start, period_end=period.end,
                    metrics=[{"name": "利用団体数", "value": min(1788, 200 + k * 80 + rng.randrange(40)), "unit": "団体"},
                             {"name": "稼働率", "value": round(99.5 + rng.random() * 0.49, 2), "unit": "%"}],
                    note="", created_by_id=world.user_of(reporter.pk, rng), created_at=_dt(period.end + timedelta(days=20)),
                ))
        self.writer.objects(UsageReport, rows)


# Where a local government's adoption goes next: weights over the other statuses, scaled by
# its eagerness (eager ones move forward, reluctant ones hesitate or fall back).
FORWARD = {
    "not_planned": ("considering",),
    "considering": ("planned",),
    "planned": ("migrating",),
    "migrating": ("in_use",),
    "in_use": ("in_use",),
    "not_applicable": ("considering",),
}
BACKWARD = {
    "not_planned": ("not_applicable",),
    "considering": ("not_planned",),
    "planned": ("considering",),
    "migrating": ("planned",),
    "in_use": ("migrating",),
    "not_applicable": ("not_planned",),
}


def _next_status(current: str, eagerness: float, rng: random.Random) -> str:
    if current != "in_use" and rng.random() < eagerness:
        return FORWARD[current][0]
    return BACKWARD[current][0]


def _previous(period: Period) -> Period:
    if period.number > 1:
        return Period(period.fiscal_year, period.number - 1, period.frequency)
    return Period(period.fiscal_year - 1, 4, period.frequency)


class RecordChain:
    """Builds one round's hash-chained ConsentRecords the way policies.actions does."""

    def __init__(self, writer: Writer, round_id: int, out: list[ConsentRecord]) -> None:
        self.writer, self.round_id, self.out = writer, round_id, out
        self.seq, self.previous = 0, GENESIS

    def add(self, kind: str, payload: dict, by: int | None, at: datetime) -> None:
        self.seq += 1
        record = ConsentRecord(id=self.writer.next_id(ConsentRecord), round_id=self.round_id, seq=self.seq, kind=kind,
                               payload=payload, by_id=by, at=at, prev_hash=self.previous)
        record.hash = record.compute_hash()
        self.previous = record.hash
        self.out.append(record)


# --- Pre-aggregated figures --------------------------------------------------------------------------

# HOOK (council.dashboards): the dashboards keep pre-aggregated figures that signals update on
# every write; bulk inserts send no signals, so they are rebuilt here after generating. The
# first of these names that council.dashboards (or its submodules) defines is called.
AGGREGATE_MODULES = ("council.dashboards", "council.dashboards.aggregates", "council.dashboards.figures")
AGGREGATE_FUNCTIONS = ("rebuild_all", "rebuild", "refresh_all", "refresh")


def refresh_aggregates() -> str:
    """Rebuild the dashboards' pre-aggregated figures, if the dashboards are installed."""
    for module_name in AGGREGATE_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        for name in AGGREGATE_FUNCTIONS:
            function = getattr(module, name, None)
            if callable(function):
                function()
                return f"{module_name}.{name}()"
    return "none (council.dashboards has no rebuild function)"


# --- Entry point ---------------------------------------------------------------------------------------


def generate(plan: Plan, log: Callable[[str], None] = lambda message: None) -> Summary:
    """Generate everything in one transaction: all of it, or nothing."""
    with transaction.atomic():
        return Generator(plan, log).run()


def fingerprint() -> str:
    """A digest of the generated content, independent of ids, for checking determinism."""
    digest = hashlib.sha256()

    def feed(rows: Iterator) -> None:
        for row in rows:
            digest.update(repr(row).encode())

    feed(get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).order_by("username")
         .values_list("username", "last_name", "memberships__organization__code", "memberships__role"))
    feed(Candidate.objects.order_by("title").values_list("title", "status", "track", "owning_ministry__code", "created_at"))
    feed(Assessment.objects.order_by("candidate__title", "assessor__username")
         .values_list("candidate__title", "assessor__username", "user_need", "expected_effect", "feasibility"))
    feed(FeasibilityStudy.objects.order_by("candidate__title").values_list("candidate__title", "status", "conclusion", "due_date"))
    feed(Policy.objects.order_by("title").values_list("title", "status", "ministry__code", "updated_at"))
    feed(PolicyVersion.objects.order_by("policy__title", "number").values_list("policy__title", "number", "body", "submitted_at"))
    feed(ConsentRound.objects.order_by("policy__title", "opened_at").values_list("policy__title", "status", "outcome", "closes_at"))
    feed(ConsentRecord.objects.order_by("round__policy__title", "round__opened_at", "seq").values_list("round__policy__title", "seq", "kind", "at"))
    feed(ProgressReport.objects.order_by("policy__title", "period_start").values_list("policy__title", "period_start", "status", "due_date"))
    feed(Adoption.objects.order_by("policy__title", "organization__code")
         .values_list("policy__title", "organization__code", "status", "target_fiscal_year", "updated_at"))
    feed(AdoptionChange.objects.order_by("adoption__policy__title", "adoption__organization__code", "changed_at", "to_status")
         .values_list("adoption__organization__code", "from_status", "to_status", "changed_at", "source"))
    feed(MeasureRequest.objects.order_by("policy__title", "requested_at").values_list("policy__title", "status", "requested_at"))
    feed(UsageReport.objects.order_by("system_name", "period_start").values_list("system_name", "period_start", "metrics"))
    return digest.hexdigest()
