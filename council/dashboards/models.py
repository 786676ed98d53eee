"""Pre-aggregated dashboard figures.

The dashboards never count the underlying tables while answering a request: they read these
small tables, which ``council.dashboards.aggregates`` rebuilds when the data they summarise
changes (``council.dashboards.changes``) and on a beat (figures that depend on today's date,
such as overdue reports). Their size depends on the number of ministries, fiscal years and
policies, never on the number of adoption rows, reports or history entries.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from council.loading import RowLoaded


class Stamp(RowLoaded, models.Model):
    """One row per scope ("summary", "cost", "adoption:<policy id>"): the version and time of the
    figures' last rebuild, which the API turns into ETag / Last-Modified. The "summary", "cost"
    and "adoption" rows also serialise concurrent rebuilds of their scope (row lock)."""

    scope = models.CharField(max_length=40, primary_key=True)
    version = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("集計の更新記録")
        verbose_name_plural = _("集計の更新記録")

    def __str__(self) -> str:
        return f"{self.scope} v{self.version}"


class Grain(models.TextChoices):
    MINISTRY = "ministry", _("府省庁・年度別")
    POLICY = "policy", _("方針別")


class SummaryFigure(RowLoaded, models.Model):
    """A count of one metric (e.g. candidates) with one key (e.g. status "selected").

    Each count is stored twice: at the ministry × fiscal-year grain (policy empty), which answers
    the unfiltered and ministry/year-filtered summary from a few thousand rows at most, and at the
    policy grain, for rows that belong to a policy, which answers the summary of one policy."""

    grain = models.CharField(max_length=8, choices=Grain.choices)
    metric = models.CharField(max_length=24)
    key = models.CharField(max_length=24, blank=True)
    ministry = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, null=True, related_name="+")
    fiscal_year = models.PositiveSmallIntegerField(null=True)
    policy = models.ForeignKey("policies.Policy", on_delete=models.CASCADE, null=True, related_name="+")
    value = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["grain", "ministry", "fiscal_year"], name="summary_grain_ministry_fy"),
            models.Index(fields=["policy"], name="summary_policy"),
        ]


class AdoptionFigure(RowLoaded, models.Model):
    """Local governments per adoption status for one policy: per prefecture (the prefecture
    itself and its municipalities) and, with ``prefecture`` empty, nationwide."""

    policy = models.ForeignKey("policies.Policy", on_delete=models.CASCADE, related_name="+")
    prefecture = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, null=True, related_name="+")
    status = models.CharField(max_length=16)
    count = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["policy", "prefecture"], name="adoption_figure_policy_pref")]


class AdoptionTrendPoint(RowLoaded, models.Model):
    """Local governments per adoption status at the end of a month (Asia/Tokyo), from the
    adoption history, for one policy."""

    policy = models.ForeignKey("policies.Policy", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    status = models.CharField(max_length=16)
    count = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["policy", "month"], name="adoption_trend_policy_month")]


class CostFigure(RowLoaded, models.Model):
    """Estimated costs of one policy (from its accepted feasibility study), split by payer under
    the policy's cost-sharing table, beside the expected effect scaled by adoption."""

    policy = models.OneToOneField("policies.Policy", on_delete=models.CASCADE, related_name="+")
    ministry = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, related_name="+")
    fiscal_year = models.PositiveSmallIntegerField()
    version_number = models.PositiveIntegerField(null=True)
    cost_initial_yen = models.PositiveBigIntegerField(default=0)
    cost_annual_yen = models.PositiveBigIntegerField(default=0)
    # Per payer ("state", "local", "shared", "manager", "unallocated"): {phase: {payer: yen}}.
    initial_split = models.JSONField(default=dict)
    annual_split = models.JSONField(default=dict)
    staff_hours_full = models.PositiveBigIntegerField(default=0)
    affected_local_governments = models.PositiveIntegerField(default=0)
    in_use = models.PositiveIntegerField(default=0)
    staff_hours_current = models.PositiveBigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["ministry", "fiscal_year"], name="cost_ministry_fy")]
