"""A dashboard table as a download: CSV (UTF-8 with BOM, which Excel in Japan opens as UTF-8)
or XLSX (openpyxl, one sheet with a bold header row)."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font

from council.dashboards.tables import Table

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows(["" if v is None else v for v in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = table.name[:31]
    sheet.append(table.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(table: Table, fmt: str, filename: str) -> HttpResponse:
    body, content_type = (csv_bytes(table), CSV_TYPE) if fmt == "csv" else (xlsx_bytes(table), XLSX_TYPE)
    response = HttpResponse(body, content_type=content_type)
    name = f"{filename}.{fmt}"
    response["Content-Disposition"] = f"attachment; filename=\"{name.encode('ascii', 'replace').decode()}\"; filename*=UTF-8''{quote(name)}"
    return response
