"""Cells of exported spreadsheets that a spreadsheet program must never run as a formula.

A value typed by a hub operator or a resident ("=HYPERLINK(...)", "+1-2", "@SUM(...)", or one
that starts with a tab or carriage return) would otherwise be evaluated when a clerk opens the
.csv or .xlsx. CSV has no cell types, so such text gets a leading apostrophe (Excel's own "this
is text" mark); in .xlsx the cell is written as a text cell, keeping the value exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_cell(value: object) -> object:
    """The value to hand to csv.writer: numbers as they are, formula-like text quoted."""
    return "'" + value if is_formula_like(value) else value  # type: ignore[operator]


def csv_row(values: Sequence[object]) -> list[object]:
    return [csv_cell(value) for value in values]


def append_text_safe(sheet: Worksheet, values: Iterable[object]) -> None:
    """Appends a row; text that looks like a formula stays text (openpyxl would store "=…" as one)."""
    sheet.append(list(values))
    row: tuple[Cell, ...] = sheet[sheet.max_row]
    for cell in row:
        if is_formula_like(cell.value):
            cell.data_type = "s"
