"""Reading and checking a campaign calendar (``schedules/NAME.toml``): the names other modules
use, gathered from the modules that hold them.

- :mod:`~campaign.scheduling.calendar.entries`: what a checked calendar holds, its problems;
- :mod:`~campaign.scheduling.calendar.schema`: the fields each entry takes, declared once, with
  the types of :mod:`~campaign.scheduling.calendar.values` (each with the words of its refusal);
- :mod:`~campaign.scheduling.calendar.fields`: an entry read against them, problems at their line;
- :mod:`~campaign.scheduling.calendar.newsletters`, :mod:`~campaign.scheduling.calendar.posts`,
  :mod:`~campaign.scheduling.calendar.rules`: each kind of entry, with the checks that need the
  configuration, the database or the files;
- :mod:`~campaign.scheduling.calendar.reader`: the whole file (:func:`read_calendar`).
"""

from __future__ import annotations

from campaign.scheduling.calendar.entries import (
    Calendar,
    Level,
    NewsletterEntry,
    PostEntry,
    Problem,
    RecurringEntry,
    calendar_files,
    problem_at,
)
from campaign.scheduling.calendar.reader import read_calendar
from campaign.scheduling.calendar.schema import KINDS, RECURRING_KINDS
from campaign.scheduling.calendar.values import MAX_ALT, MAX_IMAGES, MAX_PER_POST

__all__ = [
    "KINDS",
    "MAX_ALT",
    "MAX_IMAGES",
    "MAX_PER_POST",
    "RECURRING_KINDS",
    "Calendar",
    "Level",
    "NewsletterEntry",
    "PostEntry",
    "Problem",
    "RecurringEntry",
    "calendar_files",
    "problem_at",
    "read_calendar",
]
