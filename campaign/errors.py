"""The one exception users may see: a message saying what is wrong and what to do.

The CLI prints it without a traceback; anything else that escapes is a bug and is reported as one.

A stage raises it with one or more :class:`~campaign.messages.Message` (a code, the field it
concerns, its values): each door words them from its own catalogue (:mod:`campaign.wording`),
the dashboard next to the field concerned. ``str(error)`` is the CLI's English wording. An
error raised with a plain sentence (the older way, and the CLI's own errors) keeps it as is.
"""

from __future__ import annotations

from campaign.messages import Message


class CampaignError(Exception):
    """An error the user can fix; ``str(error)`` is the whole message (as the CLI words it)."""

    def __init__(self, *what: str | Message) -> None:
        self.messages: list[Message] = [item for item in what if isinstance(item, Message)]
        if self.messages and len(self.messages) == len(what):
            super().__init__(" ".join(str(item) for item in self.messages))
        else:
            super().__init__(*what)

    @classmethod
    def of(cls, code: str, field: str = "", **values: object) -> CampaignError:
        """The error carrying one message: ``raise CampaignError.of("x", "lists", n=2)``."""
        return cls(Message(code, field, values))


class TemporaryError(CampaignError):
    """A fault that passes (the database away for a while): the same command will work later.

    The CLI exits with status 75 (``EX_TEMPFAIL``), which cron wrappers, service managers and
    mail servers read as "try again later".
    """
