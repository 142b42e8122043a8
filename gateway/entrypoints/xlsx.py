"""Excel workbooks a bureau can file: Chinese headings from the one glossary, one sheet per table.

Built with openpyxl (write-only mode: rows stream, memory stays flat for long lists); the tests
read every workbook back with openpyxl and compare it with the JSON the same route answers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from domain.glossary import term

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Sheet:
    title: str  # a 'statistic' glossary code: the sheet's name
    columns: Sequence[str]  # 'statistic' glossary codes, or already-written headings
    rows: Iterable[Sequence[Any]]


def heading(code: str) -> str:
    return term("statistic", code)


def workbook(sheets: Sequence[Sheet]) -> bytes:
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(heading(sheet.title)[:31])  # Excel's limit on a sheet name
        bold = []
        for column in sheet.columns:
            cell = WriteOnlyCell(ws, value=heading(column))
            cell.font = Font(bold=True)
            bold.append(cell)
        ws.append(bold)
        for row in sheet.rows:
            ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def download(sheets: Sequence[Sheet], filename: str) -> Response:
    return Response(workbook(sheets), media_type=MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
