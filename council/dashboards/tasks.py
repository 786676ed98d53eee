from celery import shared_task

from council.dashboards import aggregates


@shared_task(name="council.dashboards.tasks.refresh_dashboards", acks_late=True)
def refresh_dashboards(summary: bool = False, cost: bool = False, policies: list[int] | None = None) -> None:
    """Rebuild the given scopes (idempotent: a rerun after a lost worker rebuilds again)."""
    aggregates.refresh(summary=summary, cost=cost, policies=policies if policies is not None else ())


@shared_task(name="council.dashboards.tasks.refresh_overdue")
def refresh_overdue() -> None:
    """The summary's overdue figures change with the date alone: rebuild it on a beat."""
    aggregates.rebuild_summary()


@shared_task(name="council.dashboards.tasks.rebuild_all")
def rebuild_all() -> None:
    aggregates.rebuild_all()
