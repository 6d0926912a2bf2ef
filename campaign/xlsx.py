"""The first sheet of an XLSX workbook, read in one pass with memory that does not grow.

An XLSX file is a ZIP of XML parts, and a small one can hold a great deal: a part that unzips a
thousand times larger (a zip bomb), or a sheet of millions of rows, each with a cell in the
last column. openpyxl's read-only mode is not bounded against that: it keeps an empty shell of
every row (and of every shared string) it has parsed, pads each row to its last cell's column,
builds a whole row before handing it over, and parses the prefix of every sheet while opening
the workbook. So the parts an import needs (workbook, relationships, shared strings, styles,
first sheet) are read here with expat and no tree, after the sizes in the ZIP's directory were
checked, and the sheet is refused the moment it goes past a limit. openpyxl still supplies what
the values mean (built-in number formats, which formats are dates, Excel serial dates), so the
cells read exactly as before.
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from openpyxl.styles.numbers import (
    BUILTIN_FORMATS,
    BUILTIN_FORMATS_REVERSE,
    is_date_format,
    is_timedelta_format,
)
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601

from campaign.sheet_limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_ROWS,
    FileFormatError,
    too_long_cell,
    too_many_columns,
    too_many_rows,
)

# What the ZIP's directory may declare, checked before anything is unzipped. Python's zipfile
# never unzips more than a member declares (it stops there and reports a bad CRC), so the
# declared sizes are the real bound. The sheet is streamed, so only the time to read it grows
# with its size: a whole workbook may unzip to 1 GB (a sheet of a million rows of ten columns
# is about 400 MB). The other parts an import reads are held whole in memory (the shared
# strings, all of them, since any row may refer to any), hence their smaller limit.
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024
MAX_PART_BYTES = 64 * 1024 * 1024
# Spreadsheet XML unzips 5 to 20 times larger; zip bombs, hundreds to thousands of times.
# 100 is Apache POI's limit; small members are left alone (a tiny part may compress oddly).
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM = 1024 * 1024
MAX_CELLS_PER_ROW = 16_384  # Excel's last column, XFD: more cell elements are no Excel row

_CHUNK = 64 * 1024
_MB = 1024 * 1024
_DIGITS = "0123456789"

Progress = Callable[[], int]


def _fail(path: Path, problem: str) -> FileFormatError:
    return FileFormatError(f"{path.name} {problem}")


def _not_workbook(path: Path, why: str) -> FileFormatError:
    return FileFormatError(
        f"{path.name} is a ZIP file but not a readable Excel workbook ({why}); "
        "save it as .xlsx or CSV."
    )


def check_archive(archive: zipfile.ZipFile, path: Path) -> None:
    """Refuse a workbook whose directory declares too much, before unzipping a byte of it."""
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > RATIO_CHECKED_FROM and ratio > MAX_COMPRESSION_RATIO:
            raise _fail(
                path,
                f"is not a normal Excel file: its part {info.filename} unzips {ratio:,.0f} times "
                f"larger (a spreadsheet unzips at most {MAX_COMPRESSION_RATIO} times larger). "
                "Open it in Excel and save it again as .xlsx or CSV.",
            )
    if total > MAX_UNZIPPED_BYTES:
        raise _fail(
            path,
            f"unzips to {total // _MB:,} MB, more than the {MAX_UNZIPPED_BYTES // _MB:,} MB an "
            "import reads: split it into several files, or save it as CSV.",
        )


# --- XML parts, read with expat --------------------------------------------------------------


def _parser(path: Path, part: str) -> Any:
    """An expat parser that refuses DTDs: no Excel part has one, and entities are an attack."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse_doctype(*_: Any) -> None:
        raise _not_workbook(path, f"{part} declares a DOCTYPE")

    parser.StartDoctypeDeclHandler = refuse_doctype
    return parser


def _feed(parser: Any, stream: IO[bytes], path: Path, part: str) -> Iterator[int]:
    """Parse ``stream`` a chunk at a time, yielding the bytes parsed so far after each chunk."""
    done = 0
    try:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
            done += len(chunk)
            yield done
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise _not_workbook(path, f"broken XML in {part}: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _not_workbook(path, f"{part}: {exc}") from None


def _local(name: str) -> str:
    return name[name.rfind(" ") + 1 :]


class _Workbook:
    """What the import needs from the workbook's small parts: where things are, what is a date."""

    def __init__(self, archive: zipfile.ZipFile, path: Path) -> None:
        self.archive = archive
        self.path = path
        self.names = set(archive.namelist())
        book = self._target("", "_rels/.rels", "/officeDocument") or "xl/workbook.xml"
        folder = posixpath.dirname(book)
        rels = posixpath.join(folder, "_rels", posixpath.basename(book) + ".rels")
        self.relations = self._relations(folder, rels)
        self.epoch = WINDOWS_EPOCH
        self.sheet = self._first_sheet(book)
        # Where the relationships do not say, the parts' usual place (as openpyxl does).
        strings = self._of_type("/sharedStrings", "xl/sharedStrings.xml")
        self.shared_strings = self._shared_strings(strings) if strings else []
        styles = self._of_type("/styles", "xl/styles.xml")
        self.date_styles, self.timedelta_styles = self._styles(styles) if styles else (set(), set())

    def open(self, part: str, limit: int | None = MAX_PART_BYTES) -> IO[bytes]:
        try:
            info = self.archive.getinfo(part)
        except KeyError:
            raise _not_workbook(self.path, f"no {part} in it") from None
        if limit is not None and info.file_size > limit:
            raise _fail(
                self.path,
                f"has a part {part} of {info.file_size // _MB:,} MB, more than the "
                f"{limit // _MB} MB an import holds in memory: split it into several files, or "
                "save it as CSV.",
            )
        return self.archive.open(info)

    def _parse(
        self,
        part: str,
        start: Callable[..., None],
        end: Callable[[str], None] | None = None,
        text: Callable[[str], None] | None = None,
    ) -> None:
        parser = _parser(self.path, part)
        parser.StartElementHandler = start
        if end is not None:
            parser.EndElementHandler = end
        if text is not None:
            parser.CharacterDataHandler = text
        with self.open(part) as stream:
            for _ in _feed(parser, stream, self.path, part):
                pass

    def _relations(self, folder: str, part: str) -> list[tuple[str, str, str]]:
        """(id, type, part name) of each relationship a .rels part declares."""
        found: list[tuple[str, str, str]] = []
        if part not in self.names:
            return found

        def start(name: str, attrs: dict[str, str]) -> None:
            if _local(name) == "Relationship" and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                if target.startswith("/"):
                    target = target[1:]
                else:
                    target = posixpath.normpath(posixpath.join(folder, target))
                found.append((attrs.get("Id", ""), attrs.get("Type", ""), target))

        self._parse(part, start)
        return found

    def _target(self, folder: str, rels: str, kind: str) -> str | None:
        for _id, type_, target in self._relations(folder, rels):
            if type_.endswith(kind):
                return target
        return None

    def _of_type(self, kind: str, usual: str) -> str | None:
        for _id, type_, target in self.relations:
            if type_.endswith(kind) and target in self.names:
                return target
        return usual if usual in self.names else None

    def _first_sheet(self, book: str) -> str:
        sheets: list[str] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "sheet":
                sheets.extend(value for key, value in attrs.items() if _local(key) == "id")
            elif local == "workbookPr" and attrs.get("date1904") in ("1", "true"):
                self.epoch = CALENDAR_MAC_1904

        self._parse(book, start)
        by_id = {id_: (type_, target) for id_, type_, target in self.relations}
        for sheet_id in sheets:
            type_, target = by_id.get(sheet_id, ("", ""))
            if type_.endswith("/worksheet") and target in self.names:
                return target
        raise _fail(
            self.path,
            "has no sheet: put the column names in row 1 of the first sheet.",
        )

    def _shared_strings(self, part: str) -> list[str]:
        """Every shared string, in order (plain text: runs joined, phonetic guides left out)."""
        strings: list[str] = []
        parts: list[str] = []
        state = {"text": False, "phonetic": 0, "length": 0}

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "si":
                parts.clear()
                state["length"] = 0
            elif local == "t":
                state["text"] = not state["phonetic"]
            elif local == "rPh":
                state["phonetic"] += 1

        def end(name: str) -> None:
            local = _local(name)
            if local == "si":
                strings.append("".join(parts).replace("x005F_", ""))
            elif local == "t":
                state["text"] = False
            elif local == "rPh":
                state["phonetic"] -= 1

        def text(data: str) -> None:
            if state["text"]:
                state["length"] += len(data)
                if state["length"] > MAX_CELL_CHARS:
                    raise too_long_cell(self.path, None)
                parts.append(data)

        self._parse(part, start, end, text)
        return strings

    def _styles(self, part: str) -> tuple[set[int], set[int]]:
        """The cell styles (their index) whose number format shows a date, or a duration."""
        custom: dict[int, str] = {}
        formats: list[int] = []
        state = {"cell_xfs": False}

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "numFmt":
                with suppress(ValueError):
                    custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
            elif local == "cellXfs":
                state["cell_xfs"] = True
            elif local == "xf" and state["cell_xfs"]:
                try:
                    formats.append(int(attrs.get("numFmtId", "0")))
                except ValueError:
                    formats.append(0)

        def end(name: str) -> None:
            if _local(name) == "cellXfs":
                state["cell_xfs"] = False

        self._parse(part, start, end)
        dates: set[int] = set()
        durations: set[int] = set()
        for index, number_format in enumerate(formats):
            code = custom.get(number_format)
            if code is None or code in BUILTIN_FORMATS_REVERSE:
                code = BUILTIN_FORMATS.get(number_format, code)
            if is_date_format(code):
                dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
        return dates, durations


# --- the sheet -------------------------------------------------------------------------------


def _column_number(reference: str) -> int:
    """1 for "A7", 28 for "AB7"; 0 when the reference has no letters."""
    number = 0
    for char in reference.rstrip(_DIGITS).upper():
        if not "A" <= char <= "Z" or number > MAX_CELLS_PER_ROW:
            return MAX_CELLS_PER_ROW + 1  # not a column Excel has
        number = number * 26 + ord(char) - 64
    return number


_COLUMNS = {
    reference: _column_number(reference)
    for reference in (
        a + b for a in ["", *map(chr, range(65, 91))] for b in map(chr, range(65, 91))
    )
}


class _SheetReader:
    """expat handlers turning the sheet's XML into ``(row_number, values)``, one row at a time.

    Nothing but the row being read is kept; the limits are checked as the XML goes by, so a
    hostile sheet is refused before it has cost more than reading it up to that point.
    """

    def __init__(self, book: _Workbook) -> None:
        self.book = book
        self.path = book.path
        self.ready: list[tuple[int, list[Any]]] = []
        self.finished = False
        self.in_data = False
        self.rows_seen = 0
        self.last = 0  # the last row number handed over (rows go down the sheet only)
        self.number = 0
        self.cells: list[Any] = []
        self.cell_count = 0
        self.column = 0
        self.kind = "n"
        self.style = ""
        self.collecting = False
        self.phonetic = 0
        self.text: list[str] = []
        self.length = 0
        self.names: dict[str, str] = {}

    def attach(self, parser: Any) -> None:
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.data

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if not self.names:  # the root element: the sheet's namespace, whichever it is
            namespace = name[: name.rfind(" ") + 1]
            self.names = {namespace + local: local for local in _SHEET_ELEMENTS}
        local = self.names.get(name)
        if local is None or (local != "sheetData" and not self.in_data):
            return
        if local == "c":
            self.start_cell(attrs)
        elif local == "row":
            self.start_row(attrs)
        elif local == "v" or local == "t":
            self.collecting = not self.phonetic
        elif local == "rPh":
            self.phonetic += 1
        elif local == "sheetData":
            self.in_data = True

    def start_cell(self, attrs: dict[str, str]) -> None:
        """A ``<c>`` element: the cell's column, kind and style; its text comes next."""
        self.cell_count += 1
        if self.cell_count > MAX_CELLS_PER_ROW:
            raise too_many_columns(self.path, self.number, self.cell_count)
        letters = attrs.get("r", "").rstrip(_DIGITS)  # no reference: the next column
        column = _COLUMNS.get(letters) or _column_number(letters)
        self.column = column or self.column + 1
        self.kind = attrs.get("t", "n")
        self.style = attrs.get("s", "")
        self.text = []
        self.length = 0

    def start_row(self, attrs: dict[str, str]) -> None:
        """A ``<row>`` element: its number, checked against the limits; no cell yet."""
        self.rows_seen += 1
        reference = attrs.get("r")
        if reference:
            try:
                self.number = int(reference)
            except ValueError:
                raise _not_workbook(self.path, f"row number {reference[:20]!r}") from None
        else:
            self.number += 1
        if self.number > MAX_ROWS or self.rows_seen > MAX_ROWS:
            raise too_many_rows(self.path)
        self.cells = []
        self.cell_count = 0
        self.column = 0

    def end(self, name: str) -> None:
        local = self.names.get(name)
        if local is None or not self.in_data:
            return
        if local == "v" or local == "t":
            self.collecting = False
        elif local == "c":
            if self.text:
                value = self.value("".join(self.text))
                if value is not None and value != "":
                    column = self.column
                    if column > MAX_COLUMNS:
                        raise too_many_columns(self.path, self.number, column)
                    cells = self.cells
                    if len(cells) < column:
                        cells.extend([None] * (column - len(cells)))
                    cells[column - 1] = value
        elif local == "row":
            if self.number > self.last:
                self.ready.append((self.number, self.cells))
                self.last = self.number
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "sheetData":
            self.in_data = False
            self.finished = True

    def data(self, text: str) -> None:
        if self.collecting:
            self.length += len(text)
            if self.length > MAX_CELL_CHARS:
                raise too_long_cell(self.path, self.number)
            self.text.append(text)

    def value(self, text: str) -> Any:
        """The cell's value as openpyxl reads it (``data_only``: a formula's last result)."""
        kind = self.kind
        try:
            if kind == "n":
                number: float = (
                    float(text) if "." in text or "E" in text or "e" in text else int(text)
                )
                if self.style and int(self.style) in self.book.date_styles:
                    return from_excel(
                        number,
                        self.book.epoch,
                        timedelta=int(self.style) in self.book.timedelta_styles,
                    )
                return number
            if kind == "s":
                return self.book.shared_strings[int(text)]
            if kind == "b":
                return bool(int(text))
            if kind == "d":
                return from_ISO8601(text)
        except (ValueError, IndexError, OverflowError):
            return "#VALUE!"  # what openpyxl makes of a date cell out of range, too
        return text  # inlineStr, str (a formula's text) and e (#N/A…)


_SHEET_ELEMENTS = ("sheetData", "row", "c", "v", "t", "rPh", "is")


@contextmanager
def open_first_sheet(
    path: Path, total: int
) -> Iterator[tuple[Iterator[tuple[int, list[Any]]], Progress]]:
    """The rows of the workbook's first sheet, and how far the reading has got (file bytes)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _not_workbook(path, str(exc)) from None
    with archive:
        check_archive(archive, path)
        book = _Workbook(archive, path)
        size = max(1, archive.getinfo(book.sheet).file_size)
        position = [0]

        def rows() -> Iterator[tuple[int, list[Any]]]:
            reader = _SheetReader(book)
            parser = _parser(path, book.sheet)
            reader.attach(parser)
            with book.open(book.sheet, limit=None) as stream:
                for done in _feed(parser, stream, path, book.sheet):
                    position[0] = done
                    if reader.ready:
                        ready, reader.ready = reader.ready, []
                        yield from ready
                    if reader.finished:
                        break  # what follows the cells (merges, formatting…) is not read
            yield from reader.ready

        yield rows(), lambda: total * position[0] // size
