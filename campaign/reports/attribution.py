"""Which newsletter a consent-log line came from: the convention every writer of the log follows.

An unsubscribe (or a bounce) caused by a newsletter is written to the consent log with
``source = newsletter_source(newsletter_id, delivery_id)``, i.e. ``"newsletter 7, delivery 42"``
(the sending queue already writes its bounces this way). The newsletters report counts, for each
newsletter, the distinct people whose ``unsubscribed`` line names it. Nothing else in the text is
read: anything may follow the delivery id after a comma
(``"newsletter 7, delivery 42, one-click"``).
"""

from __future__ import annotations

import re

SOURCE_PREFIX = "newsletter "
"""Every attributed source starts with this (the reports filter on it with ``LIKE``)."""

_SOURCE = re.compile(r"^newsletter (\d+)(?:,\s*delivery (\d+))?(?:,|$)")


def newsletter_source(newsletter_id: int, delivery_id: int | None = None) -> str:
    """The consent log ``source`` of an action taken through a newsletter (or one delivery)."""
    if delivery_id is None:
        return f"{SOURCE_PREFIX}{newsletter_id}"
    return f"{SOURCE_PREFIX}{newsletter_id}, delivery {delivery_id}"


def newsletter_of(source: str) -> int | None:
    """The newsletter a consent log ``source`` names, or None when it names none."""
    match = _SOURCE.match(source or "")
    return int(match.group(1)) if match else None


def delivery_of(source: str) -> int | None:
    """The delivery a consent log ``source`` names, or None."""
    match = _SOURCE.match(source or "")
    return int(match.group(2)) if match and match.group(2) else None
