"""Texts of posts written from templates (``templates/posts/NAME.txt.j2``), in French.

A calendar entry may give its text directly or name a template; the recurring "events of the
day" rule always uses one, filled with the events chosen for each slot. Templates see the events
as stored (times in UTC) and format them with the filters of the newsletter templates:
``event_when`` (in the event's own zone, named when it is not the configured one), ``date_fr``
and ``time_fr`` (in the configured time zone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from campaign.errors import CampaignError
from campaign.formatting import date_filters
from campaign.resources import TemplateTree, template_tree

SUFFIX = ".txt.j2"


def post_template_folder(templates_dir: Path | str | None = None) -> TemplateTree:
    """Where post templates are looked up: ``<templates>/posts``, the user's first."""
    return template_tree(templates_dir) / "posts"


def known_post_templates(templates_dir: Path | str | None = None) -> list[str]:
    folder = post_template_folder(templates_dir)
    return sorted(path.name[: -len(SUFFIX)] for path in folder.glob(f"*{SUFFIX}"))


def has_post_template(name: str, templates_dir: Path | str | None = None) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name)) and post_template_folder(
        templates_dir
    ).is_file(f"{name}{SUFFIX}")


@lru_cache(maxsize=8)
def _environment(folder: TemplateTree, zone_name: str) -> jinja2.Environment:
    zone = ZoneInfo(zone_name)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder.search_path()),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(date_filters(zone, with_year=True))
    return env


def render_post(
    name: str,
    context: Mapping[str, Any],
    zone_name: str,
    templates_dir: Path | str | None = None,
) -> str:
    """The text of post template ``name`` for ``context``; blank lines collapsed, ends trimmed."""
    folder = post_template_folder(templates_dir)
    try:
        text = _environment(folder, zone_name).get_template(f"{name}{SUFFIX}").render(**context)
    except jinja2.TemplateNotFound:
        known = ", ".join(known_post_templates(templates_dir)) or "none"
        raise CampaignError(f"Unknown post template {name!r} (in {folder}: {known}).") from None
    except jinja2.TemplateSyntaxError as exc:
        raise CampaignError(
            f"Post template {exc.filename or name + SUFFIX}, line {exc.lineno}: {exc.message}"
        ) from None
    except jinja2.TemplateError as exc:
        raise CampaignError(f"Post template {name!r} cannot be filled: {exc}") from None
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
