"""What ``campaign posts …`` reads from its command line: dates and times, ``--set`` values,
images with their descriptions, an event, a thread file, a template's text."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Event
from campaign.social.compose import MissingValue, featured_context, render_post
from campaign.social.posts import thread_parts

_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S")


def parse_moment(text: str | None, option: str, settings: Settings) -> datetime | None:
    """A date and time from the command line, in the configured zone unless it names one."""
    if text is None:
        return None
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
        for fmt in _FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if moment is None:
        raise CampaignError(
            f"{option}: {text!r} is not a date and time; write 2026-11-05 09:30 or "
            "05/11/2026 09:30 (time in the configured zone)."
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.zone)


def pairs(values: list[str], option: str) -> dict[str, str]:
    """``NAME=VALUE`` options as a dict (the last value of a name wins)."""
    found = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise CampaignError(f"{option}: {value!r} is not NAME=VALUE.")
        found[key.strip()] = text
    return found


def images(paths: list[Path], alts: list[str]) -> list[dict[str, str]]:
    """The ``--image`` files, each with its ``--alt`` description."""
    if len(paths) != len(alts):
        raise CampaignError(
            f"Give one --alt (a description for people who cannot see it) per --image: "
            f"{len(paths)} image(s), {len(alts)} description(s)."
        )
    return [{"path": str(path), "alt": alt} for path, alt in zip(paths, alts, strict=True)]


def read_thread(path: Path) -> list[str]:
    """The parts of the thread file of ``--thread``."""
    try:
        return thread_parts(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignError(f"--thread: {path} does not exist.") from None
    except UnicodeDecodeError:
        raise CampaignError(f"--thread: {path} is not UTF-8 text.") from None


def template_text(
    template: str,
    values: list[str],
    featured: Event | None,
    scheduled_at: datetime | None,
    settings: Settings,
) -> str:
    """The text of ``--template``, filled with the event's fields and the ``--set`` values."""
    context = featured_context(featured, scheduled_at, settings.zone)
    context.update(pairs(values, "--set"))
    try:
        return render_post(template, context, settings)
    except MissingValue as exc:
        raise CampaignError(
            f"{exc} Pass it with --set NAME=VALUE (or --event ID for an event's fields)."
        ) from None


ImageOption = typer.Option(
    [], "--image", help="Image to attach (JPEG, PNG, WEBP, GIF); repeat for up to 4."
)
AltOption = typer.Option(
    [], "--alt", help="Description of each --image, in the same order (at most 1,000 characters)."
)
AtOption = typer.Option(
    None, "--at", help="Publication time, e.g. '2026-11-05 09:30' (configured zone)."
)
SplitOption = typer.Option(False, "--split", help="Cut a text too long for one post into a thread.")
