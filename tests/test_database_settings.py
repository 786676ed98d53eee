"""PostgreSQL binds parameters on the server, so psycopg prepares the statements a connection
runs again and again (council/settings.py, DB_SERVER_SIDE_BINDING)."""

import pytest
from django.db import connection

from tenants.models import Organization

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")


def test_a_statement_run_repeatedly_is_prepared(db, settings):
    assert settings.DATABASES["default"]["OPTIONS"].get("server_side_binding") is True
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    assert threshold == 1  # prepared from its second run
    for _ in range(threshold + 1):
        assert Organization.objects.filter(code="011002").get().name == "札幌市"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%tenants_organization%"])
        assert cursor.fetchone()[0] >= 1
