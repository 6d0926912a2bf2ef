"""The pages' words for the messages of the scheduling: times, periods and the planner."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from campaign.i18n import N_
from campaign.wording import PageShape

SENTENCES: dict[str, str] = {
    "schedule.time_past": N_("{at} is already past: choose a time to come."),
    # periods
    "period.end_before_start": N_(
        "The end date ({end}) is before the start date ({start}): choose an end date on or "
        "after the start date."
    ),
    # the planner
    "planner.bad_time": N_(
        "“{item}” is not a time of day: write the times like 09:00, 12:30, 17:30."
    ),
    "planner.template_too_long": N_(
        "The post template “{template}” gives, for the event “{title}”, a post of {length} "
        "characters as {network_name} counts them, even without hashtags or title (at most "
        "{limit}): shorten the template."
    ),
    "planner.no_times": N_("Give at least one time of day, for example 09:00, 12:30, 17:30."),
    "planner.per_day_out_of_range": N_(
        "Choose between 1 and {most} posts a day (one per time of day; add times to post more "
        "often)."
    ),
    "planner.too_many_days": N_("Plan at most {days} days at once."),
    "planner.slot_past": N_("{slot}: this time is already past, no post planned."),
    "planner.slot_taken": N_("{slot}: post {post_id} is already planned at that time."),
    "planner.theme_exhausted": N_(
        "{slot}: no event left on the day's theme “{theme}”; another theme is featured."
    ),
    "planner.no_event_left": N_(
        "{slot}: no event left to feature that day (all featured already, started or over by "
        "then, or none in the catalogue)."
    ),
    "planner.shortened": N_("Post {post_id} ({event}) was shortened to fit: {details}."),
}


def _details(
    given: Mapping[str, Any], values: dict[str, Any], language: str, zone: tzinfo | None
) -> None:
    values["details"] = "; ".join(given["details"])


SHAPES: dict[str, PageShape] = {"planner.shortened": _details}
