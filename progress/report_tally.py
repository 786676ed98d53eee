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
# Saving a report writes every column: only a change of policy or status moves a count.
_MOVED = "OLD.policy_id IS NOT NEW.policy_id OR OLD.status IS NOT NEW.status"

POSTGRESQL = [
    f"""
CREATE OR REPLACE FUNCTION progress_report_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_REMOVE}
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {_ADD}
    END IF;
    RETURN NULL;
END
$$;
""",
    f"DROP TRIGGER IF EXISTS progress_report_tally ON {SOURCE};",
    f"DROP TRIGGER IF EXISTS progress_report_tally_update ON {SOURCE};",
    f"CREATE TRIGGER progress_report_tally AFTER INSERT OR DELETE ON {SOURCE} "
    "FOR EACH ROW EXECUTE FUNCTION progress_report_tally();",
    f"CREATE TRIGGER progress_report_tally_update AFTER UPDATE OF policy_id, status ON {SOURCE} "
    f"FOR EACH ROW WHEN ({_MOVED.replace(' IS NOT ', ' IS DISTINCT FROM ')}) EXECUTE FUNCTION progress_report_tally();",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS progress_report_tally ON {SOURCE};",
    f"DROP TRIGGER IF EXISTS progress_report_tally_update ON {SOURCE};",
    "DROP FUNCTION IF EXISTS progress_report_tally();",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS progress_report_tally_insert;",
    "DROP TRIGGER IF EXISTS progress_report_tally_delete;",
    "DROP TRIGGER IF EXISTS progress_report_tally_update;",
]
SQLITE = [
    *SQLITE_DROP,
    f"CREATE TRIGGER progress_report_tally_insert AFTER INSERT ON {SOURCE} BEGIN {_ADD} END;",
    f"CREATE TRIGGER progress_report_tally_delete AFTER DELETE ON {SOURCE} BEGIN {_REMOVE} END;",
    f"CREATE TRIGGER progress_report_tally_update AFTER UPDATE OF policy_id, status ON {SOURCE} "
    f"WHEN {_MOVED} BEGIN {_REMOVE} {_ADD} END;",
]

REBUILD = [
    f"DELETE FROM {TABLE};",
    f"INSERT INTO {TABLE} (policy_id, status, n) SELECT policy_id, status, COUNT(*) FROM {SOURCE} GROUP BY policy_id, status;",
]


TRIGGERS = sql.Triggers(
    {"postgresql": POSTGRESQL, "sqlite": SQLITE}, {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}, REBUILD
)
install, uninstall = TRIGGERS.install, TRIGGERS.uninstall
rebuild = TRIGGERS.rebuild  # recompute the tally from the reports (in the caller's transaction)
