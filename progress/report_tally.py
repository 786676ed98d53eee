"""The progress reports' tally (progress.models.ReportTally): how many reports each policy has
in each status, kept exact by database triggers; the report list counts from it when its
filters allow.

A municipal official sees the accepted reports of the policies put to consent: counting them
read one index entry per such report (14,501 at national scale ×10, about 4 ms, growing with
every quarter). The tally has a row per policy and status, so the count is a sum over at most
one row per visible policy, whatever the number of reports.

As for the adoption tally (progress/tally.py), the triggers are the only writer in normal
operation, so every path that changes reports — the ORM, queryset updates, raw SQL — keeps it
right in the same transaction; `rebuild()` recomputes it for writers that bypass triggers (the
national data generator's COPY). On SQLite a migration that remakes progress_progressreport
(adding or altering a column) drops its triggers: such a migration must install them again, as
migration 0008 does for the adoption tally.
"""

from __future__ import annotations

from council import sql

TABLE = "progress_reporttally"
SOURCE = "progress_progressreport"

_ADD = (
    f"INSERT INTO {TABLE} (policy_id, status, n) VALUES (NEW.policy_id, NEW.status, 1) "
    f"ON CONFLICT (policy_id, status) DO UPDATE SET n = {TABLE}.n + 1;"
)
_REMOVE = f"UPDATE {TABLE} SET n = n - 1 WHERE policy_id = OLD.policy_id AND status = OLD.status;"
REBUILD = [
    f"DELETE FROM {TABLE};",
    f"INSERT INTO {TABLE} (policy_id, status, n) SELECT policy_id, status, COUNT(*) FROM {SOURCE} GROUP BY policy_id, status;",
]

# Saving a report writes every column: only a change of policy or status moves a count.
TRIGGERS = sql.counting_triggers("progress_report_tally", SOURCE, _REMOVE, _ADD, ("policy_id", "status"), REBUILD)
install, uninstall = TRIGGERS.install, TRIGGERS.uninstall
rebuild = TRIGGERS.rebuild  # recompute the tally from the reports (in the caller's transaction)
