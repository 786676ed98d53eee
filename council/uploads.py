"""Uploaded files are accepted by what they contain, not by what they are called.

Allowed: PDF, XLSX, DOCX, CSV, PNG, JPEG, up to 20 MB. The extension must agree with the
content, so a renamed executable or a PDF called .xlsx is refused with a clear message.
"""

import zipfile
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_BYTES = 20 * 1024 * 1024

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv",
    "png": "image/png",
    "jpeg": "image/jpeg",
}
EXTENSIONS = {".pdf": "pdf", ".xlsx": "xlsx", ".docx": "docx", ".csv": "csv", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
ALLOWED_LABEL = "PDF, XLSX, DOCX, CSV, PNG, JPEG"


def _office_kind(upload: UploadedFile) -> str | None:
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names:
        return None
    if any(name.startswith("xl/") for name in names):
        return "xlsx"
    if any(name.startswith("word/") for name in names):
        return "docx"
    return None


def _is_text(sample: bytes) -> bool:
    if b"\x00" in sample:
        return False
    for encoding in ("utf-8-sig", "cp932"):
        try:
            # The sample may end inside a multi-byte character: ignore only the last 3 bytes.
            sample[: max(len(sample) - 3, 0)].decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def detect_kind(upload: UploadedFile) -> str | None:
    head = upload.read(8192)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(upload)
    if head and _is_text(head):
        return "csv"
    return None


def validate_upload(upload: UploadedFile) -> str:
    """Return the file's content type, or raise ValidationError saying what is wrong."""
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("ファイル「%(name)s」は20MBを超えています。"), code="file_too_large", params={"name": upload.name}
        )
    if not upload.size:
        raise ValidationError(_("ファイル「%(name)s」は空です。"), code="file_empty", params={"name": upload.name})
    by_name = EXTENSIONS.get(PurePath(upload.name or "").suffix.lower())
    by_content = detect_kind(upload)
    if by_name is None or by_content is None or by_name != by_content:
        raise ValidationError(
            _("ファイル「%(name)s」の形式は受け付けられません（%(allowed)s のみ、拡張子と内容が一致すること）。"),
            code="file_type",
            params={"name": upload.name, "allowed": ALLOWED_LABEL},
        )
    return CONTENT_TYPES[by_content]


def validate_uploads(files, field: str) -> list[str]:
    """Check several uploads; their content types, or one ValidationError naming `field`
    with every file's problem."""
    content_types, errors = [], []
    for upload in files:
        try:
            content_types.append(validate_upload(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({field: errors})
    return content_types
