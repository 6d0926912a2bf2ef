"""MkDocs hook: the command-line reference page, generated from the commands themselves.

Generated at build time rather than committed, so it can never disagree with `campaign --help`.
"""

from __future__ import annotations

from typing import Any

import click
import typer.main
from mkdocs.structure.files import File, Files
from typer.cli import get_docs_for_click

INTRO = (
    "Every command, option and argument, generated from the commands at each build of these "
    "docs (the same text as `campaign COMMAND --help`).\n\n"
)


def _aliases() -> str:
    """The groups' old names, which still work but are not listed below."""
    from campaign.cli import HIDDEN_ALIASES

    if not HIDDEN_ALIASES:
        return ""
    names = ", ".join(f"`campaign {old}` (now `{new}`)" for old, new in HIDDEN_ALIASES.items())
    return (
        "A group over a kind of record the campaign keeps many of is named by its plural. "
        f"The names some had before still work, hidden from the help: {names}.\n\n"
    )


def on_files(files: Files, config: Any) -> Files:
    from campaign.cli import app

    command = typer.main.get_command(app)
    text = get_docs_for_click(
        obj=command, ctx=click.Context(command), name="campaign", title="Command-line reference"
    )
    title, _, rest = text.strip().partition("\n")
    content = f"{title}\n\n{INTRO}{_aliases()}{rest}\n"
    files.append(File.generated(config, "reference/cli.md", content=content))
    return files
