"""What a spreadsheet import reads at most, and the errors that say so.

Shared by the CSV and XLSX readers (``campaign.tabular``, ``campaign.xlsx``) without either
importing the other's module.
"""

from __future__ import annotations

from pathlib import Path

from campaign.errors import CampaignError

# What an import reads at most. Far above any real subscriber list or event export, these are
# what keeps a small hostile file from taking the server's memory or minutes of its time; a file
# past one is refused with a message saying which (the XLSX-only limits, on unzipped sizes, are
# in campaign.xlsx). Rows count blank ones, as the spreadsheet numbers them.
MAX_ROWS = 1_048_576  # Excel's own limit for a sheet
MAX_COLUMNS = 500  # columns holding a value; empty ones further right are ignored
MAX_CELL_CHARS = 32_767  # Excel's own limit for a cell
# A CSV line is read up to this length, so that a file with no line break is never read whole.
MAX_LINE_CHARS = 1024 * 1024


class FileFormatError(CampaignError):
    """A file that cannot be read as a table: the message names the file and what to do."""


def too_many_rows(path: Path) -> FileFormatError:
    return FileFormatError(
        f"{path.name} has more than {MAX_ROWS:,} rows, the most an import reads (Excel's own "
        "limit): split it into several files and import them one after the other."
    )


def too_many_columns(path: Path, row: int, column: int) -> FileFormatError:
    return FileFormatError(
        f"{path.name}: row {row} has a value in column {column:,}, past the {MAX_COLUMNS} "
        "columns an import reads: delete the columns that are not needed and import again."
    )


def too_long_cell(path: Path, row: int | None) -> FileFormatError:
    where = f"row {row} has a cell" if row else "a cell holds text"
    return FileFormatError(
        f"{path.name}: {where} of more than {MAX_CELL_CHARS:,} characters (Excel's own limit "
        "for a cell): shorten it and import again."
    )
