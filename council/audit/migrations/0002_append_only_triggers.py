"""The database refuses UPDATE and DELETE on audit events (council/audit/triggers.py)."""

from django.db import migrations


def install(apps, schema_editor) -> None:
    from council.audit import triggers

    triggers.install(schema_editor.connection)


def remove(apps, schema_editor) -> None:
    from council.audit import triggers

    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
