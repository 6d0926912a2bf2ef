"""Cells written to spreadsheets are never taken for formulas (CSV/formula injection).

Exported text comes partly from outsiders: a first name typed in the public subscribe form, a
region or source from a partner's import, a bounce reply written by a remote server. A cell such
as ``=HYPERLINK("http://evil","clic")`` would run as a formula in the Excel or LibreOffice of
whoever opens the export. OWASP's rule is applied to every CSV the product writes: a text cell
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, which
spreadsheets show as text. Numbers stay numbers (-3 is written as -3): only strings change.
Every CSV is written through :func:`csv_writer`, which applies it. XLSX cells are typed, so
there the text is kept as it is and marked as text instead (:func:`protect_xlsx_cell`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    """Whether a spreadsheet could read ``value`` as a formula (a string starting so)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    """``value`` as a CSV cell: a formula-like string with a leading ``'``, else unchanged."""
    return "'" + value if looks_like_formula(value) else value


class SafeCsvWriter:
    """``csv.writer`` with :func:`neutralise`-d cells, whose line breaks stay in their cell.

    The csv module quotes a cell holding a character of the line terminator only: with ``\n``
    line ends, a bare ``\r`` would go out unquoted, and a spreadsheet that starts a new row
    there would read what follows it as a fresh (unprotected) cell. Such a row is written with
    every cell quoted.
    """

    def __init__(self, handle: IO[str], **options: Any) -> None:
        self._minimal = csv.writer(handle, **options)
        self._all = csv.writer(handle, **{**options, "quoting": csv.QUOTE_ALL})
        self._stray = tuple(set("\r\n") - set(self._minimal.dialect.lineterminator))

    def writerow(self, row: Iterable[Any]) -> None:
        cells = [neutralise(cell) for cell in row]
        stray = self._stray and any(
            isinstance(cell, str) and any(char in cell for char in self._stray) for cell in cells
        )
        (self._all if stray else self._minimal).writerow(cells)


def csv_writer(handle: IO[str], **options: Any) -> SafeCsvWriter:
    """The writer of every CSV the product writes: ``csv.writer(handle, **options)``, made safe."""
    return SafeCsvWriter(handle, **options)


def protect_xlsx_cell(cell: Any) -> None:
    """Keep a formula-like text cell of an openpyxl sheet as text, shown as it is.

    openpyxl turns a string starting with ``=`` into a formula: the cell is forced back to a
    string, and given Excel's "quote prefix" (what typing a leading ``'`` does), so that even
    editing the cell in Excel does not make it a formula.
    """
    if looks_like_formula(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
