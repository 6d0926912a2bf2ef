"""Where things are in a TOML text: ``tomllib`` gives values, not line numbers.

:class:`SourceMap` finds the header line of the n-th ``[[post]]`` entry, the range of lines the
entry spans (its sub-tables included) and the line of a field inside it, so that a problem in a
calendar can name its line. It skips what looks like a header inside a multi-line string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*(?P<name>[^\[\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*(?P<name>[^\[\]]+?)\s*\]")


def _header_name(raw: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in raw.split("."))


class SourceMap:
    """Line numbers of the tables of a TOML text (tomllib keeps none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[int, bool, str]] = []  # (line, array of tables?, dotted name)
        open_string: str | None = None
        for number, line in enumerate(self.lines, 1):
            if open_string is not None:
                if line.count(open_string) % 2 == 1:
                    open_string = None
                continue
            array = _ARRAY_HEADER.match(line)
            table = None if array else _TABLE_HEADER.match(line)
            if array or table:
                match = array or table
                assert match is not None
                self.headers.append((number, bool(array), _header_name(match.group("name"))))
                continue
            code = line.split("#", 1)[0] if '"' not in line and "'" not in line else line
            for delimiter in ('"""', "'''"):
                if code.count(delimiter) % 2 == 1:
                    open_string = delimiter
                    break

    def entries(self, kind: str) -> list[tuple[int, int]]:
        """(first line, last line) of each ``[[kind]]`` entry, in order."""
        ranges: list[tuple[int, int]] = []
        for index, (number, array, name) in enumerate(self.headers):
            if not (array and name == kind):
                continue
            end = len(self.lines)
            for later, _array, later_name in self.headers[index + 1 :]:
                if not later_name.startswith(f"{kind}."):
                    end = later - 1
                    break
            ranges.append((number, end))
        return ranges

    def key_line(self, name: str) -> int:
        """The line of top-level key or table ``name`` (1 if it cannot be found)."""
        for number, _array, header in self.headers:
            if header == name:
                return number
        pattern = re.compile(rf"^\s*[\"']?{re.escape(name)}[\"']?\s*[=.]")
        limit = self.headers[0][0] if self.headers else len(self.lines) + 1
        for number, line in enumerate(self.lines[: limit - 1], 1):
            if pattern.match(line):
                return number
        return 1

    def field_line(self, kind: str, span: tuple[int, int], path: Sequence[str]) -> int:
        """The line of field ``path`` (``("events", "from")``) inside one entry."""
        start, end = span
        if not path:
            return start
        subtables = [
            (number, name[len(kind) + 1 :])
            for number, _array, name in self.headers
            if start < number <= end and name.startswith(f"{kind}.")
        ]
        top_end = subtables[0][0] - 1 if subtables else end
        head, *rest = path
        if rest:
            for index, (number, name) in enumerate(subtables):
                if name == head:
                    sub_end = subtables[index + 1][0] - 1 if index + 1 < len(subtables) else end
                    found = self._find(rest[0], number + 1, sub_end)
                    return found or number
            dotted = self._find(f"{head}.{rest[0]}", start + 1, top_end)
            if dotted:
                return dotted
        for number, name in subtables:
            if name == head:
                return number
        return self._find(head, start + 1, top_end) or start

    def _find(self, name: str, first: int, last: int) -> int | None:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(name)}[\"']?\s*[=.]")
        for number in range(first, min(last, len(self.lines)) + 1):
            if pattern.match(self.lines[number - 1]):
                return number
        return None
