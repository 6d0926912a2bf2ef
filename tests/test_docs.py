"""The docs document every command and every setting, build without a broken link, and the
README stays short and keeps the two commands CI runs."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from campaign.cli import app
from tests.conftest import subcommands

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
EXAMPLE = ROOT / "config.example.toml"


def command_paths(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group below the root, as the words typed after ``campaign``."""
    for name, sub in subcommands(command):
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


def manual() -> str:
    """The README and every page of docs/, as one text (the manual is split between them)."""
    pages = sorted(DOCS.rglob("*.md"))
    assert pages, "docs/ has no page"
    return "\n".join([readme(), *(page.read_text(encoding="utf-8") for page in pages)])


COMMAND_PATHS = list(command_paths(typer.main.get_command(app)))


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_command_is_shown_in_the_docs(path: tuple[str, ...]) -> None:
    pattern = r"campaign " + r"\s+".join(re.escape(word) for word in path) + r"\b"
    assert re.search(pattern, manual()), f"docs/ never shows `campaign {' '.join(path)}`"


def test_every_setting_of_the_example_file_is_named_in_the_docs() -> None:
    text = manual()
    assert "config.example.toml" in text
    settings = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    missing = [
        f"{section}.{key}"
        for section, key in setting_keys(settings)
        if not re.search(rf"\b{re.escape(key)}\b", text)
    ]
    assert missing == [], f"settings not named in docs/: {missing}"


def test_every_section_of_the_example_file_is_named_in_the_docs() -> None:
    text = manual()
    settings = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    sections = {section for section, _ in setting_keys(settings)}
    # Named sections (social.accounts.mois_ess) are documented once as social.accounts.NAME.
    generic = {re.sub(r"^social\.accounts\.[^.]+$", "social.accounts.NAME", s) for s in sections}
    missing = sorted(s for s in generic if f"[{s}]" not in text)
    assert missing == [], f"sections not named in docs/: {missing}"


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    command = (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' "
        "&& scripts/install-test-peers && .venv/bin/pytest -q --cov"
    )
    assert command in readme()
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_is_short_and_starts_with_the_two_commands() -> None:
    text = readme()
    lines = text.splitlines()
    assert len(lines) < 150, f"README.md has {len(lines)} lines: move the details into docs/"
    blocks = re.findall(r"^```\n(.*?)\n```", text, flags=re.M | re.S)
    assert blocks[0].startswith("python3 -m venv .venv") and blocks[0].endswith("campaign demo")
    assert blocks[1].endswith(".venv/bin/pytest -q --cov")


def test_the_docs_build_strictly(tmp_path: Path) -> None:
    """`mkdocs build --strict` fails on a broken link, a page missing from the nav or a bad hook."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    reference = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    # The generated command-line reference names every command.
    for path in COMMAND_PATHS:
        assert f"campaign {' '.join(path)}" in reference
    pages = list((tmp_path / "site").rglob("*.html"))
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "fonts.googleapis.com" not in html, f"{page} loads fonts from the internet"


def test_every_link_of_the_readme_leads_to_a_file() -> None:
    targets = re.findall(r"\]\(([^)#]+)\)", readme())
    assert targets, "the README links to no page of the docs"
    missing = [t for t in targets if "://" not in t and not (ROOT / t).exists()]
    assert missing == [], f"README.md links to missing files: {missing}"
