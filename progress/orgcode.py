"""The adoption row's copy of its organization's code (`Adoption.organization_code`), kept by
database triggers.

Adoption is listed by policy and then by the organization's code (団体コード順). With the code in
another table, PostgreSQL joined and sorted a policy's 1,788 rows to give the first 50 (2.5 ms),
and a page deep in the unfiltered list joined and sorted every row before it (0.6 s at national
scale). With the code on the row, an index on (policy, code) gives any page in index order.

Triggers keep the copy right whatever writes the rows — the ORM, bulk_create, raw SQL — and
follow an organization whose code is edited (the admin allows it). The national data generator,
which copies rows with triggers off, writes the code itself.
"""

from __future__ import annotations

from council import sql

SET_FROM_ORGANIZATION = "(SELECT o.code FROM tenants_organization o WHERE o.id = {row}.organization_id)"

POSTGRESQL = [
    f"""
CREATE OR REPLACE FUNCTION progress_adoption_organization_code() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.organization_code := {SET_FROM_ORGANIZATION.format(row="NEW")};
    RETURN NEW;
END
$$;
""",
    "DROP TRIGGER IF EXISTS progress_adoption_organization_code ON progress_adoption;",
    "CREATE TRIGGER progress_adoption_organization_code BEFORE INSERT OR UPDATE OF organization_id, organization_code "
    "ON progress_adoption FOR EACH ROW EXECUTE FUNCTION progress_adoption_organization_code();",
    """
CREATE OR REPLACE FUNCTION tenants_organization_code_to_adoption() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE progress_adoption SET organization_code = NEW.code WHERE organization_id = NEW.id;
    RETURN NULL;
END
$$;
""",
    "DROP TRIGGER IF EXISTS tenants_organization_code_to_adoption ON tenants_organization;",
    "CREATE TRIGGER tenants_organization_code_to_adoption AFTER UPDATE OF code ON tenants_organization "
    "FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION tenants_organization_code_to_adoption();",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS progress_adoption_organization_code ON progress_adoption;",
    "DROP FUNCTION IF EXISTS progress_adoption_organization_code();",
    "DROP TRIGGER IF EXISTS tenants_organization_code_to_adoption ON tenants_organization;",
    "DROP FUNCTION IF EXISTS tenants_organization_code_to_adoption();",
]

# SQLite cannot assign NEW in a trigger: the row is corrected after it is written.
_SQLITE_SET = (
    f"UPDATE progress_adoption SET organization_code = {SET_FROM_ORGANIZATION.format(row='NEW')} WHERE id = NEW.id;"
)
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS progress_adoption_organization_code_insert;",
    "DROP TRIGGER IF EXISTS progress_adoption_organization_code_update;",
    "DROP TRIGGER IF EXISTS tenants_organization_code_to_adoption;",
]
SQLITE = [
    *SQLITE_DROP,
    f"CREATE TRIGGER progress_adoption_organization_code_insert AFTER INSERT ON progress_adoption BEGIN {_SQLITE_SET} END;",
    "CREATE TRIGGER progress_adoption_organization_code_update AFTER UPDATE OF organization_id, organization_code "
    f"ON progress_adoption BEGIN {_SQLITE_SET} END;",
    "CREATE TRIGGER tenants_organization_code_to_adoption AFTER UPDATE OF code ON tenants_organization "
    "WHEN OLD.code IS NOT NEW.code "
    "BEGIN UPDATE progress_adoption SET organization_code = NEW.code WHERE organization_id = NEW.id; END;",
]

RECOPY = [
    f"UPDATE progress_adoption SET organization_code = {SET_FROM_ORGANIZATION.format(row='progress_adoption')};",
]


def install(schema_editor=None) -> None:
    # Copy first: with the triggers in place each row's update would look its code up twice.
    sql.run(RECOPY + sql.for_vendor({"postgresql": POSTGRESQL, "sqlite": SQLITE}, schema_editor), schema_editor)


def uninstall(schema_editor=None) -> None:
    sql.run(sql.for_vendor({"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}, schema_editor), schema_editor)
