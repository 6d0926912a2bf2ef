"""The doors' words for the stages' messages (:mod:`campaign.messages`): one catalogue a door.

- :mod:`campaign.wording.cli`: the command line's English, naming its flags and settings.
- :mod:`campaign.wording.pages`: the dashboard's and the public pages' sentences, written in
  English and translated with gettext (French by default, ``[general] language``), naming what
  the person sees on the form, never a flag or a settings path.

Both catalogues have a sentence for every code (a test checks it), and neither imports a stage.
Each is a package with one module a stage (newsletters, audience, social, mail, scheduling,
service) holding its ``SENTENCES`` and the ``SHAPES`` that word some codes' values; the
package's ``word`` looks a code up in them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from typing import Any

CliShape = Callable[[Mapping[str, Any], dict[str, Any]], None]
"""Words the values of one code (or of a family: ``"block."``) the CLI's way: reads the
message's values, writes the sentence's (already plain) values."""

PageShape = Callable[[Mapping[str, Any], dict[str, Any], str, tzinfo | None], None]
"""The pages' :data:`CliShape`, given the language and the time zone too."""


def plain_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as the CLI shows them: days as 05/11/2026, lists joined by commas."""
    return {name: _plain(value) for name, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(item) for item in value)
    return value
