"""The command line's words for the messages of the scheduling: times, periods and the planner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign.wording import CliShape

SENTENCES: dict[str, str] = {
    "schedule.time_past": "{at} ({zone}) is already past: give a time to come.",
    # periods (events list, planner)
    "period.end_before_start": "--to ({end}) is before --from ({start}).",
    # the planner
    "planner.bad_time": (
        "--times: {item!r} is not a time of day; write them like 09:00,12:30,17:30."
    ),
    "planner.template_too_long": (
        "Event {event} ({title!r}): template {template!r} gives a post of {length} characters "
        "as {network_name} counts them even with no hashtag and no title (at most {limit}): "
        "shorten the template."
    ),
    "planner.no_times": "--times: give at least one time of day, e.g. 09:00,12:30,17:30.",
    "planner.per_day_out_of_range": (
        "--per-day {per_day}: give between 1 and {most} (one post per time of --times; add "
        "times to post more often)."
    ),
    "planner.too_many_days": "Plan at most {days} days at once.",
    "planner.slot_past": "{slot}: already past, no post planned.",
    "planner.slot_taken": "{slot}: post {post_id} is already planned at that time.",
    "planner.theme_exhausted": (
        "{slot}: no event left on the day's theme {theme!r}; another theme is featured."
    ),
    "planner.no_event_left": (
        "{slot}: no event left to feature that day (all featured already, started or over by "
        "then, or none in the catalogue)."
    ),
    "planner.shortened": "Post {post_id} ({event}) shortened to fit: {details}.",
}


def _slot(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    if "slot" in given:
        values["slot"] = f"{given['slot']:%d/%m %H:%M}"


def _time_past(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    moment = given["at"]
    values.update(at=f"{moment:%d/%m/%Y %H:%M}", zone=moment.tzname())


def _details(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    values["details"] = "; ".join(given["details"])


SHAPES: dict[str, CliShape] = {
    "planner.": _slot,
    "schedule.time_past": _time_past,
    "planner.shortened": _details,
}
