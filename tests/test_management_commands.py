"""The operator's commands: create_secretariat_user, purge_pdfs, and backup/restore's refusals.

(The backup → restore round trip itself is tests/test_backup.py.)
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from council.management import dbdump
from policies.models import VersionPdf
from progress.models import DocumentStatus, ProgressDocument
from tenants.models import Membership, Role

pytestmark = pytest.mark.django_db

STRONG = "kasumigaseki-Digital-2026"


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def refused(*args, **options) -> str:
    with pytest.raises(CommandError) as caught:
        run(*args, **options)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- create_secretariat_user ------------------------------------------------------------------
def test_creates_a_secretariat_user_with_the_demo_secretariats_seat_and_rights(api, monkeypatch, user):
    monkeypatch.setenv("NEW_PASSWORD", STRONG)
    out = run("create_secretariat_user", "tanaka", "tanaka@digital.go.jp", password_from_env="NEW_PASSWORD",
              display_name="田中 一郎")
    assert "Created secretariat user 'tanaka'" in out
    tanaka = user("tanaka")
    assert tanaka.check_password(STRONG)
    assert (tanaka.email, tanaka.last_name, tanaka.is_staff, tanaka.is_superuser) == ("tanaka@digital.go.jp", "田中 一郎", True, False)
    assert list(Membership.objects.filter(user=tanaka).values_list("organization__code", "role")) == [
        ("digital", Role.SECRETARIAT_STAFF)
    ]
    # The same groups, hence the same rights, as the demo world's secretariat user.
    assert set(tanaka.groups.all()) == set(user("secretariat").groups.all())

    # What only the secretariat may do: propose a candidate. A ministry officer may not.
    body = {"title": "新しい候補", "description": "概要", "owning_ministry": user("soumu").memberships.get().organization_id}
    assert api("tanaka").post("/api/v1/candidates/", body, format="json").status_code == 201
    assert api("soumu").post("/api/v1/candidates/", body, format="json").status_code == 403


def test_another_secretariat_body_can_be_named(monkeypatch, user):
    monkeypatch.setenv("NEW_PASSWORD", STRONG)
    run("create_secretariat_user", "sato", "sato@soumu.go.jp", organization="mic-lab", password_from_env="NEW_PASSWORD")
    assert user("sato").memberships.get().organization.code == "mic-lab"


def test_the_password_is_asked_twice_at_a_terminal(monkeypatch, user):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter([STRONG, STRONG])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    run("create_secretariat_user", "suzuki", "suzuki@digital.go.jp")
    assert user("suzuki").check_password(STRONG)


@pytest.mark.parametrize("args, options, env, message", [
    (("secretariat", "x@example.jp"), {}, {"PW": STRONG}, "user 'secretariat' already exists"),
    (("Secretariat", "x@example.jp"), {}, {"PW": STRONG}, "user 'Secretariat' already exists"),
    (("new", "x@example.jp"), {"organization": "nope"}, {"PW": STRONG}, "no organization with code 'nope'"),
    (("new", "x@example.jp"), {"organization": "soumu"}, {"PW": STRONG}, "not a secretariat body"),
    (("new", "x@example.jp"), {"organization": "010006"}, {"PW": STRONG}, "not a secretariat body"),
    (("new", "not-an-address"), {}, {"PW": STRONG}, "invalid e-mail address"),
    (("bad name!", "x@example.jp"), {}, {"PW": STRONG}, "invalid username"),
    (("new", "x@example.jp"), {}, {}, "environment variable PW is not set"),
    (("new", "x@example.jp"), {}, {"PW": "short"}, "password refused"),
    (("new", "x@example.jp"), {}, {"PW": "new-x@example.jp"}, "password refused"),
])
def test_refusals_are_one_line_and_create_nothing(monkeypatch, args, options, env, message):
    monkeypatch.delenv("PW", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    users, memberships = get_user_model().objects.count(), Membership.objects.count()
    assert message in refused("create_secretariat_user", *args, password_from_env="PW", **options)
    assert (get_user_model().objects.count(), Membership.objects.count()) == (users, memberships)


def test_without_a_terminal_or_a_variable_there_is_no_password(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert "give --password-from-env VAR" in refused("create_secretariat_user", "new", "x@example.jp")
    assert not get_user_model().objects.filter(username="new").exists()


def test_two_different_passwords_at_the_prompt_create_nothing(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter([STRONG, STRONG + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert "the two passwords differ" in refused("create_secretariat_user", "new", "x@example.jp")
    assert not get_user_model().objects.filter(username="new").exists()


# --- purge_pdfs -------------------------------------------------------------------------------------
@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def version_pdf(version, key: str, days_ago: int) -> VersionPdf:
    pdf = VersionPdf(version=version, key=key, size=5)
    pdf.file.save(f"{key}.pdf", ContentFile(b"%PDF-"), save=False)
    pdf.save()
    VersionPdf.objects.filter(pk=pdf.pk).update(rendered_at=timezone.now() - timedelta(days=days_ago))
    return pdf


def document(days_ago: int, status=DocumentStatus.DONE, *, report=None, quarter=None) -> ProgressDocument:
    kind = ProgressDocument.Kind.REPORT if report else ProgressDocument.Kind.PACK
    doc = ProgressDocument.objects.create(
        kind=kind, report=report, fiscal_year=None if report else 2025, quarter=quarter, status=status
    )
    if status == DocumentStatus.DONE:
        doc.file.save(f"doc-{doc.pk}.pdf", ContentFile(b"%PDF-"), save=True)
    ProgressDocument.objects.filter(pk=doc.pk).update(requested_at=timezone.now() - timedelta(days=days_ago))
    return doc


@pytest.fixture
def pdfs(media, consented_policy, submitted_policy, user):
    from progress import actions

    policy = consented_policy()
    other = submitted_policy("mhlw")
    report = actions.set_schedule(policy, user("secretariat"), frequency="quarterly", due_days_after_period=30).reports.get()
    version, other_version = policy.versions.get(), other.versions.get()
    made = {
        "A": version_pdf(version, "a", 400),
        "B": version_pdf(version, "b", 200),
        "C": version_pdf(version, "c", 120),  # the version's newest: kept, however old
        "E": version_pdf(other_version, "e", 500),  # the only one of its version: kept
        "D1": document(400, report=report),
        "D2": document(300, DocumentStatus.FAILED, report=report),
        "D3": document(10, report=report),  # the report's newest
        "D4": document(400, DocumentStatus.PENDING, report=report),  # still to render: never touched
        "P1": document(400, quarter=1),
        "P2": document(100, quarter=1),  # the quarter's newest pack
        "P3": document(400, quarter=2),  # the only pack of its quarter
    }
    return made


def alive(pdfs) -> set[str]:
    return {
        name for name, obj in pdfs.items() if type(obj).objects.filter(pk=obj.pk).exists()
    }


def on_disk(pdfs) -> set[str]:
    return {name for name, obj in pdfs.items() if obj.file and default_storage.exists(obj.file.name)}


def test_purge_deletes_superseded_pdfs_past_the_period_and_keeps_each_documents_newest(pdfs, django_capture_on_commit_callbacks):
    assert on_disk(pdfs) == set(pdfs) - {"D2", "D4"}
    with django_capture_on_commit_callbacks(execute=True):
        out = run("purge_pdfs", older_than_days="90")
    assert "Deleted 5 superseded PDF(s) older than 90 days (2 policy version PDF(s), 3 progress document(s), 0 meeting PDF(s), 4 file(s)" in out
    assert alive(pdfs) == {"C", "E", "D3", "D4", "P2", "P3"}
    assert on_disk(pdfs) == {"C", "E", "D3", "P2", "P3"}

    # Nothing more to do on a second run; a longer period keeps what is younger.
    assert run("purge_pdfs", older_than_days="90").startswith("Deleted 0 ")


def test_a_longer_period_keeps_younger_superseded_pdfs(pdfs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run("purge_pdfs", older_than_days="250")
    assert alive(pdfs) == set(pdfs) - {"A", "D1", "D2", "P1"}


def test_dry_run_lists_and_deletes_nothing(pdfs):
    out = run("purge_pdfs", older_than_days="90", dry_run=True, verbosity=2)
    assert "Would delete 5 superseded PDF(s)" in out
    assert pdfs["A"].file.name in out and pdfs["C"].file.name not in out
    assert alive(pdfs) == set(pdfs)
    assert on_disk(pdfs) == set(pdfs) - {"D2", "D4"}


def test_the_beat_task_follows_pdf_retention_days(pdfs, settings, django_capture_on_commit_callbacks):
    from council.tasks import purge_old_pdfs

    assert "purge-old-pdfs" in settings.CELERY_BEAT_SCHEDULE
    settings.PDF_RETENTION_DAYS = 0
    assert purge_old_pdfs() == 0
    assert alive(pdfs) == set(pdfs)
    settings.PDF_RETENTION_DAYS = 90
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_old_pdfs() == 5
    assert alive(pdfs) == {"C", "E", "D3", "D4", "P2", "P3"}


@pytest.mark.parametrize("options, message", [
    ({"older_than_days": "0"}, "at least 1 (got '0')"),
    ({"older_than_days": "-3"}, "at least 1 (got '-3')"),
    ({"older_than_days": "a year"}, "whole number of days"),
    ({}, "no retention period"),
])
def test_purge_refuses_a_bad_period(pdfs, settings, options, message):
    settings.PDF_RETENTION_DAYS = 0
    assert message in refused("purge_pdfs", **options)
    assert alive(pdfs) == set(pdfs)


# --- backup and restore: refusals (the round trip is tests/test_backup.py) --------------------------
def test_backup_never_overwrites_a_file(tmp_path):
    existing = tmp_path / "existing.dump"
    existing.write_bytes(b"keep me")
    assert "exists already" in refused("backup", output=existing)
    assert existing.read_bytes() == b"keep me"


def test_backup_without_output_writes_into_backup_dir(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    written = Path(run("backup").strip())
    assert written.parent == settings.BACKUP_DIR and written.name.startswith("council-")
    assert written.suffix == dbdump.SUFFIX[connection.vendor]
    assert dbdump.kind_of_file(written) == connection.vendor


@pytest.mark.parametrize("content, message", [
    (None, "no such backup file"),
    (b"hello, not a backup", "is not a backup made by `backup`"),
    (b"", "is not a backup made by `backup`"),
])
def test_restore_refuses_what_is_not_a_backup(tmp_path, content, message):
    path = tmp_path / "file"
    if content is not None:
        path.write_bytes(content)
    assert message in refused("restore", str(path), interactive=False)


def test_restore_refuses_a_backup_of_the_other_kind_of_database(tmp_path):
    other = {"postgresql": dbdump.SQLITE_MAGIC + b"\0" * 100, "sqlite": dbdump.PG_MAGIC + b"\0" * 100}[connection.vendor]
    path = tmp_path / "other-kind"
    path.write_bytes(other)
    assert "but the configured database is" in refused("restore", str(path), interactive=False)


def test_restore_asks_first_and_a_no_changes_nothing(tmp_path, monkeypatch):
    backup = tmp_path / f"b{dbdump.SUFFIX[connection.vendor]}"
    run("backup", output=backup)
    monkeypatch.setattr("builtins.input", lambda prompt="": "no")
    assert refused("restore", str(backup)) == "restore cancelled, database unchanged"


def meeting_pdf(made, kind: str, days_ago: int, status: str = "done", language: str = "ja"):
    from council.meetings.models import MeetingPdf

    pdf = MeetingPdf.objects.create(meeting=made, kind=kind, language=language, content_hash=f"{kind}{days_ago}{language}{status}", status=status)
    if status == "done":
        pdf.file.save(f"meeting-{pdf.pk}.pdf", ContentFile(b"%PDF-"), save=True)
    MeetingPdf.objects.filter(pk=pdf.pk).update(requested_at=timezone.now() - timedelta(days=days_ago))
    return pdf


def test_purge_keeps_each_meetings_newest_pack_and_minutes_per_language(media, db, django_capture_on_commit_callbacks):
    from council.meetings.models import MeetingPdf
    from tests.test_meetings_support import meeting

    made = meeting()
    old_pack = meeting_pdf(made, "pack", 400)
    newest_pack = meeting_pdf(made, "pack", 200)  # the pack's newest: kept, however old
    english_pack = meeting_pdf(made, "pack", 400, language="en")  # the only English pack: kept
    failed = meeting_pdf(made, "minutes", 300, status="failed")
    minutes = meeting_pdf(made, "minutes", 300)
    recent = meeting_pdf(made, "minutes", 10)  # newest minutes
    with django_capture_on_commit_callbacks(execute=True):
        out = run("purge_pdfs", older_than_days="90")
    assert "2 meeting PDF(s)" not in out and "3 meeting PDF(s)" in out
    left = set(MeetingPdf.objects.values_list("pk", flat=True))
    assert left == {newest_pack.pk, english_pack.pk, recent.pk}
    assert not default_storage.exists(old_pack.file.name) and not default_storage.exists(minutes.file.name)
    assert default_storage.exists(newest_pack.file.name)
    assert failed.pk not in left
