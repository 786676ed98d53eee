"""Settings of the fault tests' workers (tests/test_celery_worker.py): the production
settings, council.settings, unchanged, plus one stand-in installed in each pool process —
PDF rendering that records each start and finish as a file and, before it lays the PDF
out, waits COUNCIL_TEST_RENDER_DELAY seconds (a slow WeasyPrint), so the test can kill
the worker in the middle of a rendering and count renderings across processes."""

from celery.signals import worker_process_init

from council.settings import *  # noqa: F403


@worker_process_init.connect(weak=False)
def _record_renderings(**kwargs) -> None:
    from tests.worker import install_render_recorder

    install_render_recorder()
