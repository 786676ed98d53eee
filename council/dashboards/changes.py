"""Keeping the dashboard figures current: saving or deleting the objects they summarise marks
the affected scopes, and once the transaction commits one task rebuilds them.

Marks made inside one transaction are merged, so a request that saves ten objects queues one
rebuild. Bulk writes skip model signals: the actions that use them (adoption import, creating
adoption rows or report obligations) call ``mark`` themselves, and a beat rebuilds everything
once a day as a safety net (see settings.CELERY_BEAT_SCHEDULE).
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)


@dataclass
class Pending:
    summary: bool = False
    cost: bool = False
    policies: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return self.summary or self.cost or bool(self.policies)


_local = threading.local()


def _pending() -> Pending:
    if not hasattr(_local, "pending"):
        _local.pending = Pending()
    return _local.pending


def mark(*, summary: bool = False, cost: bool = False, policies: Iterable[int] = ()) -> None:
    """Note that figures changed; they are rebuilt after the current transaction commits (at
    once outside a transaction). A rolled-back transaction's marks cause at most one needless
    rebuild with the next commit."""
    pending = _pending()
    pending.summary |= summary
    pending.cost |= cost
    pending.policies.update(p for p in policies if p is not None)
    if not getattr(_local, "deferred", False):
        transaction.on_commit(flush)


@contextmanager
def deferred():
    """Hold every rebuild until the block ends, then rebuild once (demo loads, generators,
    bulk scripts: thousands of saves, one rebuild)."""
    outer = getattr(_local, "deferred", False)
    _local.deferred = True
    try:
        yield
    finally:
        _local.deferred = outer
    if not outer:
        transaction.on_commit(flush)


def flush() -> None:
    pending = _pending()
    if not pending:
        return
    _local.pending = Pending()
    from council.dashboards.tasks import refresh_dashboards

    try:
        refresh_dashboards.delay(summary=pending.summary, cost=pending.cost, policies=sorted(pending.policies))
    except Exception:
        # The change itself is committed; a failed rebuild must not turn it into an error page.
        # The daily rebuild repairs the figures.
        logger.exception("dashboard refresh could not be queued or failed")


def _summary(sender, instance, **kwargs) -> None:
    mark(summary=True)


def _summary_and_cost(sender, instance, **kwargs) -> None:
    mark(summary=True, cost=True)


def _cost(sender, instance, **kwargs) -> None:
    mark(cost=True)


def _adoption(sender, instance, **kwargs) -> None:
    mark(policies=[instance.policy_id])


def connect() -> None:
    from candidates.models import Candidate, FeasibilityStudy
    from policies.models import ConsentRound, Policy, PolicyVersion
    from progress.models import Adoption, MeasureRequest, ProgressReport, ReportingSchedule, UsageReport

    receivers = {
        Candidate: _summary,
        ProgressReport: _summary,
        MeasureRequest: _summary,
        # Not in the figures, but in the open data, whose file is keyed by the stamps.
        ReportingSchedule: _summary,
        UsageReport: _summary,
        FeasibilityStudy: _summary_and_cost,
        Policy: _summary_and_cost,
        ConsentRound: _summary_and_cost,
        PolicyVersion: _cost,
        Adoption: _adoption,
    }
    for model, receiver in receivers.items():
        uid = f"dashboards:{model._meta.label}"
        post_save.connect(receiver, sender=model, dispatch_uid=uid + ":save")
        post_delete.connect(receiver, sender=model, dispatch_uid=uid + ":delete")
