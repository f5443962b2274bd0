"""A table as a real Excel workbook (.xlsx), not a CSV to be imported: ``attendance -o x.xlsx``.

A header row that stays in view and filters, column widths for the content, A4 print settings
with the header repeated on every page, and every cell written as text: a value starting with
``=`` is text in a workbook (the cell's type says so), so nothing can become a formula, and no
apostrophe is needed as in the CSV (cells.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

_TEXT = "@"  # Excel's number format "Text"


def workbook(
    sheet_name: str,
    columns: Sequence[tuple[str, int]],
    rows: Iterable[Sequence[str]],
    *,
    header: str,
) -> bytes:
    """Return .xlsx bytes: ``columns`` are (heading, width in characters), ``rows`` text."""
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    # Excel's rule: at most 31 characters, none of []:*?/\ in a sheet's name.
    sheet.title = "".join(c for c in sheet_name if c not in "[]:*?/\\")[:31] or "Ark1"
    sheet.append([heading for heading, _width in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows:
        sheet.append(list(values))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            # openpyxl takes a string starting with "=" for a formula: the type is set back to
            # text and the cell formatted as text, so Excel and LibreOffice show it as typed.
            cell.data_type = "s"
            cell.number_format = _TEXT
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for index, (_heading, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{sheet.max_row}"
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"  # the header again on every printed page
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    top, bottom = sheet.oddHeader, sheet.oddFooter
    assert top is not None  # a new sheet has both
    assert bottom is not None
    top.center.text = header.replace("&", "&&")  # "&" starts a field code there
    bottom.center.text = "&P / &N"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
