"""The dashboard's and the public pages' words for the stages' messages.

Written in English and marked for gettext (``N_``); ``campaign/locale/fr/LC_MESSAGES/messages.po``
holds the French, used by default (``[general] language``). A sentence names what the person
sees on the form ("the end date"), never a CLI flag or a settings path; the dashboard shows it
next to the field the message concerns. Values are written the pages' way: days in words, times
in the team's zone, lists joined by commas.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from campaign import formatting
from campaign.i18n import N_, gettext_in
from campaign.wording import PageShape
from campaign.wording.pages import audience, mail, newsletters, scheduling, service, social
from campaign.wording.pages.newsletters import COVERAGE_WHAT as COVERAGE_WHAT
from campaign.wording.pages.social import COUNTING as COUNTING

if TYPE_CHECKING:  # the type only: messages word themselves with this catalogue
    from campaign.messages import Message

_STAGES = (newsletters, audience, social, mail, scheduling, service)

SENTENCES: dict[str, str] = {
    code: text for stage in _STAGES for code, text in stage.SENTENCES.items()
}

LABELS: dict[str, dict[str, str]] = {
    # The consent log's actions and methods (campaign.models.ConsentAction, the ``method``
    # of each line), bounce kinds (BounceKind) and dashboard roles (Role), as the team reads them.
    "consent_action": {
        "subscribed": N_("subscribed"),
        "confirmed": N_("confirmed their subscription"),
        "updated": N_("details changed"),
        "unsubscribed": N_("unsubscribed"),
        "resubscribed": N_("subscribed again"),
        "bounced": N_("address in error"),
        "complained": N_("complained (spam)"),
        "erased": N_("data erased"),
    },
    "consent_method": {
        "admin": N_("by an administrator, on the dashboard"),
        "manual": N_("by hand"),
        "cli": N_("from the command line"),
        "import": N_("file import"),
        "form": N_("subscription form"),
        "link": N_("link in an email"),
        "mailto": N_("email to the unsubscribe address"),
        "bounce": N_("bounce report"),
        "complaint": N_("complaint report"),
    },
    "bounce_kind": {
        "hard": N_("permanent failure"),
        "soft": N_("temporary failure"),
        "complaint": N_("complaint (spam)"),
        "unreadable": N_("unreadable message"),
        "unsubscribe": N_("unsubscribe request"),
    },
    "status": {  # newsletters, posts, deliveries and subscribers
        "draft": N_("draft"),
        "scheduled": N_("scheduled"),
        "sending": N_("being sent"),
        "paused": N_("paused"),
        "sent": N_("sent"),
        "cancelled": N_("cancelled"),
        "missed": N_("missed"),
        "publishing": N_("being published"),
        "published": N_("published"),
        "failed": N_("failed"),
        "pending": N_("waiting"),
        "deferred": N_("deferred"),
        "bounced": N_("address in error"),
        "left_out": N_("left out (no event)"),
        "active": N_("active"),
        "unsubscribed": N_("unsubscribed"),
        "complained": N_("complained"),
        "recurring": N_("recurring task"),
    },
    "role": {
        "admin": N_("administrator"),
        "editor": N_("editor"),
        "viewer": N_("read only"),
    },
}


def label(kind: str, value: str, language: str = "fr") -> str:
    """The word for a stored value (``label("role", "editor")``); an unknown value as it is."""
    text = LABELS.get(kind, {}).get(str(value))
    return gettext_in(language, text) if text else str(value)


def _value(value: Any, language: str, zone: tzinfo | None) -> Any:
    if isinstance(value, datetime):
        day = formatting.long_date(value, zone, locale=language, with_year=False)
        return f"{day}, {formatting.time_of_day(value, zone, locale=language)}"
    if isinstance(value, date):
        return formatting.long_date(value, locale=language)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return formatting.format_number(value, language)
    return value


def word(message: Message, language: str = "fr", zone: tzinfo | None = None) -> str:
    """The pages' sentence for ``message`` in ``language`` (times read in ``zone``)."""
    template = SENTENCES.get(message.code)
    if template is None:  # a code without a sentence: a bug the catalogue test catches
        return str(message)
    values = {name: _value(value, language, zone) for name, value in message.values.items()}
    family = message.code.partition(".")[0] + "."
    for key in (family, message.code):
        shape = SHAPES.get(key)
        if shape is not None:
            shape(message.values, values, language, zone)
    if "status" in message.values:
        values["status"] = label("status", message.values["status"], language)
    for name in ("id", "post_id", "row", "part", "line"):  # numbers naming things, as they are
        if name in message.values:
            values[name] = message.values[name]
    return gettext_in(language, template).format(**values)


def _problems(
    given: Mapping[str, Any], values: dict[str, Any], language: str, zone: tzinfo | None
) -> None:
    """The problems of newsletter.checks_failed, each worded by this catalogue."""
    values["problems"] = " ".join(
        word_any(problem, language, zone) for _level, problem in given["problems"]
    )


SHAPES: dict[str, PageShape] = {
    **{key: shape for stage in _STAGES for key, shape in stage.SHAPES.items()},
    "newsletter.checks_failed": _problems,
}
"""How the values of a code (``"planner.shortened"``) or of a family (``"check."``) are worded."""


def word_any(item: Message | str, language: str = "fr", zone: tzinfo | None = None) -> str:
    """A message in the pages' words; a plain sentence (not yet a message) as it is."""
    return item if isinstance(item, str) else word(item, language, zone)
