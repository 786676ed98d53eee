"""Operations: request ids in logs and Celery tasks, readiness, Prometheus metrics, and the
secretariat's page of recent task failures."""
