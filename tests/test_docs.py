"""The README documents every command and every setting, and its test command is what CI runs."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from campaign.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLE = ROOT / "config.example.toml"


def command_paths(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group below the root, as the words typed after ``campaign``."""
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            yield (*path, name)
            yield from command_paths(sub, (*path, name))


def setting_keys(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(section, key) for every setting of the example file, nested tables recursed."""
    for key, value in table.items():
        if isinstance(value, dict):
            yield from setting_keys(value, f"{prefix}{key}.")
        else:
            yield prefix.rstrip("."), key


def readme() -> str:
    assert README.is_file(), "README.md is missing"
    return README.read_text(encoding="utf-8")


COMMAND_PATHS = list(command_paths(typer.main.get_command(app)))


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_command_is_shown_in_the_readme(path: tuple[str, ...]) -> None:
    pattern = r"campaign " + r"\s+".join(re.escape(word) for word in path) + r"\b"
    assert re.search(pattern, readme()), f"README.md never shows `campaign {' '.join(path)}`"


def test_every_setting_of_the_example_file_is_named_in_the_readme() -> None:
    text = readme()
    assert "config.example.toml" in text
    settings = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    missing = [
        f"{section}.{key}"
        for section, key in setting_keys(settings)
        if not re.search(rf"\b{re.escape(key)}\b", text)
    ]
    assert missing == [], f"settings not named in README.md: {missing}"


def test_every_section_of_the_example_file_is_named_in_the_readme() -> None:
    text = readme()
    settings = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    sections = {section for section, _ in setting_keys(settings)}
    # Named sections (social.accounts.mois_ess) are documented once as social.accounts.NAME.
    generic = {re.sub(r"^social\.accounts\.[^.]+$", "social.accounts.NAME", s) for s in sections}
    missing = sorted(s for s in generic if f"[{s}]" not in text)
    assert missing == [], f"sections not named in README.md: {missing}"


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    command = (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' "
        "&& scripts/install-test-peers && .venv/bin/pytest -q"
    )
    assert command in readme()
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
