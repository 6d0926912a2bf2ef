"""What an import tells back (:class:`ImportSummary`), shared by the subscriber and event imports.

Valid rows go through; every row left out is listed with its row number (as the spreadsheet
numbers it, header = row 1) and the reason, so the person can fix the file and import it again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from campaign.messages import Message


@dataclass(frozen=True)
class SkippedRow:
    row: int
    reason: Message | str  # a message each door words (a plain sentence: not converted yet)
    value: str = ""  # what was in the key column (email, event id), to find the row quickly


@dataclass
class ImportSummary:
    file: str
    dry_run: bool = False
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    warnings: list[Message | str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.added + self.updated + self.unchanged + len(self.skipped)

    def skip(self, row: int, reason: Message | str, value: str = "") -> None:
        self.skipped.append(SkippedRow(row, reason, value))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        # The CLI's words (asdict would have turned a message into its fields).
        data["skipped"] = [
            {"row": row.row, "reason": str(row.reason), "value": row.value} for row in self.skipped
        ]
        data["warnings"] = [str(warning) for warning in self.warnings]
        data["rows"] = self.rows
        return data
