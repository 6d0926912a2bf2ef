"""Newsletter records: create, edit, find, and the audience a newsletter reaches.

Everything a person types is checked here, once, with a message saying what to do: unknown
lists, templates, regions and themes are refused at ``create``/``edit`` time rather than when
the newsletter is about to go out. The audience and the event selection are stored as rules and
applied on use (see :mod:`campaign.models.newsletters`): the event rule in :mod:`.event_rule`,
the audience in :mod:`.audience`, whose names are re-exported here so that callers see one module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from campaign.addresses import InvalidEmail, sender_address
from campaign.audience.lists import require_list
from campaign.errors import CampaignError
from campaign.models import MailingList, Newsletter, NewsletterStatus, WhenNoEvents, utcnow
from campaign.newsletters import allowed
from campaign.newsletters.audience import SEGMENT_COLUMNS, count_audience, iter_audience
from campaign.newsletters.event_rule import (
    SUBSCRIBER_REGION,
    EventRule,
    changed_rule,
    known_name,
    stored_rule,
)
from campaign.newsletters.manifest import COMMON_KEYS, TemplateManifest, load_manifest
from campaign.newsletters.render import HTML_TEMPLATE, newsletter_folder
from campaign.newsletters.send_checks import check_plannable, check_sendable
from campaign.taxonomy import Taxonomy

if TYPE_CHECKING:
    from campaign.config import Settings

__all__ = [
    "MAX_NO_EVENTS_TEXT",
    "SEGMENT_COLUMNS",
    "SUBSCRIBER_REGION",
    "WHEN_NO_EVENTS",
    "EventRule",
    "InvalidFromAddress",
    "check_template",
    "count_audience",
    "create_newsletter",
    "draft_no_events_choice",
    "duplicate_newsletter",
    "edit_newsletter",
    "from_address_of",
    "get_newsletter",
    "iter_audience",
    "list_names",
    "list_newsletters",
    "newsletter_json",
    "no_events_choice",
    "normalise_segment",
    "parse_pairs",
    "schedule_newsletter",
    "send_now",
    "stored_rule",
]

# What readers for whom the rule finds no event may get (see WhenNoEvents).
WHEN_NO_EVENTS = tuple(choice.value for choice in WhenNoEvents)
MAX_NO_EVENTS_TEXT = 2000


def parse_pairs(pairs: Sequence[str], field: str) -> dict[str, list[str]]:
    """``KEY=VALUE`` lines (or repeated options) as ``{key: [values…]}``; ``field`` is what
    they set ("segment", "content"), named in the message about a line that is not one."""
    result: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CampaignError.of("newsletter.bad_pair", field, pair=pair)
        result.setdefault(key.strip(), []).append(value.strip())
    return result


def normalise_segment(segment: Mapping[str, Sequence[str]], taxonomy: Taxonomy) -> dict[str, Any]:
    """A segment with canonical region names; every key maps to the accepted values."""
    result: dict[str, list[str]] = {}
    for key, values in segment.items():
        key = key.strip()
        if key == "region":
            values = [
                known_name(value, taxonomy.region, "region", taxonomy.regions, "segment.region")
                for value in values
            ]
        result[key] = [str(value) for value in values]
    return result


def no_events_choice(choice: str, text: str) -> tuple[str, str]:
    """What readers without events get, checked: the choice and its text (shown only with
    "text")."""
    choice = (choice or "").strip().lower()
    if choice not in WHEN_NO_EVENTS:
        raise CampaignError.of(
            "newsletter.unknown_when_no_events",
            "when_no_events",
            choice=choice,
            known=list(WHEN_NO_EVENTS),
        )
    text = (text or "").strip()
    if choice == WhenNoEvents.text and not text:
        raise CampaignError.of("newsletter.no_events_text_empty", "no_events_text")
    if len(text) > MAX_NO_EVENTS_TEXT:
        raise CampaignError.of(
            "newsletter.no_events_text_too_long",
            "no_events_text",
            length=len(text),
            limit=MAX_NO_EVENTS_TEXT,
        )
    return choice, text  # kept whatever the choice: switching back to "text" finds it again


def draft_no_events_choice(choice: str) -> str:
    """What readers without events get in a draft being typed (live counts, draft preview):
    the choice when it is one, else ``national``; nothing refused, nothing saved."""
    return choice if choice in WHEN_NO_EVENTS else WhenNoEvents.national


def check_template(name: str, templates_dir: Path | str | None = None) -> str:
    """``name`` if it is a newsletter template folder, else a message listing the known ones."""
    folder = newsletter_folder(templates_dir)
    name = name.strip()
    if name and not name.startswith(("_", ".")) and folder.is_file(f"{name}/{HTML_TEMPLATE}"):
        return name
    known = sorted(
        path.parent.name
        for path in folder.glob(f"*/{HTML_TEMPLATE}")
        if not path.parent.name.startswith("_")
    )
    raise CampaignError.of(
        "newsletter.unknown_template", "template", name=name, folder=folder, known=known or "none"
    )


def _list_ids(session: Session, names: Sequence[str]) -> list[int]:
    if not names:
        raise CampaignError.of("newsletter.no_list", "lists")
    ids: list[int] = []
    for name in names:
        list_id = require_list(session, name).id
        assert list_id is not None
        if list_id not in ids:
            ids.append(list_id)
    return ids


def _text(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise CampaignError.of("newsletter.empty_text", field)
    return value


class InvalidFromAddress(CampaignError):
    """A newsletter's own sender address that no message could carry (the dashboard shows it
    next to the field)."""


def from_address_of(value: str) -> str:
    """The sender address typed for a newsletter, checked; empty: the configured one.

    Checked now rather than when the newsletter goes out: an address no message can carry
    would otherwise fail every recipient of the send.
    """
    value = value.strip()
    if not value:
        return ""
    try:
        return sender_address(value)
    except InvalidEmail as exc:
        raise InvalidFromAddress(
            f"The from address: {str(exc).rstrip('.')}. Give an address such as "
            "lemois@lemois-ess.org, or none to use the configured sender."
        ) from None


def create_newsletter(
    session: Session,
    *,
    title: str,
    subject: str,
    template: str,
    list_names: Sequence[str],
    taxonomy: Taxonomy,
    preheader: str = "",
    from_name: str = "",
    from_address: str = "",
    segment: Mapping[str, Sequence[str]] | None = None,
    event_rule: EventRule | None = None,
    content: Mapping[str, Any] | None = None,
    blocks: Sequence[Mapping[str, Any]] | None = None,
    when_no_events: str = WhenNoEvents.national,
    no_events_text: str = "",
    anonymous_tracking: bool = False,
    actor: str = "",
    templates_dir: Path | str | None = None,
) -> Newsletter:
    """A new draft newsletter; raises :class:`CampaignError` on anything that would not work.

    ``content`` is checked against the template's manifest (see
    :mod:`campaign.newsletters.manifest`); ``blocks`` are already checked
    (:func:`campaign.newsletters.blocks.check_blocks`)."""
    choice, text = no_events_choice(when_no_events, no_events_text)
    template = check_template(template, templates_dir)
    manifest = load_manifest(newsletter_folder(templates_dir), template)
    content = manifest.check({k: v for k, v in (content or {}).items() if v not in ("", None)})
    newsletter = Newsletter(
        title=_text(title, "title"),
        subject=_text(subject, "subject"),
        template=template,
        list_ids=_list_ids(session, list_names),
        preheader=preheader.strip(),
        from_name=from_name.strip(),
        from_address=from_address_of(from_address),
        segment=normalise_segment(segment or {}, taxonomy),
        event_rule=(event_rule or EventRule()).to_json(taxonomy),
        content=dict(content),
        blocks=[dict(block) for block in blocks or ()],
        when_no_events=choice,
        no_events_text=text,
        anonymous_tracking=anonymous_tracking,
        created_by=actor,
    )
    session.add(newsletter)
    session.flush()
    return newsletter


def get_newsletter(session: Session, newsletter_id: int) -> Newsletter:
    newsletter = session.get(Newsletter, newsletter_id)
    if newsletter is None:
        raise CampaignError.of("newsletter.unknown", id=newsletter_id)
    return newsletter


def list_newsletters(session: Session, status: str | None = None) -> list[Newsletter]:
    statement = select(Newsletter).order_by(col(Newsletter.id))
    if status:
        statement = statement.where(Newsletter.status == status)
    return list(session.exec(statement).all())


def edit_newsletter(
    session: Session,
    newsletter_id: int,
    *,
    taxonomy: Taxonomy,
    templates_dir: Path | str | None = None,
    title: str | None = None,
    subject: str | None = None,
    template: str | None = None,
    list_names: Sequence[str] | None = None,
    preheader: str | None = None,
    from_name: str | None = None,
    from_address: str | None = None,
    segment: Mapping[str, Sequence[str]] | None = None,
    event_changes: Mapping[str, Any] | None = None,
    content: Mapping[str, Any] | None = None,
    blocks: Sequence[Mapping[str, Any]] | None = None,
    when_no_events: str | None = None,
    no_events_text: str | None = None,
    anonymous_tracking: bool | None = None,
) -> Newsletter:
    """Change what is given (None: unchanged). ``event_changes`` updates single rule fields
    (``date_from``, ``date_to``, ``regions``, ``themes``, ``types``, ``limit``, ``order``);
    ``content`` entries are merged, an empty value removing the entry, and checked against the
    template's manifest; a new template drops the stored entries it does not declare (the
    common ones, such as the intro, stay); ``blocks`` (checked) replace the body."""
    newsletter = get_newsletter(session, newsletter_id)
    allowed.check(newsletter, allowed.EDIT)
    old_template = newsletter.template
    _edit_fields(
        session,
        newsletter,
        taxonomy=taxonomy,
        templates_dir=templates_dir,
        title=title,
        subject=subject,
        template=template,
        list_names=list_names,
        preheader=preheader,
        from_name=from_name,
        from_address=from_address,
        segment=segment,
    )
    if event_changes:
        newsletter.event_rule = changed_rule(newsletter.event_rule, event_changes, taxonomy)
    manifest = load_manifest(newsletter_folder(templates_dir), newsletter.template)
    if newsletter.template != old_template:  # the old template's texts go with it
        newsletter.content = _kept_content(newsletter.content, manifest)
    if content:
        newsletter.content = _merged_content(newsletter.content, content, manifest)
    if content or template is not None:
        manifest.require(newsletter.content)
    if blocks is not None:
        newsletter.blocks = [dict(block) for block in blocks]
    if when_no_events is not None or no_events_text is not None:
        newsletter.when_no_events, newsletter.no_events_text = no_events_choice(
            newsletter.when_no_events if when_no_events is None else when_no_events,
            newsletter.no_events_text if no_events_text is None else no_events_text,
        )
    if anonymous_tracking is not None:
        newsletter.anonymous_tracking = anonymous_tracking
    newsletter.updated_at = utcnow()
    session.add(newsletter)
    session.flush()
    return newsletter


def _edit_fields(
    session: Session,
    newsletter: Newsletter,
    *,
    taxonomy: Taxonomy,
    templates_dir: Path | str | None,
    title: str | None,
    subject: str | None,
    template: str | None,
    list_names: Sequence[str] | None,
    preheader: str | None,
    from_name: str | None,
    from_address: str | None,
    segment: Mapping[str, Sequence[str]] | None,
) -> None:
    """Set the fields of :func:`edit_newsletter` given as one value (None: unchanged), each
    checked, in this order: the first one refused stops the edit."""
    if title is not None:
        newsletter.title = _text(title, "title")
    if subject is not None:
        newsletter.subject = _text(subject, "subject")
    if template is not None:
        newsletter.template = check_template(template, templates_dir)
    if list_names is not None:
        newsletter.list_ids = _list_ids(session, list_names)
    if preheader is not None:
        newsletter.preheader = preheader.strip()
    if from_name is not None:
        newsletter.from_name = from_name.strip()
    if from_address is not None:
        newsletter.from_address = from_address_of(from_address)
    if segment is not None:
        newsletter.segment = normalise_segment(segment, taxonomy)


def _kept_content(stored: Mapping[str, Any], manifest: TemplateManifest) -> dict[str, Any]:
    """The stored content a newly chosen template keeps: its own fields and the common ones."""
    return {
        key: value
        for key, value in (stored or {}).items()
        if key in COMMON_KEYS or manifest.field(key) is not None
    }


def _merged_content(
    stored: Mapping[str, Any], changes: Mapping[str, Any], manifest: TemplateManifest
) -> dict[str, Any]:
    """The stored content with ``changes`` checked and merged, an empty value removing its
    entry."""
    merged = dict(stored)
    for key, value in manifest.check(changes, complete=False).items():
        if value in ("", None):
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def duplicate_newsletter(session: Session, newsletter_id: int, *, actor: str = "") -> Newsletter:
    """A new draft with everything of newsletter ``newsletter_id`` but its time and results:
    same texts, blocks, template, lists, segment and event rule; no schedule, no sending, no
    calendar entry (the copy is the person's own, the calendar never overwrites it)."""
    source = get_newsletter(session, newsletter_id)
    copy = Newsletter(
        title=source.title,
        subject=source.subject,
        preheader=source.preheader,
        from_name=source.from_name,
        from_address=source.from_address,
        template=source.template,
        list_ids=list(source.list_ids or []),
        segment=dict(source.segment or {}),
        event_rule=dict(source.event_rule or {}),
        content=dict(source.content or {}),
        blocks=[dict(block) for block in source.blocks or []],
        when_no_events=source.when_no_events,
        no_events_text=source.no_events_text,
        anonymous_tracking=source.anonymous_tracking,
        created_by=actor,
    )
    session.add(copy)
    session.flush()
    return copy


def schedule_newsletter(
    session: Session,
    newsletter_id: int,
    when: datetime,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> Newsletter:
    """Set the time a newsletter goes out: the row (``scheduled`` + ``scheduled_at``) is the
    schedule, armed by the running service (``campaign serve``) within its poll interval.

    Only with a sender it may go out from (:func:`.send_checks.check_plannable`), only a draft,
    scheduled or missed newsletter, and only for a time still to come: a time already past
    would be sent at once or marked missed, never what the person meant.
    """
    newsletter = get_newsletter(session, newsletter_id)
    check_plannable(session, newsletter, settings)
    allowed.check(newsletter, allowed.MOVE)
    if when.tzinfo is None:
        raise CampaignError("The sending time must carry a time zone.")
    if when <= (now or utcnow()):
        raise CampaignError.of("schedule.time_past", "at", at=when)
    newsletter.scheduled_at = when
    newsletter.status = NewsletterStatus.scheduled
    newsletter.status_reason = ""
    newsletter.updated_at = utcnow()
    session.add(newsletter)
    session.flush()
    return newsletter


def send_now(
    session: Session, newsletter_id: int, *, settings: Settings, now: datetime | None = None
) -> Newsletter:
    """Schedule a newsletter for this very moment: the running service (``campaign serve``)
    sends it within its poll interval, by the same path as any scheduled newsletter.

    That path claims the row once (``scheduled`` → sending), so asking twice sends once; a
    newsletter already sending, paused, sent or cancelled is refused, and so is one the send
    would refuse (:func:`.send_checks.check_sendable`).
    """
    newsletter = get_newsletter(session, newsletter_id)
    check_sendable(session, newsletter, settings)
    newsletter.scheduled_at = now or utcnow()
    newsletter.status = NewsletterStatus.scheduled
    newsletter.status_reason = ""
    newsletter.updated_at = utcnow()
    session.add(newsletter)
    session.flush()
    return newsletter


def list_names(session: Session, newsletter: Newsletter) -> list[str]:
    if not newsletter.list_ids:
        return []
    rows = session.exec(
        select(MailingList.id, MailingList.name).where(col(MailingList.id).in_(newsletter.list_ids))
    ).all()
    names = dict(rows)
    return [names.get(list_id, f"(deleted list {list_id})") for list_id in newsletter.list_ids]


def newsletter_json(session: Session, newsletter: Newsletter, settings: Settings) -> dict[str, Any]:
    """One newsletter as stable JSON keys (times in ISO 8601, UTC)."""
    return {
        "id": newsletter.id,
        "title": newsletter.title,
        "subject": newsletter.subject,
        "preheader": newsletter.preheader,
        "from_name": newsletter.from_name or settings.mail.from_name,
        "from_address": newsletter.from_address or settings.mail.from_address,
        "template": newsletter.template,
        "lists": list_names(session, newsletter),
        "segment": newsletter.segment,
        "events": newsletter.event_rule,
        "content": newsletter.content,
        "blocks": newsletter.blocks,
        "when_no_events": newsletter.when_no_events,
        "no_events_text": newsletter.no_events_text,
        "status": newsletter.status,
        "scheduled_at": newsletter.scheduled_at.isoformat() if newsletter.scheduled_at else None,
        "created_by": newsletter.created_by,
        "created_at": newsletter.created_at.isoformat(),
        "updated_at": newsletter.updated_at.isoformat(),
    }
