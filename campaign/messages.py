"""Messages as data: what a stage has to say, without the words.

A stage (audience, events, newsletters, social, scheduling, reports, tracking) that refuses
something or notes something returns or raises a :class:`Message`: a ``code`` naming the
situation, the ``field`` it concerns by its name in the domain (``lists``, ``events.to``,
``text``…) and the ``values`` the sentence needs. It never words a CLI flag, a settings path or
a French sentence: each door does, from its catalogue in :mod:`campaign.wording` — the CLI in
English naming its flags, the dashboard and the public pages in the pages' language (French by
default) naming the form's label, next to that field.

``str(message)`` is the CLI's wording, so that a message printed, logged or written to JSON
reads as the command line always said it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any


@dataclass(frozen=True)
class Message:
    """One thing a stage has to say: ``code`` (a key of the catalogues), ``field`` (the domain
    field it concerns, empty for the whole item) and ``values`` (what the sentence shows)."""

    code: str
    field: str = ""
    values: Mapping[str, Any] = dataclass_field(default_factory=dict)

    def __str__(self) -> str:
        from campaign.wording import cli  # the catalogues import nothing of the stages

        return cli.word(self)

    def __hash__(self) -> int:  # values may hold lists: hashed by their text
        return hash((self.code, self.field, repr(sorted(self.values.items(), key=str))))


def message(code: str, field: str = "", **values: Any) -> Message:
    """``Message(code, field, values)`` written as a call: ``message("x", "lists", n=2)``."""
    return Message(code, field, values)
