"""The 共通化推進方針 (commonization promotion policy): the owning ministry's versioned
drafts, and the consent of the three local-government associations."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from functools import partial

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models, router
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from candidates.models import Candidate
from council.loading import RowLoaded
from council.prefetch import listed
from council.sql import per_user_subquery
from council.workflow import Conflict, TransitionNotAllowed, WorkflowModel
from tenants.access import access_for, is_council_member, permitted_pk_q, permitted_q
from tenants.models import Organization


# --- Policies -------------------------------------------------------------------------------


class PolicyStatus(models.TextChoices):
    DRAFTING = "drafting", _("策定中")
    IN_CONSENT = "in_consent", _("同意手続中")
    CONSENTED = "consented", _("同意済み")
    WITHDRAWN = "withdrawn", _("取下げ")


def within_visible_policies(queryset, user, path: str = "policy"):
    """`queryset` (of a model pointing at a policy through `path`) restricted to the policies
    `user` may see. The secretariat sees every policy: its rows are not joined to the policy
    table for a condition every row meets (an adoption count at scale 10 took 2.6 ms for it)."""
    if not user.is_authenticated:
        return queryset.none()
    if access_for(user).is_secretariat:
        return queryset
    return queryset.filter(**{f"{path}__in": visible_policy_ids(user)})


def _policy_visibility(council_member: bool, user_pk: int) -> Q:
    """PolicyQuerySet.visible_to's condition for anyone but the secretariat."""
    put_to_consent = Exists(ConsentRound.objects.filter(policy=OuterRef("pk")))
    if council_member:
        submitted = Exists(PolicyVersion.objects.filter(policy=OuterRef("pk"), submitted_at__isnull=False))
        return Q(submitted) | Q(put_to_consent) | permitted_pk_q(Policy, user_pk, "view_policy")
    return Q(put_to_consent)


def _visible_policies_of(council_member: bool, user_pk: int):
    if not council_member:
        # The policies put to consent are the policies of the consent rounds: read from the
        # rounds' policy index alone, not joined back to the policy table (a municipal
        # official's count of consent rounds at scale 10: 0.56 → 0.29 ms).
        return ConsentRound.objects.order_by().values("policy_id")
    return Policy.objects.filter(_policy_visibility(council_member, user_pk)).order_by().values("pk")


def visible_policy_ids(user):
    """The ids of the policies `user` may see, for `policy__in=`: compiled once per kind of
    reader (council.sql.per_user_subquery); the lists of consent rounds, schedules, reports
    and adoption use it in their count and again in their page."""
    if not user.is_authenticated:
        return Policy.objects.none().values("pk")
    access = access_for(user)
    if access.is_secretariat:
        return Policy.objects.order_by().values("pk")
    member = is_council_member(user)
    # A council member's rule reads the object permissions on policies, by content type: its
    # id is part of the compiled SQL (a test database flushed and filled again renumbers it).
    key = ("visible-policies", member, ContentType.objects.get_for_model(Policy).pk if member else None)
    return per_user_subquery(key, partial(_visible_policies_of, member), user.pk, using=router.db_for_read(Policy))


class PolicyQuerySet(models.QuerySet["Policy"]):
    def visible_to(self, user) -> PolicyQuerySet:
        """Secretariat: all. Owning ministry: its own (guardian). Council members: policies with
        a submitted version. Everyone else: policies put to consent."""
        if not user.is_authenticated:
            return self.none()
        if access_for(user).is_secretariat:
            return self
        return self.filter(_policy_visibility(is_council_member(user), user.pk))


class Policy(WorkflowModel):
    TRANSITIONS = {
        PolicyStatus.DRAFTING: frozenset({PolicyStatus.IN_CONSENT, PolicyStatus.WITHDRAWN}),
        PolicyStatus.IN_CONSENT: frozenset({PolicyStatus.CONSENTED, PolicyStatus.DRAFTING}),
    }

    candidate = models.OneToOneField(
        Candidate, verbose_name=_("対象候補"), on_delete=models.PROTECT, related_name="policy"
    )
    ministry = models.ForeignKey(
        Organization, verbose_name=_("所管府省庁"), on_delete=models.PROTECT, related_name="policies"
    )
    title = models.CharField(_("方針名"), max_length=200)
    status = models.CharField(_("状態"), max_length=16, choices=PolicyStatus.choices, default=PolicyStatus.DRAFTING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("共通化推進方針")
        verbose_name_plural = _("共通化推進方針")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "ministry"], name="policy_status_ministry"),
            # The list's order: a page is read from the index, not sorted out of every row.
            models.Index(fields=["-created_at", "-id"], name="policy_list_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PolicyStatus.values),
                name="policy_status_valid",
                violation_error_message=_("状態が正しくありません。"),
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("policies:detail", kwargs={"pk": self.pk})

    def is_owner(self, user) -> bool:
        return self.ministry_id in access_for(user).ministry_ids

    def may_draft(self, user) -> bool:
        return self.status == PolicyStatus.DRAFTING and user.has_perm("policies.change_policy", self)

    def may_transition(self, user, to: str) -> bool:
        if to == PolicyStatus.WITHDRAWN:
            return access_for(user).is_secretariat or self.is_owner(user)
        # Consent moves happen through consent rounds, which the secretariat runs.
        return access_for(user).is_secretariat

    def check_transition(self, to, by, changes, comment) -> None:
        latest = self.rounds.order_by("-opened_at", "-pk").first()
        if to == PolicyStatus.IN_CONSENT and (latest is None or latest.status != RoundStatus.OPEN):
            raise TransitionNotAllowed(self, to, str(_("同意手続は同意手続（ラウンド）を開始して行います。")))
        if to == PolicyStatus.CONSENTED and (latest is None or latest.outcome != Outcome.CONSENTED):
            raise TransitionNotAllowed(self, to, str(_("同意の結果が出ていません。")))
        if (
            to == PolicyStatus.DRAFTING
            and self.status == PolicyStatus.IN_CONSENT
            and (latest is None or latest.outcome != Outcome.NOT_CONSENTED)
        ):
            raise TransitionNotAllowed(self, to, str(_("同意手続が終了していません。")))

    def current_version(self) -> PolicyVersion | None:
        return self.versions.order_by("-number").first()


# --- Versions -------------------------------------------------------------------------------


class Layer(models.TextChoices):
    COMMON_SAAS = "common_saas", _("共通SaaS")
    DPI = "dpi", _("DPI（デジタル公共インフラ）")
    INFRASTRUCTURE = "infrastructure", _("物理／仮想基盤")


class CostItem(models.TextChoices):
    SURVEY = "survey", _("調査")
    SPECIFICATION = "specification", _("標準仕様の作成")
    DEVELOPMENT = "development", _("開発")
    OPERATION = "operation", _("運用")
    MAINTENANCE = "maintenance", _("保守")
    USAGE_FEE = "usage_fee", _("利用料")
    INITIAL_SUPPORT = "initial_support", _("初期経費の国による支援")


class Payer(models.TextChoices):
    STATE = "state", _("国")
    LOCAL = "local", _("地方公共団体")
    MANAGER = "manager", _("管理責任者")
    SHARED = "shared", _("国と地方で分担")


class FrozenVersionError(Conflict):
    """A submitted version is frozen forever: no edit, no delete (HTTP 409)."""


def canonical_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class PolicyVersionQuerySet(models.QuerySet["PolicyVersion"]):
    def visible_to(self, user) -> PolicyVersionQuerySet:
        """Unsubmitted drafts: the owning ministry and the secretariat. Submitted versions:
        council members. Versions put to consent: everyone."""
        qs = within_visible_policies(self, user)
        if not user.is_authenticated or access_for(user).is_secretariat:
            return qs
        in_round = Exists(ConsentRound.objects.filter(version=OuterRef("pk")))
        if is_council_member(user):
            own = Q(policy__in=Policy.objects.filter(permitted_q(Policy, user, "view_policy")))
            return qs.filter(Q(submitted_at__isnull=False) | own)
        return qs.filter(in_round)

    def delete(self):
        if self.filter(submitted_at__isnull=False).exists():
            raise FrozenVersionError(_("提出済みの版は削除できません。"))
        return super().delete()

    def update(self, **kwargs):
        # Bulk updates would bypass save(): keep frozen versions frozen on this path too.
        if self.filter(submitted_at__isnull=False).exists():
            raise FrozenVersionError(_("提出済みの版は変更できません。"))
        return super().update(**kwargs)


class PolicyVersion(RowLoaded, models.Model):
    policy = models.ForeignKey(Policy, verbose_name=_("方針"), on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版"))
    body = models.TextField(_("本文"), max_length=100_000, validators=[MaxLengthValidator(100_000)])
    cost_sharing = models.JSONField(_("費用負担"), default=list, blank=True)
    schedule = models.JSONField(_("スケジュール"), default=list, blank=True)
    # Bumped on every save: a writer who read an older revision gets a conflict, not an overwrite.
    revision = models.PositiveIntegerField(_("改訂番号"), default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    submitted_at = models.DateTimeField(_("提出日時"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    content_hash = models.CharField(_("内容のハッシュ"), max_length=64, blank=True)

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("方針の版")
        verbose_name_plural = _("方針の版")
        ordering = ["policy", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "number"], name="policy_version_number_unique",
                violation_error_message=_("この版番号は既にあります。"),
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True, content_hash="")
                | (Q(submitted_at__isnull=False) & ~Q(content_hash="")),
                name="policy_version_hash_when_submitted",
                violation_error_message=_("提出済みの版には内容のハッシュが必要です。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} 第{self.number}版"

    @property
    def is_frozen(self) -> bool:
        return self.submitted_at is not None

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and PolicyVersion.objects.filter(pk=self.pk, submitted_at__isnull=False).exists():
            raise FrozenVersionError(_("提出済みの版は変更できません。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_frozen:
            raise FrozenVersionError(_("提出済みの版は削除できません。"))
        return super().delete(*args, **kwargs)

    def compute_hash(self) -> str:
        content = {
            "policy": self.policy_id,
            "number": self.number,
            "body": self.body,
            "cost_sharing": self.cost_sharing,
            "schedule": self.schedule,
        }
        return hashlib.sha256(canonical_json(content).encode()).hexdigest()

    def clean(self) -> None:
        errors = {}
        try:
            self.cost_sharing = clean_cost_sharing(self.cost_sharing)
        except ValidationError as exc:
            errors["cost_sharing"] = exc.messages
        try:
            self.schedule = clean_schedule(self.schedule)
        except ValidationError as exc:
            errors["schedule"] = exc.messages
        if errors:
            raise ValidationError(errors)


def clean_cost_sharing(rows) -> list[dict]:
    """Validate and normalise the cost-sharing table; each (layer, item) at most once."""
    if not isinstance(rows, list):
        raise ValidationError(_("費用負担は {layer, item, payer} の一覧で入力してください。"))
    cleaned, seen, errors = [], set(), []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            errors.append(_("%(n)s行目：{layer, item, payer} の形式で入力してください。") % {"n": index})
            continue
        layer, item, payer = row.get("layer"), row.get("item"), row.get("payer")
        if layer not in Layer.values:
            errors.append(_("%(n)s行目：階層「%(v)s」は選べません。") % {"n": index, "v": layer})
        if item not in CostItem.values:
            errors.append(_("%(n)s行目：費目「%(v)s」は選べません。") % {"n": index, "v": item})
        if payer not in Payer.values:
            errors.append(_("%(n)s行目：負担者「%(v)s」は選べません。") % {"n": index, "v": payer})
        if (layer, item) in seen:
            errors.append(_("%(n)s行目：同じ階層と費目が重複しています。") % {"n": index})
        seen.add((layer, item))
        entry = {"layer": layer, "item": item, "payer": payer}
        until = row.get("until")
        if until not in (None, ""):
            if item != CostItem.INITIAL_SUPPORT:
                errors.append(_("%(n)s行目：期限は初期経費の支援にのみ指定できます。") % {"n": index})
            elif not isinstance(until, int) or not 2000 <= until <= 2100:
                errors.append(_("%(n)s行目：支援の期限は年度（例：2030）で入力してください。") % {"n": index})
            else:
                entry["until"] = until
        cleaned.append(entry)
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_schedule(rows) -> list[dict]:
    if not isinstance(rows, list):
        raise ValidationError(_("スケジュールは {milestone, target_date} の一覧で入力してください。"))
    cleaned, errors = [], []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not str(row.get("milestone") or "").strip():
            errors.append(_("%(n)s行目：マイルストーン名を入力してください。") % {"n": index})
            continue
        milestone = str(row["milestone"]).strip()
        if len(milestone) > 200:
            errors.append(_("%(n)s行目：マイルストーン名は200文字以内です。") % {"n": index})
        try:
            target = date.fromisoformat(str(row.get("target_date")))
        except ValueError:
            errors.append(_("%(n)s行目：目標日は YYYY-MM-DD で入力してください。") % {"n": index})
            continue
        cleaned.append({"milestone": milestone, "target_date": target.isoformat()})
    if errors:
        raise ValidationError(errors)
    return cleaned


class VersionComment(RowLoaded, models.Model):
    """A comment by the secretariat or an association on one section of a version."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="comments")
    section = models.CharField(_("節"), max_length=200, blank=True)
    body = models.TextField(_("コメント"), max_length=4000, validators=[MaxLengthValidator(4000)])
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("投稿日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("版へのコメント")
        verbose_name_plural = _("版へのコメント")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="version_comment_body_required",
                                   violation_error_message=_("コメントを入力してください。")),
        ]

    def __str__(self) -> str:
        return f"{self.version} / {self.section or '-'}"


# --- Consent -----------------------------------------------------------------------------------


class RoundStatus(models.TextChoices):
    OPEN = "open", _("受付中")
    CLOSED = "closed", _("終了")


class Outcome(models.TextChoices):
    CONSENTED = "consented", _("同意")
    NOT_CONSENTED = "not_consented", _("不同意")


class Choice(models.TextChoices):
    CONSENT = "consent", _("同意")
    CONDITIONAL_CONSENT = "conditional_consent", _("条件付き同意")
    OBJECTION = "objection", _("異議")
    ABSTAIN = "abstain", _("棄権")


CONSENTING = frozenset({Choice.CONSENT, Choice.CONDITIONAL_CONSENT})
COMMENT_REQUIRED = frozenset({Choice.CONDITIONAL_CONSENT, Choice.OBJECTION, Choice.ABSTAIN})


def outcome_of(voters: set[int], ballots: dict[int, str]) -> str:
    """The consent rule: consented when every voting body has consented (conditionally or
    not) and none objects; anything else — an objection, an abstention, a missing ballot —
    is not consented."""
    if not voters:
        return Outcome.NOT_CONSENTED
    if any(ballots.get(voter) == Choice.OBJECTION for voter in voters):
        return Outcome.NOT_CONSENTED
    if all(ballots.get(voter) in CONSENTING for voter in voters):
        return Outcome.CONSENTED
    return Outcome.NOT_CONSENTED


class ConsentRoundQuerySet(models.QuerySet["ConsentRound"]):
    def visible_to(self, user) -> ConsentRoundQuerySet:
        # A round is the published act of putting a version to consent: every signed-in user
        # may see it (the consent status page), provided they may see its policy at all.
        return within_visible_policies(self, user)


class ConsentRound(RowLoaded, models.Model):
    # ConsentVoter.round's and Ballot.round's related objects, as lists (council.prefetch).
    voters_list = listed("voters")
    ballots_list = listed("ballots")

    policy = models.ForeignKey(Policy, verbose_name=_("方針"), on_delete=models.PROTECT, related_name="rounds")
    version = models.ForeignKey(PolicyVersion, verbose_name=_("対象の版"), on_delete=models.PROTECT, related_name="rounds")
    version_hash = models.CharField(_("対象の版のハッシュ"), max_length=64)
    status = models.CharField(_("状態"), max_length=8, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    outcome = models.CharField(_("結果"), max_length=16, choices=Outcome.choices, blank=True)
    closes_at = models.DateTimeField(_("締切日時"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("開始日時"), auto_now_add=True)
    closed_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    # None when the beat task closed it at the closing time.
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    opening_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ConsentRoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("同意手続")
        verbose_name_plural = _("同意手続")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy"], condition=Q(status=RoundStatus.OPEN), name="consent_round_one_open_per_policy",
                violation_error_message=_("この方針には受付中の同意手続があります。"),
            ),
            models.CheckConstraint(
                condition=(Q(status=RoundStatus.OPEN) & Q(outcome=""))
                | (Q(status=RoundStatus.CLOSED) & Q(outcome__in=Outcome.values)),
                name="consent_round_outcome_when_closed",
                violation_error_message=_("終了した同意手続には結果が必要です。"),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "closes_at"], name="consent_round_status_closes"),
            models.Index(fields=["-opened_at", "-id"], name="consent_round_list_order"),
        ]

    def __str__(self) -> str:
        return f"{self.version}（{self.opened_at:%Y-%m-%d}）"

    def get_absolute_url(self) -> str:
        return reverse("policies:round-detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status == RoundStatus.OPEN

    def accepting_ballots(self, now=None) -> bool:
        return self.is_open and (now or timezone.now()) < self.closes_at

    def voter_ids(self) -> set[int]:
        return set(self.voters.values_list("organization_id", flat=True))

    def voting_organizations_of(self, user) -> list[int]:
        """The voting bodies of this round the user may cast a ballot for."""
        from tenants.models import Role

        access = access_for(user)
        mine = {
            seat.organization_id
            for seat in access.seats
            if seat.role in (Role.ASSOCIATION_REPRESENTATIVE, Role.SECRETARIAT_STAFF)
        }
        return sorted(mine & self.voter_ids())


class ConsentVoter(RowLoaded, models.Model):
    """A body whose ballot counts in a round: the three associations, and any secretariat
    body the secretariat grants consent rights to."""

    round = models.ForeignKey(ConsentRound, on_delete=models.CASCADE, related_name="voters")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("同意権者")
        verbose_name_plural = _("同意権者")
        constraints = [
            models.UniqueConstraint(fields=["round", "organization"], name="consent_voter_unique",
                                    violation_error_message=_("この団体は既に同意権者です。")),
        ]

    def __str__(self) -> str:
        return str(self.organization)


class Ballot(RowLoaded, models.Model):
    """One voting body's current ballot in a round (its changes are in ConsentRecord)."""

    round = models.ForeignKey(ConsentRound, on_delete=models.PROTECT, related_name="ballots")
    organization = models.ForeignKey(Organization, verbose_name=_("団体"), on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(_("意思表示"), max_length=24, choices=Choice.choices)
    comment = models.TextField(_("条件・理由"), blank=True, max_length=4000, validators=[MaxLengthValidator(4000)])
    cast_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cast_at = models.DateTimeField(_("投票日時"))

    class Meta:
        verbose_name = _("投票")
        verbose_name_plural = _("投票")
        ordering = ["organization__code"]
        constraints = [
            # Two simultaneous submissions from one association leave one ballot.
            models.UniqueConstraint(fields=["round", "organization"], name="ballot_one_per_body_and_round",
                                    violation_error_message=_("この団体は既に投票しています。")),
            models.CheckConstraint(condition=Q(choice__in=Choice.values), name="ballot_choice_valid",
                                   violation_error_message=_("意思表示が正しくありません。")),
            models.CheckConstraint(
                condition=Q(choice=Choice.CONSENT) | ~Q(comment=""),
                name="ballot_comment_required",
                violation_error_message=_("条件付き同意・異議・棄権には条件または理由が必要です。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.get_choice_display()}"


class ConsentRecord(RowLoaded, models.Model):
    """Append-only, hash-chained log of a round: opening, every ballot cast or changed, and
    the close. Each row's hash covers the previous row's hash, so an edit anywhere breaks
    the chain (see `verify_consent_records`)."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("開始")
        VOTER_ADDED = "voter_added", _("同意権者の追加")
        BALLOT = "ballot", _("投票")
        CLOSED = "closed", _("終了")

    round = models.ForeignKey(ConsentRound, on_delete=models.PROTECT, related_name="records")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    payload = models.JSONField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("同意手続の記録")
        verbose_name_plural = _("同意手続の記録")
        ordering = ["round", "seq"]
        constraints = [models.UniqueConstraint(fields=["round", "seq"], name="consent_record_seq_unique")]

    def __str__(self) -> str:
        return f"{self.round_id}#{self.seq} {self.kind}"

    def compute_hash(self) -> str:
        material = {
            "round": self.round_id,
            "seq": self.seq,
            "kind": self.kind,
            "payload": self.payload,
            "by": self.by_id,
            "at": self.at.isoformat(),
            "prev": self.prev_hash,
        }
        return hashlib.sha256(canonical_json(material).encode()).hexdigest()


class ReminderLog(RowLoaded, models.Model):
    """One consent reminder (round, voting body, kind), inserted once however often the beat
    runs, then claimed with a lease before it is sent (policies.tasks.send_consent_reminders):
    a worker that died between its claim and its send leaves a claim that expires, and the
    next beat sends the reminder."""

    round = models.ForeignKey(ConsentRound, on_delete=models.CASCADE, related_name="reminders")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8)  # "3d", "1d"
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "organization", "kind"], name="reminder_once"),
        ]


class VersionPdf(RowLoaded, models.Model):
    """A version's rendered PDF, stored once per content (the version's hash, plus the
    closing record of its rounds once they have closed)."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="pdfs")
    key = models.CharField(max_length=200)
    # The language of the PDF's labels (the policy text stays as written): one file per language.
    language = models.CharField(_("言語"), max_length=8, default="ja")
    file = models.FileField(upload_to="pdf/policies/%Y/")
    size = models.PositiveIntegerField()
    rendered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("方針の版のPDF")
        verbose_name_plural = _("方針の版のPDF")
        ordering = ["-rendered_at"]
        constraints = [models.UniqueConstraint(fields=["key", "language"], name="version_pdf_once_per_language")]

    def __str__(self) -> str:
        return f"{self.key} ({self.language})"


class VersionPdfClaim(RowLoaded, models.Model):
    """A worker's claim on rendering one PDF (content key and language), taken before it
    renders, so that two requests (two web processes, a redelivered task) render it once; a
    claim older than PDF_RENDER_LEASE_SECONDS belongs to a worker that died and is taken over
    (policies.pdf.ensure_version_pdf)."""

    key = models.CharField(max_length=200)
    language = models.CharField(max_length=8, default="ja")
    claimed_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "language"], name="version_pdf_claim_once")]

    def __str__(self) -> str:
        return f"{self.key} ({self.language})"
