"""A calendar's ``[[newsletter]]`` entries: their declared fields read, then what only the
templates, the blocks' files and the database can tell (a template's manifest, a list's
existence)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from campaign.addresses import InvalidEmail, sender_address
from campaign.audience.lists import require_list
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.newsletters.blocks import BlockError, check_blocks
from campaign.newsletters.manifest import ManifestError, load_manifest
from campaign.newsletters.records import EventRule, check_template
from campaign.newsletters.render import newsletter_folder
from campaign.scheduling.calendar.entries import NewsletterEntry
from campaign.scheduling.calendar.fields import Entry, moment


def read_newsletter(
    entry: Entry,
    settings: Settings,
    session: Session | None,
    now: datetime,
    folder: Path | None = None,
) -> NewsletterEntry | None:
    """The newsletter of ``entry``, or None when it has a problem (recorded on the entry)."""
    entry.unknown_fields()
    at = moment(entry, "at", settings, now)
    title = entry.value("title")
    subject = entry.value("subject")
    template = _template(entry)
    lists = _lists(entry, session)
    segment = entry.value("segment")
    rule = _event_rule(entry)
    texts = {name: entry.value(name) or "" for name in ("preheader", "from_name", "from_address")}
    if texts["from_address"]:
        try:
            texts["from_address"] = sender_address(texts["from_address"])
        except InvalidEmail as exc:
            entry.error(f"'from_address': {str(exc).rstrip('.')}", "from_address")
    content = _content(entry, template)
    blocks, block_images = _blocks(entry, settings, folder)
    anonymous = entry.value("anonymous_tracking")
    when_no_events, no_events_text = _when_no_events(entry)
    if entry.failed or entry.key is None:
        return None
    assert at and title and subject and template and lists is not None
    return NewsletterEntry(
        key=entry.key,
        line=entry.span[0],
        at=at,
        title=title,
        subject=subject,
        template=template,
        lists=lists,
        segment=segment or {},
        event_rule=rule or EventRule().to_json(entry.taxonomy),
        content=content,
        blocks=blocks,
        block_images=block_images,
        preheader=texts["preheader"],
        from_name=texts["from_name"],
        from_address=texts["from_address"],
        anonymous_tracking=bool(anonymous),
        when_no_events=when_no_events,
        no_events_text=no_events_text,
    )


def _template(entry: Entry) -> str | None:
    """The newsletter template's name, refused when no such template folder exists."""
    template: str | None = entry.value("template")
    if template is not None:
        try:
            template = check_template(template)
        except CampaignError as exc:
            entry.error(str(exc), "template")
    return template


def _lists(entry: Entry, session: Session | None) -> list[str] | None:
    """The lists it goes to, each found in the database when there is one."""
    lists: list[str] | None = entry.value("lists")
    if lists and session is not None:
        for name in lists:
            try:
                require_list(session, name)
            except CampaignError as exc:
                entry.error(str(exc), "lists")
    return lists


def _content(entry: Entry, template: str | None) -> dict[str, Any]:
    """The template's texts (``set``, ``intro``), checked against the template's manifest."""
    content: dict[str, Any] = entry.value("set") or {}
    intro = entry.value("intro")
    if intro:
        content["intro"] = intro
    if template is not None and not entry.failed:
        extra = entry.data.get("set", {})
        try:
            content = load_manifest(newsletter_folder(), template).check(content)
        except ManifestError as exc:
            entry.error(str(exc), *(("set", exc.key) if exc.key in extra else ("set",)))
    return content


def _blocks(
    entry: Entry, settings: Settings, folder: Path | None
) -> tuple[list[dict[str, Any]], list[Path]]:
    """The entry's ``blocks = [...]``, checked as the command line's ``--blocks`` file is (image
    paths from the calendar's folder); nothing copied yet."""
    raw = entry.data.get("blocks")
    if raw is None:
        return [], []
    images: list[Path] = []
    for block in raw if isinstance(raw, list) else ():
        if isinstance(block, dict) and block.get("type") == "image" and block.get("path"):
            path = Path(str(block["path"])).expanduser()
            images.append(path if path.is_absolute() or folder is None else folder / path)
    try:
        checked = check_blocks(
            raw,
            taxonomy=entry.taxonomy,
            media_dir=settings.dashboard.media_dir,
            base_dir=folder,
            copy=False,
        )
    except BlockError as exc:
        entry.error(f"'blocks': {exc}", "blocks")
        return [], []
    return checked, images


def _when_no_events(entry: Entry) -> tuple[str, str]:
    """What readers the rule finds no event for get, and the text shown to them with "text"."""
    choice = entry.value("when_no_events") or "national"
    raw = entry.data.get("no_events_text")
    text = entry.value("no_events_text") or ""
    # Missing, not refused above (a text that is not text or too long is said once).
    missing = raw is None or (isinstance(raw, str) and not raw.strip())
    if choice == "text" and missing:
        entry.error(
            'when_no_events = "text" needs the text readers without events get: '
            'no_events_text = "…"',
            "no_events_text" if "no_events_text" in entry.data else "when_no_events",
        )
    return choice, text


def _event_rule(entry: Entry) -> dict[str, Any] | None:
    """``events = { … }``: which events the newsletter shows, as stored with it."""
    rule = entry.table("events")
    if rule is None:
        return None
    rule.unknown_fields()
    first, last = rule.value("from"), rule.value("to")
    if first and last and last < first:
        entry.error("'events.to' is before 'events.from'", "events", "to")
        return None
    try:
        return EventRule(
            date_from=first,
            date_to=last,
            regions=rule.value("regions") or [],
            themes=rule.value("themes") or [],
            types=rule.value("types") or [],
            limit=rule.value("max"),
            order=rule.value("order") or "date",
        ).to_json(entry.taxonomy)
    except CampaignError as exc:
        entry.error(str(exc), "events")
        return None
