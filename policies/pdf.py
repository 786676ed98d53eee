"""The PDF of a frozen policy version: body, cost-sharing table, schedule, and the ballots
and outcome of its closed consent rounds."""

from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation

from council.pdf import pdf_language, render_pdf
from policies.models import (
    Ballot, ConsentRecord, ConsentRound, CostItem, Layer, Payer, PolicyVersion, RoundStatus, VersionPdf, VersionPdfClaim,
)


def pdf_key(version: PolicyVersion) -> str:
    closed = ConsentRecord.objects.filter(round__version=version, kind=ConsentRecord.Kind.CLOSED).order_by(
        "round_id"
    ).values_list("hash", flat=True)
    suffix = "-".join(h[:16] for h in closed)
    return f"{version.content_hash}:{suffix}" if suffix else version.content_hash


def current_pdf(version: PolicyVersion, language: str | None = None) -> VersionPdf | None:
    """The version's PDF for its current content in a language (the reader's by default)."""
    return VersionPdf.objects.filter(key=pdf_key(version), language=pdf_language(language)).first()


def render_version_pdf_bytes(version: PolicyVersion, language: str | None = None) -> bytes:
    """The PDF with its labels in `language` (the active one by default); the policy text,
    written by the ministry, stays as written."""
    with translation.override(pdf_language(language)):
        return _render(version)


def _render(version: PolicyVersion) -> bytes:
    layers, items, payers = dict(Layer.choices), dict(CostItem.choices), dict(Payer.choices)
    cost_rows = [
        {"layer": layers.get(r["layer"]), "item": items.get(r["item"]), "payer": payers.get(r["payer"]), "until": r.get("until")}
        for r in version.cost_sharing
    ]
    closed_rounds = list(
        ConsentRound.objects.filter(version=version, status=RoundStatus.CLOSED).order_by("closed_at")
    )
    for round_ in closed_rounds:
        round_.ballot_rows = [
            {"organization": b.organization.label, "choice": b.get_choice_display(), "comment": b.comment, "cast_at": b.cast_at}
            for b in Ballot.objects.filter(round=round_).select_related("organization")
        ]
    context = {
        "policy": version.policy,
        "version": version,
        "cost_rows": cost_rows,
        "closed_rounds": closed_rounds,
    }
    return render_pdf("policies/version_pdf.html", context)


def render_lease() -> timedelta:
    """How long a rendering claim holds: past it, the claimant is taken to have died."""
    return timedelta(seconds=getattr(settings, "PDF_RENDER_LEASE_SECONDS", 600))


def claim_rendering(key: str, language: str) -> bool:
    """Claim the rendering of one PDF: True for exactly one caller until the claim is older than
    the lease (a worker that died mid-render), whatever number of processes ask at once."""
    now = timezone.now()
    try:
        with transaction.atomic():
            VersionPdfClaim.objects.create(key=key, language=language, claimed_at=now)
        return True
    except IntegrityError:  # claimed before: take it over only if its lease has run out
        return bool(
            VersionPdfClaim.objects.filter(key=key, language=language, claimed_at__lt=now - render_lease()).update(
                claimed_at=now, attempts=F("attempts") + 1
            )
        )


def ensure_version_pdf(version: PolicyVersion, language: str | None = None) -> VersionPdf | None:
    """Render and store the PDF in a language unless the same content was rendered before in
    it. Claimed first (claim_rendering): None when another process is rendering it now."""
    language = pdf_language(language)
    key = pdf_key(version)
    existing = VersionPdf.objects.filter(key=key, language=language).first()
    if existing is not None:
        return existing
    if not claim_rendering(key, language):
        return None
    existing = VersionPdf.objects.filter(key=key, language=language).first()
    if existing is not None:  # finished by the previous claimant between our two reads
        return existing
    try:
        data = render_version_pdf_bytes(version, language)
    except Exception:  # let the task's retry (or the next request) claim it at once
        VersionPdfClaim.objects.filter(key=key, language=language).delete()
        raise
    pdf = VersionPdf(version=version, key=key, language=language, size=len(data))
    pdf.file.save(f"policy-{version.policy_id}-v{version.number}-{key[:12]}-{language}.pdf", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            pdf.save()
    except IntegrityError:
        # A claimant whose lease ran out finished after all: keep theirs, drop our file.
        pdf.file.delete(save=False)
        return VersionPdf.objects.get(key=key, language=language)
    return pdf
