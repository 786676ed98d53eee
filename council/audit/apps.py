from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "council.audit"
    label = "audit"
    verbose_name = _("監査ログ")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from council.audit import capture, chain

        capture.connect()
        connection_created.connect(chain.install_lock_order, dispatch_uid="audit:lock_order")
        post_migrate.connect(_arm_triggers, sender=self, dispatch_uid="audit:arm_triggers")


def _arm_triggers(sender, using="default", **kwargs) -> None:
    """Migration 0002 installs the append-only triggers; this re-arms them after every migrate
    and flush, and installs them where tables were made without migrations (pytest
    --nomigrations). Both are idempotent."""
    from django.db import connections

    from council.audit import triggers
    from council.audit.models import AuditEvent

    connection = connections[using]
    if AuditEvent._meta.db_table in connection.introspection.table_names():
        triggers.install(connection)
