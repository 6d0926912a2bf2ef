"""Reading spreadsheets as people really send them, one row at a time.

Subscriber lists and event exports arrive as whatever the sender's tool produced: a CSV from
French Excel (semicolons, Windows-1252), a CSV from a web back-office (commas, UTF-8, maybe a
BOM), a tab-separated "texte Unicode" export, or an XLSX workbook. Both imports read them through
:func:`open_sheet`, which works out the format itself and streams the rows, so that a file of any
size is imported with the same, small amount of memory and the rows keep the numbers the person
sees in their spreadsheet (header = row 1), which is how skipped rows are reported back.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from campaign.sheet_limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_LINE_CHARS,
    MAX_ROWS,
    FileFormatError,
    too_long_cell,
    too_many_columns,
    too_many_rows,
)
from campaign.taxonomy import fold

# Enough to see the header and the first rows: the encoding and separator are decided on this
# prefix only, so a large file is never read whole.
SAMPLE_BYTES = 64 * 1024
SAMPLE_LINES = 50
DELIMITERS = (";", "\t", ",")  # on a tie, French Excel's ";" wins
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls (and .doc) files

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_LINE_CHARS",
    "MAX_ROWS",
    "FileFormatError",
    "Sheet",
    "match_headers",
    "open_sheet",
    "too_long_cell",
    "too_many_columns",
    "too_many_rows",
]


@dataclass
class Sheet:
    """An open spreadsheet: its column names and an iterator over its non-blank rows.

    ``rows`` yields ``(row_number, {header: value})`` with the row number the spreadsheet shows
    (header = 1, first data row = 2, blank rows counted but not yielded). Values are stripped
    strings; a missing cell is ``""``. Columns with an empty header are left out.
    """

    path: Path
    headers: list[str]
    total_bytes: int
    rows: Iterator[tuple[int, dict[str, str]]]
    _position: Callable[[], int] = field(default=lambda: 0, repr=False)

    def bytes_read(self) -> int:
        """How far the reading has got, in bytes of the file (for a progress bar)."""
        return min(self._position(), self.total_bytes)


def match_headers(headers: list[str], aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Canonical field -> the file's header for it, for each field the file has.

    Spellings are compared folded (no accents, case or punctuation), so "E-mail", "e mail" and
    "EMAIL" all match the alias "e-mail". Aliases are tried in order, so the first alias of a
    field is preferred when a file has several candidate columns; a column serves one field only.
    """
    by_folded: dict[str, str] = {}
    for header in headers:
        by_folded.setdefault(fold(header), header)
    found: dict[str, str] = {}
    taken: set[str] = set()
    for canonical, spellings in aliases.items():
        for spelling in spellings:
            column = by_folded.get(fold(spelling))
            if column is not None and column not in taken:
                found[canonical] = column
                taken.add(column)
                break
    return found


@contextmanager
def open_sheet(path: Path) -> Iterator[Sheet]:
    """Open a CSV (comma, semicolon or tab; UTF-8, UTF-8 with BOM, UTF-16 or Windows-1252)
    or an XLSX workbook (first sheet), deciding from the content, not the file name."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file.")
    total = path.stat().st_size
    if total == 0:
        raise FileFormatError(f"{path.name} is empty: export the spreadsheet again.")
    with path.open("rb") as probe:
        head = probe.read(8)
    if head.startswith(_ZIP_MAGIC):
        with _open_xlsx(path, total) as sheet:
            yield sheet
    elif head.startswith(_OLE_MAGIC):
        raise FileFormatError(
            f"{path.name} is an old Excel .xls file, which cannot be read: open it and save it "
            "as .xlsx or as CSV."
        )
    else:
        with _open_csv(path, total) as sheet:
            yield sheet


# --- CSV ---------------------------------------------------------------------------------------


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode a byte that is not UTF-8 as Windows-1252.

    A file whose first 64 KB are plain ASCII may still hold a Windows-1252 "é" further on; this
    handler reads it right instead of failing half-way through the import. The five bytes
    Windows-1252 leaves undefined are read as Latin-1 so that nothing is ever lost.
    """
    if not isinstance(error, UnicodeDecodeError):
        raise error
    byte = error.object[error.start : error.start + 1]
    try:
        char = byte.decode("cp1252")
    except UnicodeDecodeError:
        char = byte.decode("latin-1")
    return char, error.start + 1


codecs.register_error("campaign-cp1252-fallback", _cp1252_fallback)


def _detect_encoding(sample: bytes, path: Path) -> tuple[str, str]:
    """The encoding (and error handler) to read the file with, decided on its first bytes."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "strict"  # Excel's "Texte Unicode" export
    if b"\x00" in sample:
        raise FileFormatError(
            f"{path.name} is not a spreadsheet (it holds binary data): export it as CSV or XLSX."
        )
    try:
        # Incremental, so a character cut in two at the end of the sample is not an error.
        codecs.getincrementaldecoder("utf-8-sig")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252", "campaign-cp1252-fallback"
    return "utf-8-sig", "campaign-cp1252-fallback"


def _looks_binary(text: str) -> bool:
    controls = sum(1 for char in text if char < " " and char not in "\t\r\n\f\v")
    return controls > max(2, len(text) // 100)


def _lines(text: io.TextIOWrapper, path: Path) -> Iterator[str]:
    """The file's lines, each read up to :data:`MAX_LINE_CHARS` and refused past it."""
    readline = text.readline
    number = 0
    while line := readline(MAX_LINE_CHARS):
        number += 1
        if len(line) == MAX_LINE_CHARS and line[-1] not in "\r\n":
            raise FileFormatError(
                f"{path.name}: line {number} is longer than {MAX_LINE_CHARS:,} characters, "
                "which no spreadsheet export is: export the file again as CSV or XLSX."
            )
        yield line


def _choose_delimiter(lines: list[str], path: Path) -> str:
    """The separator that splits the header into the most columns, the rows agreeing with it."""
    best, best_score = ",", (-1, -1.0)
    for delimiter in DELIMITERS:
        try:
            parsed = [row for row in csv.reader(lines, delimiter=delimiter) if any(row)]
        except csv.Error as exc:
            raise _csv_error(exc, path, None) from None
        if not parsed:
            continue
        width = len(parsed[0])
        agreeing = sum(1 for row in parsed[1:] if len(row) == width)
        score = (width if width > 1 else 0, agreeing / max(1, len(parsed) - 1))
        if score > best_score:
            best, best_score = delimiter, score
    return best


@contextmanager
def _open_csv(path: Path, total: int) -> Iterator[Sheet]:
    with path.open("rb") as raw:
        sample = raw.read(SAMPLE_BYTES)
        encoding, errors = _detect_encoding(sample, path)
        raw.seek(0)
        # The decoder pulls the file in chunks; the binary position is the progress made.
        text = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")
        lines = _lines(text, path)
        try:
            sample_lines = list(itertools.islice(lines, SAMPLE_LINES))
        except UnicodeDecodeError as exc:  # only UTF-16 is strict
            raise FileFormatError(f"{path.name}: unreadable text ({exc}).") from None
        if _looks_binary("".join(sample_lines)):
            raise FileFormatError(
                f"{path.name} is not a spreadsheet (it holds binary data): "
                "export it as CSV or XLSX."
            )
        # Process-wide, but this module is the only CSV reader there is; a longer field is
        # refused (csv.Error) instead of being read into memory whatever its size.
        csv.field_size_limit(MAX_CELL_CHARS)
        delimiter = _choose_delimiter(sample_lines, path)
        # The sample lines are read again from memory, then the rest straight from the file.
        reader = csv.reader(itertools.chain(sample_lines, lines), delimiter=delimiter)
        numbered = _numbered(reader, path)
        headers = _header_row(numbered, path)
        rows = _records(numbered, headers, _csv_cell)
        yield Sheet(path, headers, total, rows, raw.tell)


def _numbered(reader: Iterator[list[str]], path: Path) -> Iterator[tuple[int, list[str]]]:
    """Records numbered as a spreadsheet numbers rows (a blank line is a row too)."""
    number = 0
    try:
        for number, cells in enumerate(itertools.islice(reader, MAX_ROWS), start=1):
            if len(cells) > MAX_COLUMNS:
                _check_width(cells, number, path)
            yield number, cells
        if next(reader, None) is not None:
            raise too_many_rows(path)
    except csv.Error as exc:
        raise _csv_error(exc, path, number + 1) from None
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path.name}: unreadable text ({exc}).") from None


def _check_width(cells: list[str], number: int, path: Path) -> None:
    """Refuse a record with a value past :data:`MAX_COLUMNS` (empty cells there are fine)."""
    for column in range(len(cells), MAX_COLUMNS, -1):
        if cells[column - 1].strip():
            raise too_many_columns(path, number, column)


def _csv_error(exc: csv.Error, path: Path, row: int | None) -> FileFormatError:
    if "field limit" in str(exc):  # the csv module's only way of telling it apart
        return too_long_cell(path, row)
    return FileFormatError(f"{path.name}: not a readable CSV file ({exc}).")


_EXCEL_TEXT = re.compile(r'^="(.*)"$')  # ="01000": how Excel exports keep leading zeros


def _csv_cell(value: str) -> str:
    """A CSV cell as text (the common case made cheap: it runs for every cell of the file)."""
    value = value.strip()
    if value.startswith('="'):
        match = _EXCEL_TEXT.match(value)
        if match:
            return match.group(1).strip()
    return value


def _header_row(
    numbered: Iterator[tuple[int, list[Any]]], path: Path, missing: str = ""
) -> list[str]:
    for _number, cells in numbered:
        headers = [_cell_text(cell) for cell in cells]
        if any(headers):
            return _unique(headers)
    raise FileFormatError(
        missing
        or f"{path.name} has no header row (no column names): the first row must name the columns."
    )


def _unique(headers: list[str]) -> list[str]:
    """Column names made unique ("Tel", "Tel (2)") so no column silently hides another."""
    seen: dict[str, int] = {}
    result = []
    for header in headers:
        if header:
            seen[header] = seen.get(header, 0) + 1
            if seen[header] > 1:
                header = f"{header} ({seen[header]})"
        result.append(header)
    return result


def _records(
    numbered: Iterator[tuple[int, list[Any]]],
    headers: list[str],
    cell_text: Callable[[Any], str],
) -> Iterator[tuple[int, dict[str, str]]]:
    columns = [(index, header) for index, header in enumerate(headers) if header]
    for number, cells in numbered:
        values = [cell_text(cell) for cell in cells]
        if not any(values):
            continue
        width = len(values)
        yield number, {header: values[i] if i < width else "" for i, header in columns}


# --- XLSX --------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    """A cell as the text the person typed: 75011.0 -> "75011", dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _csv_cell(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time.min else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


@contextmanager
def _open_xlsx(path: Path, total: int) -> Iterator[Sheet]:
    from campaign import xlsx  # imported here: CSV imports do not pay for openpyxl

    with xlsx.open_first_sheet(path, total) as (numbered, progress):
        missing = (
            f"{path.name}: the first sheet is empty or has no header row; put the column names "
            "in row 1 of the first sheet."
        )
        headers = _header_row(numbered, path, missing)
        yield Sheet(path, headers, total, _records(numbered, headers, _cell_text), progress)
