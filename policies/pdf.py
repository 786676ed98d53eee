"""The PDF of a frozen policy version: body, cost-sharing table, schedule, and the ballots
and outcome of its closed consent rounds."""

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from council.pdf import render_pdf
from policies.models import Ballot, ConsentRecord, ConsentRound, CostItem, Layer, Payer, PolicyVersion, RoundStatus, VersionPdf


def pdf_key(version: PolicyVersion) -> str:
    closed = ConsentRecord.objects.filter(round__version=version, kind=ConsentRecord.Kind.CLOSED).order_by(
        "round_id"
    ).values_list("hash", flat=True)
    suffix = "-".join(h[:16] for h in closed)
    return f"{version.content_hash}:{suffix}" if suffix else version.content_hash


def current_pdf(version: PolicyVersion) -> VersionPdf | None:
    return VersionPdf.objects.filter(key=pdf_key(version)).first()


def render_version_pdf_bytes(version: PolicyVersion) -> bytes:
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
            {"organization": b.organization.name, "choice": b.get_choice_display(), "comment": b.comment, "cast_at": b.cast_at}
            for b in Ballot.objects.filter(round=round_).select_related("organization")
        ]
    context = {
        "policy": version.policy,
        "version": version,
        "cost_rows": cost_rows,
        "closed_rounds": closed_rounds,
    }
    return render_pdf("policies/version_pdf.html", context)


def ensure_version_pdf(version: PolicyVersion) -> VersionPdf:
    """Render and store the PDF unless the same content was rendered before."""
    key = pdf_key(version)
    existing = VersionPdf.objects.filter(key=key).first()
    if existing is not None:
        return existing
    data = render_version_pdf_bytes(version)
    pdf = VersionPdf(version=version, key=key, size=len(data))
    pdf.file.save(f"policy-{version.policy_id}-v{version.number}-{key[:12]}.pdf", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            pdf.save()
    except IntegrityError:
        # Rendered concurrently by another worker: keep theirs, drop our file.
        pdf.file.delete(save=False)
        return VersionPdf.objects.get(key=key)
    return pdf
