"""Reading and checking a campaign calendar (``schedules/NAME.toml``): the names other modules
use, gathered from the modules that hold them.

- :mod:`~campaign.scheduling.calendar_entries`: what a checked calendar holds, its problems;
- :mod:`~campaign.scheduling.calendar_schema`: the fields each entry takes, declared once, with
  the types of :mod:`~campaign.scheduling.calendar_values` (each with the words of its refusal);
- :mod:`~campaign.scheduling.calendar_fields`: an entry read against them, problems at their line;
- :mod:`~campaign.scheduling.calendar_newsletters`, :mod:`~campaign.scheduling.calendar_posts`,
  :mod:`~campaign.scheduling.calendar_rules`: each kind of entry, with the checks that need the
  configuration, the database or the files;
- :mod:`~campaign.scheduling.calendar_reader`: the whole file (:func:`read_calendar`).
"""

from __future__ import annotations

from campaign.scheduling.calendar_entries import (
    Calendar,
    Level,
    NewsletterEntry,
    PostEntry,
    Problem,
    RecurringEntry,
    calendar_files,
    problem_at,
)
from campaign.scheduling.calendar_reader import read_calendar
from campaign.scheduling.calendar_schema import KINDS, RECURRING_KINDS
from campaign.scheduling.calendar_values import MAX_ALT, MAX_IMAGES, MAX_PER_POST

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
