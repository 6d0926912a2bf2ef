"""Owner-only files and folders, whatever the umask (campaign.files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.files import create_private, make_private_folder, open_private, write_private
from tests.conftest import mode_of

pytestmark = pytest.mark.usefixtures("usual_umask")


def test_a_new_file_is_written_owner_only(tmp_path: Path) -> None:
    write_private(tmp_path / "export.csv", "email\n")
    write_private(tmp_path / "export.xlsx", b"PK")
    assert mode_of(tmp_path / "export.csv") == 0o600
    assert mode_of(tmp_path / "export.xlsx") == 0o600
    assert (tmp_path / "export.csv").read_text(encoding="utf-8") == "email\n"


def test_writing_over_a_readable_file_makes_it_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("old, longer content\n", encoding="utf-8")
    path.chmod(0o644)
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write("new\n")
    assert mode_of(path) == 0o600
    assert path.read_text(encoding="utf-8") == "new\n"


def test_a_device_is_written_to_and_left_as_it_is() -> None:
    before = mode_of(Path("/dev/null"))
    write_private("/dev/null", "nothing")
    assert mode_of(Path("/dev/null")) == before


def test_create_private_makes_a_missing_file_only(tmp_path: Path) -> None:
    assert create_private(tmp_path / "campaign.db") is True
    assert mode_of(tmp_path / "campaign.db") == 0o600
    shared = tmp_path / "shared.db"
    shared.write_bytes(b"")
    shared.chmod(0o640)
    assert create_private(shared) is False
    assert mode_of(shared) == 0o640  # its owner chose it


def test_missing_folders_are_made_owner_only_and_existing_ones_kept(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    make_private_folder(tmp_path / "data" / "exports")
    assert mode_of(tmp_path / "data") == 0o700
    assert mode_of(tmp_path / "data" / "exports") == 0o700
    assert mode_of(tmp_path) == 0o755
    make_private_folder(tmp_path / "data" / "exports")  # already there: fine
