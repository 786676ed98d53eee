"""Retention of stored PDFs: superseded renderings are deleted after a number of days.

A PDF is an official document of its moment, so the rule is conservative:

* The newest PDF of each document in each language is kept forever: of each policy version
  (VersionPdf, newest rendering), of each progress report, and of each quarter's council pack
  (ProgressDocument that finished rendering), and of each meeting's pack and minutes (MeetingPdf).
* An older rendering of the same document — superseded because the version's consent
  record or the report changed since — is deleted, file and row, once it was rendered
  more than `older_than_days` days ago.
* A progress document whose rendering failed has no file; its row is deleted after the same
  time. Documents still pending or rendering are never touched.

Run by `manage.py purge_pdfs --older-than-days N` and daily by beat with PDF_RETENTION_DAYS
(council.tasks.purge_old_pdfs; 0 turns it off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from policies.models import VersionPdf
from progress.models import DocumentStatus, ProgressDocument


@dataclass
class PurgeResult:
    version_pdfs: list[str] = field(default_factory=list)  # keys of deleted VersionPdf rows
    progress_documents: list[int] = field(default_factory=list)  # ids of deleted ProgressDocument rows
    meeting_pdfs: list[int] = field(default_factory=list)  # ids of deleted MeetingPdf rows
    files: list[str] = field(default_factory=list)  # storage names of deleted files
    bytes: int = 0

    @property
    def deleted(self) -> int:
        return len(self.version_pdfs) + len(self.progress_documents) + len(self.meeting_pdfs)


def _newest_version_pdfs() -> set[int]:
    newest: dict[tuple, int] = {}
    rows = VersionPdf.objects.order_by("version_id", "-rendered_at", "-pk").values_list("pk", "version_id", "language")
    for pk, version_id, language in rows:
        newest.setdefault((version_id, language), pk)
    return set(newest.values())


def _newest_progress_documents() -> set[int]:
    newest: dict[tuple, int] = {}
    done = ProgressDocument.objects.filter(status=DocumentStatus.DONE).order_by("-requested_at", "-pk")
    rows = done.values_list("pk", "kind", "report_id", "fiscal_year", "quarter", "language")
    for pk, kind, report_id, fiscal_year, quarter, language in rows:
        subject = (kind, report_id, language) if kind == ProgressDocument.Kind.REPORT else (kind, fiscal_year, quarter, language)
        newest.setdefault(subject, pk)
    return set(newest.values())


def _newest_meeting_pdfs() -> set[int]:
    from council.meetings.models import MeetingPdf, PdfStatus

    newest: dict[tuple, int] = {}
    done = MeetingPdf.objects.filter(status=PdfStatus.DONE).order_by("-requested_at", "-pk")
    for pk, meeting_id, kind, language in done.values_list("pk", "meeting_id", "kind", "language"):
        newest.setdefault((meeting_id, kind, language), pk)
    return set(newest.values())


def superseded_meeting_pdfs(older_than_days: int, now=None) -> list:
    """Meeting packs and minutes superseded by a newer rendering of the same meeting, kind and
    language (or failed), older than the period; the newest of each is kept."""
    from council.meetings.models import MeetingPdf, PdfStatus

    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    return list(
        MeetingPdf.objects.filter(status__in=[PdfStatus.DONE, PdfStatus.FAILED], requested_at__lt=cutoff)
        .exclude(pk__in=_newest_meeting_pdfs())
        .order_by("pk")
    )


def superseded(older_than_days: int, now=None) -> tuple[list[VersionPdf], list[ProgressDocument]]:
    """The PDFs the rule deletes, without deleting anything."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    version_pdfs = list(
        VersionPdf.objects.filter(rendered_at__lt=cutoff).exclude(pk__in=_newest_version_pdfs()).order_by("pk")
    )
    documents = list(
        ProgressDocument.objects.filter(status__in=[DocumentStatus.DONE, DocumentStatus.FAILED], requested_at__lt=cutoff)
        .exclude(pk__in=_newest_progress_documents())
        .order_by("pk")
    )
    return version_pdfs, documents


def _size(file) -> int:
    try:
        return file.size if file else 0
    except OSError:  # the file is already gone: the row still goes
        return 0


def purge(older_than_days: int, *, dry_run: bool = False, now=None) -> PurgeResult:
    """Delete the superseded PDFs older than `older_than_days` days; the row first, then its
    file once the deletion is committed (a failure leaves at worst an unreferenced file)."""
    result = PurgeResult()
    version_pdfs, documents = superseded(older_than_days, now)
    for obj in [*version_pdfs, *documents, *superseded_meeting_pdfs(older_than_days, now)]:
        name = obj.file.name if obj.file else ""
        result.bytes += _size(obj.file)
        if isinstance(obj, VersionPdf):
            result.version_pdfs.append(obj.key)
        elif isinstance(obj, ProgressDocument):
            result.progress_documents.append(obj.pk)
        else:
            result.meeting_pdfs.append(obj.pk)
        if name:
            result.files.append(name)
        if dry_run:
            continue
        storage = obj.file.storage
        with transaction.atomic():
            type(obj).objects.filter(pk=obj.pk).delete()
            if name:
                transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))
    return result
