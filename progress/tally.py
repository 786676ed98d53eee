"""The adoption tally (progress.models.AdoptionTally): database triggers keep it exact; the
adoption list counts from it when its filters allow.

Each row is counted twice: under its prefecture (a prefecture's own row under itself) and under
NATIONAL, so a count for the whole country reads one row per policy and status.

The triggers are the only writer in normal operation, so every path that changes adoption
rows — the ORM, queryset updates, imports, raw SQL — keeps it right in the same transaction.
`rebuild()` recomputes it from the rows, for writers that bypass triggers (the national data
generator, which switches them off for its COPY).
"""

from __future__ import annotations

from council import sql

TABLE = "progress_adoptiontally"
# The prefecture id of the rows that count the whole country (no organization has id 0).
NATIONAL = 0
PREFECTURE_OF = "(SELECT COALESCE(o.parent_id, o.id) FROM tenants_organization o WHERE o.id = {row}.organization_id)"


def _add(row: str) -> str:
    return "".join(
        f"INSERT INTO {TABLE} (prefecture_id, policy_id, status, n) "
        f"VALUES ({prefecture}, {row}.policy_id, {row}.status, 1) "
        f"ON CONFLICT (prefecture_id, policy_id, status) DO UPDATE SET n = {TABLE}.n + 1;"
        for prefecture in (PREFECTURE_OF.format(row=row), str(NATIONAL))
    )


def _remove(row: str) -> str:
    return (
        f"UPDATE {TABLE} SET n = n - 1 WHERE policy_id = {row}.policy_id AND status = {row}.status "
        f"AND prefecture_id IN ({PREFECTURE_OF.format(row=row)}, {NATIONAL});"
    )


POSTGRESQL = [
    f"""
CREATE OR REPLACE FUNCTION progress_adoption_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_remove("OLD")}
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {_add("NEW")}
    END IF;
    RETURN NULL;
END
$$;
""",
    "DROP TRIGGER IF EXISTS progress_adoption_tally ON progress_adoption;",
    "CREATE TRIGGER progress_adoption_tally AFTER INSERT OR DELETE OR UPDATE OF policy_id, organization_id, status "
    "ON progress_adoption FOR EACH ROW EXECUTE FUNCTION progress_adoption_tally();",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS progress_adoption_tally ON progress_adoption;",
    "DROP FUNCTION IF EXISTS progress_adoption_tally();",
]

SQLITE = [
    "DROP TRIGGER IF EXISTS progress_adoption_tally_insert;",
    "DROP TRIGGER IF EXISTS progress_adoption_tally_delete;",
    "DROP TRIGGER IF EXISTS progress_adoption_tally_update;",
    f"CREATE TRIGGER progress_adoption_tally_insert AFTER INSERT ON progress_adoption BEGIN {_add('NEW')} END;",
    f"CREATE TRIGGER progress_adoption_tally_delete AFTER DELETE ON progress_adoption BEGIN {_remove('OLD')} END;",
    "CREATE TRIGGER progress_adoption_tally_update AFTER UPDATE OF policy_id, organization_id, status ON progress_adoption "
    f"BEGIN {_remove('OLD')} {_add('NEW')} END;",
]
SQLITE_DROP = SQLITE[:3]

REBUILD = [
    f"DELETE FROM {TABLE};",
    f"INSERT INTO {TABLE} (prefecture_id, policy_id, status, n) "
    "SELECT COALESCE(o.parent_id, o.id), a.policy_id, a.status, COUNT(*) "
    "FROM progress_adoption a JOIN tenants_organization o ON o.id = a.organization_id "
    "GROUP BY COALESCE(o.parent_id, o.id), a.policy_id, a.status;",
    f"INSERT INTO {TABLE} (prefecture_id, policy_id, status, n) "
    f"SELECT {NATIONAL}, a.policy_id, a.status, COUNT(*) FROM progress_adoption a GROUP BY a.policy_id, a.status;",
]


TRIGGERS = sql.Triggers(
    {"postgresql": POSTGRESQL, "sqlite": SQLITE}, {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}, REBUILD
)
install, uninstall = TRIGGERS.install, TRIGGERS.uninstall
rebuild = TRIGGERS.rebuild  # recompute the tally from the adoption rows (in the caller's transaction)
