"""What Celery workers record about the tasks they ran, for the ops page and /metrics.

Workers and web processes may run in separate containers, so outcomes are written to the
database (the one store both see) rather than kept in a worker's memory.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.loading import RowLoaded


class TaskState(models.TextChoices):
    SUCCEEDED = "succeeded", _("成功")
    FAILED = "failed", _("失敗")
    RETRIED = "retried", _("再試行")


# The bucket into which hours older than the retention are folded (see records.compact_counts):
# keeps the table small while the totals, exposed as Prometheus counters, never go down.
FOLDED_HOUR = datetime(1970, 1, 1, tzinfo=UTC)


class TaskCount(RowLoaded, models.Model):
    """How many runs of one task ended in one state during one hour."""

    task_name = models.CharField(_("タスク"), max_length=200)
    state = models.CharField(_("結果"), max_length=16, choices=TaskState.choices)
    hour = models.DateTimeField(_("時間帯"))
    count = models.PositiveBigIntegerField(_("件数"), default=0)

    class Meta:
        verbose_name = _("タスク実行件数")
        verbose_name_plural = _("タスク実行件数")
        constraints = [
            models.UniqueConstraint(
                fields=["task_name", "state", "hour"],
                name="ops_taskcount_one_row_per_bucket",
                violation_error_message=_("同じタスク・結果・時間帯の行は1つだけです。"),
            )
        ]
        indexes = [models.Index(fields=["hour"], name="ops_taskcount_hour")]

    def __str__(self) -> str:
        return f"{self.task_name} {self.state} {self.hour:%Y-%m-%d %H:00}: {self.count}"


class TaskFailure(RowLoaded, models.Model):
    """One failed run of a Celery task, as the worker saw it."""

    task_id = models.CharField(_("タスクID"), max_length=255, db_index=True)
    task_name = models.CharField(_("タスク"), max_length=200)
    failed_at = models.DateTimeField(_("失敗日時"), default=timezone.now)
    exception = models.CharField(_("例外"), max_length=1000)
    args_summary = models.CharField(_("引数"), max_length=500, blank=True)
    request_id = models.CharField(_("リクエストID"), max_length=128, blank=True)
    hostname = models.CharField(_("ワーカー"), max_length=255, blank=True)
    retries = models.PositiveIntegerField(_("再試行回数"), default=0)
    traceback = models.TextField(_("トレースバック"), blank=True)

    class Meta:
        verbose_name = _("タスクの失敗")
        verbose_name_plural = _("タスクの失敗")
        ordering = ["-failed_at", "-pk"]
        indexes = [models.Index(fields=["-failed_at"], name="ops_taskfailure_recent")]

    def __str__(self) -> str:
        return f"{self.task_name}[{self.task_id}] {self.exception}"
