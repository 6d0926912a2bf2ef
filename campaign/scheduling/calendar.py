"""Reading and checking a campaign calendar (``schedules/NAME.toml``).

A calendar declares the newsletters (``[[newsletter]]``), posts (``[[post]]``) and recurring
rules (``[[recurring]]``) of a campaign, each with a stable ``key``. Times are TOML local
date-times read in ``[general] timezone`` (or offset date-times, taken as they are).

Every problem names the file, the line and the entry: ``tomllib`` gives no positions, so
:class:`SourceMap` finds the n-th ``[[post]]`` header of the text and the line of a field
inside that entry's range. Checking never writes anything; :func:`read_calendar` with a session
also checks what only the database knows (lists), and given ``limits`` the posts' lengths against
each account's own limit (a Mastodon instance's, read by a metrics sync).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlmodel import Session

from campaign.addresses import InvalidEmail, sender_address
from campaign.audience.lists import require_list
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.events.catalogue import ORDERS
from campaign.models import utcnow
from campaign.newsletters.blocks import BlockError, check_blocks
from campaign.newsletters.manifest import ManifestError, load_manifest
from campaign.newsletters.records import (
    MAX_NO_EVENTS_TEXT,
    WHEN_NO_EVENTS,
    EventRule,
    check_template,
    normalise_segment,
)
from campaign.newsletters.render import newsletter_folder
from campaign.scheduling import timing
from campaign.scheduling.tomlsource import SourceMap
from campaign.social.compose import MissingValue, has_template, render_post, template_names
from campaign.social.length import (
    NO_THREADS,
    check_length,
    join_thread,
    limit_for,
    split_thread,
)
from campaign.social.limits import SET_BY_SERVER
from campaign.social.media import check_image
from campaign.social.networks import network_of
from campaign.taxonomy import Taxonomy

Level = Literal["error", "warning"]
KINDS = ("newsletter", "post", "recurring")
RECURRING_KINDS = ("event-posts", "sync-metrics")
MAX_IMAGES = 4
MAX_ALT = 1000
MAX_PER_POST = 4
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

NEWSLETTER_FIELDS = (
    "key",
    "blocks",
    "at",
    "title",
    "subject",
    "template",
    "lists",
    "segment",
    "events",
    "preheader",
    "intro",
    "set",
    "from_name",
    "from_address",
    "anonymous_tracking",
    "when_no_events",
    "no_events_text",
)
EVENT_RULE_FIELDS = ("from", "to", "regions", "themes", "types", "max", "order")
POST_FIELDS = (
    "key",
    "account",
    "accounts",
    "at",
    "text",
    "texts",
    "split",
    "thread",
    "template",
    "vars",
    "images",
)
RECURRING_FIELDS = {
    "event-posts": (
        "key",
        "kind",
        "account",
        "accounts",
        "from",
        "to",
        "days",
        "times",
        "template",
        "per_post",
        "regions",
        "themes",
        "types",
    ),
    "sync-metrics": ("key", "kind", "account", "from", "to", "days", "times"),
}
CALENDAR_FIELDS = ("name", "description")


# --- problems and where they are ---------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong (``error``: the file is refused) or worth a look (``warning``)."""

    level: Level
    path: Path
    line: int
    where: str
    message: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.path}:{self.line}:{where} {self.message}"


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


# --- what a calendar holds, once checked -------------------------------------------------------


@dataclass
class NewsletterEntry:
    key: str
    line: int
    at: datetime  # UTC
    title: str
    subject: str
    template: str
    lists: list[str]
    segment: dict[str, Any]
    event_rule: dict[str, Any]
    content: dict[str, Any]
    blocks: list[dict[str, Any]] = field(default_factory=list)
    # The image files its blocks name, copied into the media folder by the sync.
    block_images: list[Path] = field(default_factory=list)
    preheader: str = ""
    from_name: str = ""
    from_address: str = ""
    anonymous_tracking: bool = False
    when_no_events: str = "national"
    no_events_text: str = ""


@dataclass
class PostEntry:
    """A one-off post for ``account`` and, with ``accounts = [...]``, for each account of
    ``others`` too: every account gets its own post, with its own words (``texts``) checked by
    its own network's rules."""

    key: str
    line: int
    account: str
    at: datetime  # UTC
    text: str
    parts: list[str]
    images: list[dict[str, str]] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    template: str = ""  # with event_ids: the template the text was generated from
    # The other accounts of the entry, in the file's order: (text, parts) of each.
    others: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    @property
    def accounts(self) -> list[str]:
        return [self.account, *self.others]

    def targets(self) -> list[tuple[str, str, list[str]]]:
        """(account, text, parts) of each post the entry makes, the first account first."""
        return [
            (self.account, self.text, self.parts),
            *((name, text, parts) for name, (text, parts) in self.others.items()),
        ]


@dataclass
class RecurringEntry:
    key: str
    line: int
    kind: str
    times: list[time]
    days: list[int]  # weekdays, Monday = 0
    date_from: date | None = None
    date_to: date | None = None
    account: str | None = None  # the first of ``accounts``
    accounts: list[str] = field(default_factory=list)  # event-posts: one post per account
    template: str = ""
    per_post: int = 1
    regions: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)

    def spec(self) -> dict[str, Any]:
        """What is stored for a recurring job (JSON)."""
        return {
            "days": list(self.days),
            "times": [f"{clock:%H:%M}" for clock in self.times],
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "account": self.account,
        }


@dataclass
class Calendar:
    path: Path
    newsletters: list[NewsletterEntry] = field(default_factory=list)
    posts: list[PostEntry] = field(default_factory=list)
    recurring: list[RecurringEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    source: SourceMap | None = None
    name: str = ""  # the calendar's name in schedule keys; empty: the file's stem

    @property
    def stem(self) -> str:
        return self.name or self.path.stem

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.level == "warning"]

    def schedule_key(self, key: str) -> str:
        return f"{self.stem}/{key}"


def calendar_files(path: Path) -> list[Path]:
    """The calendars at ``path``: the file itself, or every ``*.toml`` of the folder."""
    if path.is_dir():
        files = sorted(path.glob("*.toml"))
        if not files:
            raise CampaignError(f"No calendar (*.toml) in {path}.")
        return files
    if path.is_file():
        return [path]
    raise CampaignError(f"No calendar at {path}: give a .toml file or a folder of them.")


# --- checking one entry -------------------------------------------------------------------------


class _Entry:
    """One entry being checked: reads its fields and records problems at their lines."""

    def __init__(
        self,
        calendar: Calendar,
        kind: str,
        data: Mapping[str, Any],
        span: tuple[int, int],
        number: int,
    ) -> None:
        self.calendar = calendar
        self.kind = kind
        self.data = data
        self.span = span
        key = data.get("key")
        self.key = key if isinstance(key, str) else None
        self.where = f"{kind} {self.key!r}" if self.key else f"{kind} #{number}"
        self.failed = False

    def line(self, *path: str) -> int:
        assert self.calendar.source is not None
        return self.calendar.source.field_line(self.kind, self.span, path)

    def error(self, message: str, *path: str) -> None:
        self.failed = True
        self.calendar.problems.append(
            Problem("error", self.calendar.path, self.line(*path), self.where, message)
        )

    def warning(self, message: str, *path: str) -> None:
        self.calendar.problems.append(
            Problem("warning", self.calendar.path, self.line(*path), self.where, message)
        )

    def unknown_fields(
        self, allowed: Sequence[str], table: Mapping[str, Any] | None = None, prefix: str = ""
    ) -> None:
        for name in table if table is not None else self.data:
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                where = (prefix, name) if prefix else (name,)
                known = ", ".join(allowed)
                self.error(
                    f"unknown field '{prefix + '.' if prefix else ''}{name}'{hint}; "
                    f"a {self.kind} takes: {known}",
                    *where,
                )

    def text(self, name: str, *, required: bool = False, limit: int | None = None) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.error(f"'{name}' is missing")
            return None
        if not isinstance(value, str):
            self.error(f"'{name}' must be text, in quotes", name)
            return None
        value = value.strip()
        if required and not value:
            self.error(f"'{name}' is empty", name)
            return None
        if limit and len(value) > limit:
            self.error(f"'{name}' is {len(value)} characters long (at most {limit})", name)
            return None
        return value

    def names(self, name: str, *, required: bool = False) -> list[str] | None:
        """A name or a list of names."""
        value = self.data.get(name)
        if value is None:
            if required:
                self.error(f"'{name}' is missing")
            return None if required else []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.error(f"'{name}' must be a name or a list of names, in quotes", name)
            return None
        names = [item.strip() for item in value if item.strip()]
        if required and not names:
            self.error(f"'{name}' is empty", name)
            return None
        return names

    def moment(self, name: str, settings: Settings, now: datetime) -> datetime | None:
        """A required date and time: local (read in the configured zone) or with an offset."""
        value = self.data.get(name)
        if value is None:
            self.error(f"'{name}' is missing (e.g. {name} = 2026-11-05 09:30:00)")
            return None
        if isinstance(value, str):
            self.error(
                f"'{name}' must be a TOML date and time without quotes, e.g. "
                f"{name} = 2026-11-05 09:30:00 (got the text {value!r})",
                name,
            )
            return None
        if not isinstance(value, datetime):
            if isinstance(value, date):
                self.error(f"'{name}' needs a time too, e.g. {name} = {value} 09:30:00", name)
            else:
                self.error(f"'{name}' must be a date and time, e.g. 2026-11-05 09:30:00", name)
            return None
        try:
            moment = timing.to_utc(value, settings.zone)
        except timing.LocalTimeError as exc:
            self.error(str(exc), name)
            return None
        if moment < now:
            grace = timedelta(seconds=settings.scheduler.misfire_grace)
            shown = value if value.tzinfo is None else moment.astimezone(settings.zone)
            later = (
                "sync does not create past entries"
                if moment < now - grace
                else "it goes out as soon as the service sees it"
            )
            self.warning(f"{name} {shown:%Y-%m-%d %H:%M} is in the past ({later})", name)
        return moment

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.error(f"'{name}' is missing (e.g. {name} = 2026-11-02)")
            return None
        if isinstance(value, datetime) or not isinstance(value, date):
            self.error(f"'{name}' must be a date without quotes, e.g. {name} = 2026-11-02", name)
            return None
        return value


def _json_value(value: Any) -> bool:
    if isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(_json_value(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _json_value(item) for key, item in value.items())
    return False


def _check_key(entry: _Entry, seen: dict[tuple[str, str], int]) -> str | None:
    """The entry's key, if well formed and not used by another entry of the same kind."""
    key = entry.data.get("key")
    if key is None:
        entry.error("'key' is missing: give every entry a stable key, e.g. key = \"ouverture\"")
        return None
    if not isinstance(key, str) or not _KEY.match(key):
        entry.error(
            "'key' must be letters, digits, '-', '_' or '.' (at most 100), e.g. \"ouverture\"",
            "key",
        )
        return None
    if (entry.kind, key) in seen:
        line = seen[(entry.kind, key)]
        entry.error(f"key {key!r} is already used by the {entry.kind} at line {line}", "key")
        return None
    seen[(entry.kind, key)] = entry.span[0]
    return key


# --- newsletters -------------------------------------------------------------------------------


def _newsletter(
    entry: _Entry,
    settings: Settings,
    taxonomy: Taxonomy,
    session: Session | None,
    now: datetime,
    folder: Path | None = None,
) -> NewsletterEntry | None:
    entry.unknown_fields(NEWSLETTER_FIELDS)
    at = entry.moment("at", settings, now)
    title = entry.text("title", required=True, limit=300)
    subject = entry.text("subject", required=True, limit=500)
    template = entry.text("template", required=True)
    if template is not None:
        try:
            template = check_template(template)
        except CampaignError as exc:
            entry.error(str(exc), "template")
    lists = entry.names("lists", required=True)
    if lists and session is not None:
        for name in lists:
            try:
                require_list(session, name)
            except CampaignError as exc:
                entry.error(str(exc), "lists")
    segment = _segment(entry, taxonomy)
    rule = _event_rule(entry, taxonomy)
    texts = {
        name: entry.text(name, limit=500) or ""
        for name in ("preheader", "from_name", "from_address")
    }
    if texts["from_address"]:
        try:
            texts["from_address"] = sender_address(texts["from_address"])
        except InvalidEmail as exc:
            entry.error(f"'from_address': {str(exc).rstrip('.')}", "from_address")
    content: dict[str, Any] = {}
    extra = entry.data.get("set", {})
    if not isinstance(extra, dict):
        entry.error(
            "'set' must be a table of template texts, e.g. set = { action_url = \"…\" }", "set"
        )
    else:
        for name, value in extra.items():
            if not _json_value(value):
                entry.error(
                    f"'set.{name}' must be text, a number, true/false or a list or table of "
                    "those (write dates as text)",
                    "set",
                    name,
                )
            else:
                content[name] = value
    intro = entry.text("intro")
    if intro:
        content["intro"] = intro
    if template is not None and not entry.failed:
        try:
            content = load_manifest(newsletter_folder(), template).check(content)
        except ManifestError as exc:
            entry.error(str(exc), *(("set", exc.key) if exc.key in extra else ("set",)))
    blocks, block_images = _blocks(entry, settings, taxonomy, folder)
    anonymous = entry.data.get("anonymous_tracking", False)
    if not isinstance(anonymous, bool):
        entry.error("'anonymous_tracking' must be true or false", "anonymous_tracking")
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
        event_rule=rule or EventRule().to_json(taxonomy),
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


def _blocks(
    entry: _Entry, settings: Settings, taxonomy: Taxonomy, folder: Path | None
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
            taxonomy=taxonomy,
            media_dir=settings.dashboard.media_dir,
            base_dir=folder,
            copy=False,
        )
    except BlockError as exc:
        entry.error(f"'blocks': {exc}", "blocks")
        return [], []
    return checked, images


def _when_no_events(entry: _Entry) -> tuple[str, str]:
    """What readers the rule finds no event for get, and the text shown to them with "text"."""
    choice = entry.text("when_no_events") or "national"
    if choice not in WHEN_NO_EVENTS:
        entry.error(
            f"'when_no_events' must be one of {', '.join(repr(c) for c in WHEN_NO_EVENTS)} "
            f"(got {choice!r})",
            "when_no_events",
        )
    raw = entry.data.get("no_events_text")
    text = entry.text("no_events_text", limit=MAX_NO_EVENTS_TEXT) or ""
    # Missing, not refused above (a text that is not text or too long is said once).
    missing = raw is None or (isinstance(raw, str) and not raw.strip())
    if choice == "text" and missing:
        entry.error(
            'when_no_events = "text" needs the text readers without events get: '
            'no_events_text = "…"',
            "no_events_text" if "no_events_text" in entry.data else "when_no_events",
        )
    return choice, text


def _segment(entry: _Entry, taxonomy: Taxonomy) -> dict[str, Any] | None:
    raw = entry.data.get("segment", {})
    if not isinstance(raw, dict):
        entry.error(
            "'segment' must be a table, e.g. segment = { region = \"Bretagne\" }", "segment"
        )
        return None
    values: dict[str, list[str]] = {}
    for name, value in raw.items():
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            entry.error(f"'segment.{name}' must be a name or a list of names", "segment", name)
            continue
        values[name] = items
    try:
        return normalise_segment(values, taxonomy)
    except CampaignError as exc:
        entry.error(str(exc), "segment")
        return None


def _event_rule(entry: _Entry, taxonomy: Taxonomy) -> dict[str, Any] | None:
    raw = entry.data.get("events", {})
    if not isinstance(raw, dict):
        entry.error(
            "'events' must be a table, e.g. events = { from = 2026-11-02, to = … }", "events"
        )
        return None
    entry.unknown_fields(EVENT_RULE_FIELDS, raw, "events")
    bounds: dict[str, date | None] = {}
    for name in ("from", "to"):
        value = raw.get(name)
        if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
            entry.error(
                f"'events.{name}' must be a date without quotes, e.g. 2026-11-02", "events", name
            )
            value = None
        bounds[name] = value
    if bounds["from"] and bounds["to"] and bounds["to"] < bounds["from"]:
        entry.error("'events.to' is before 'events.from'", "events", "to")
        return None
    lists: dict[str, list[str]] = {}
    for name in ("regions", "themes", "types"):
        value = raw.get(name, [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            entry.error(f"'events.{name}' must be a list of names", "events", name)
            value = []
        lists[name] = value
    limit = raw.get("max")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        entry.error("'events.max' must be a whole number of at least 1", "events", "max")
        limit = None
    order = raw.get("order", "date")
    if order not in ORDERS:
        entry.error(f"'events.order' must be one of {', '.join(ORDERS)}", "events", "order")
        order = "date"
    try:
        return EventRule(
            date_from=bounds["from"],
            date_to=bounds["to"],
            regions=lists["regions"],
            themes=lists["themes"],
            types=lists["types"],
            limit=limit,
            order=order,
        ).to_json(taxonomy)
    except CampaignError as exc:
        entry.error(str(exc), "events")
        return None


# --- posts -------------------------------------------------------------------------------------


def _account(entry: _Entry, settings: Settings, *, required: bool) -> str | None:
    account = entry.text("account", required=required)
    if account is None:
        return None
    if account not in settings.social.accounts:
        known = ", ".join(sorted(settings.social.accounts)) or "none"
        entry.error(
            f"unknown account {account!r} (accounts in [social.accounts]: {known})", "account"
        )
        return None
    return account


def _accounts(entry: _Entry, settings: Settings, *, required: bool) -> list[str] | None:
    """``account = "…"`` or ``accounts = ["…", "…"]`` (never both): the entry's accounts, each
    configured and named once."""
    if "accounts" not in entry.data:
        account = _account(entry, settings, required=required)
        return [account] if account else None
    if "account" in entry.data:
        entry.error(
            "give either 'account' (one account) or 'accounts' (a list), not both", "accounts"
        )
        return None
    raw = entry.data["accounts"]
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(name, str) and name.strip() for name in raw)
    ):
        entry.error(
            "'accounts' must be a list of account names, e.g. accounts = [\"mois_ess\", "
            '"mois_ess_bsky"]',
            "accounts",
        )
        return None
    names: list[str] = []
    known = ", ".join(sorted(settings.social.accounts)) or "none"
    for name in (name.strip() for name in raw):
        if name in names:
            entry.error(f"'accounts': {name!r} is named twice", "accounts")
        elif name not in settings.social.accounts:
            entry.error(
                f"'accounts': unknown account {name!r} (accounts in [social.accounts]: {known})",
                "accounts",
            )
        else:
            names.append(name)
    return names if len(names) == len(raw) else None


_COUNTING = {
    "x": ("X", "a link counts 23, an emoji 2"),
    "mastodon": ("Mastodon", "a link counts 23, an emoji 1"),
    "bluesky": ("Bluesky", "a link counts in full, an emoji 1"),
    "linkedin": ("LinkedIn", "a link counts in full, an emoji 1 or 2"),
}


def _fits(
    entry: _Entry,
    text: str,
    where: str,
    *path: str,
    network: str = "x",
    limit: int | None = None,
) -> bool:
    """Whether ``text`` is one post as ``network`` counts it (``limit``: the account's server's
    own, when known), the refusal recorded at ``path`` otherwise."""
    length, valid = check_length(text, network, limit)
    if not valid:
        name, note = _COUNTING.get(network, _COUNTING["x"])
        entry.error(
            f"{where} is {length} characters long as {name} counts them (at most "
            f"{limit_for(network, limit)}; {note}): shorten it, cut it into 'thread' parts, or "
            "add split = true",
            *path,
        )
    return valid


Words = str | list[str]  # a text, or the parts of a thread written by hand


def _base_words(entry: _Entry, settings: Settings, covered: bool) -> tuple[str, Words] | None:
    """The entry's own words and the field they come from (``text``, ``thread`` or
    ``template``); none is needed when ``texts`` gives every account its words (``covered``)."""
    given = [name for name in ("text", "thread", "template") if name in entry.data]
    if len(given) > 1 or (not given and not covered):
        entry.error(
            "give the post's words in exactly one of 'text', 'thread' (a list of posts) or "
            f"'template' (found {', '.join(given) or 'none'}); 'texts' may give an account "
            "its own",
            *(given[1:2] or ()),
        )
        return None
    if not given:
        return None
    if given[0] == "thread":
        thread = _thread(entry, entry.data["thread"], "'thread'", "thread")
        return ("thread", thread) if thread else None
    if given[0] == "text":
        text = entry.text("text", required=True) or ""
    else:
        text = _post_from_template(entry, settings)
    return (given[0], text) if text else None


def _thread(entry: _Entry, value: Any, what: str, *path: str) -> list[str] | None:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(part, str) and part.strip() for part in value)
    ):
        entry.error(f"{what} must be a list of non-empty texts, one per post", *path)
        return None
    return [part.strip() for part in value]


def _texts(entry: _Entry, accounts: Sequence[str]) -> dict[str, Words]:
    """``texts = { mois_ess_bsky = "…" }``: an account's own words (a text, or a list of
    parts: a thread), instead of the entry's."""
    raw = entry.data.get("texts", {})
    if not isinstance(raw, dict):
        entry.error(
            "'texts' must be a table of words per account, e.g. texts = { mois_ess_bsky = \"…\" }",
            "texts",
        )
        return {}
    words: dict[str, Words] = {}
    for name, value in raw.items():
        if accounts and name not in accounts:
            entry.error(
                f"'texts.{name}': {name!r} is not one of the post's accounts "
                f"({', '.join(accounts) or 'none'})",
                "texts",
                name,
            )
        elif isinstance(value, str) and value.strip():
            words[name] = value.strip()
        elif isinstance(value, list):
            thread = _thread(entry, value, f"'texts.{name}'", "texts", name)
            if thread:
                words[name] = thread
        else:
            entry.error(
                f"'texts.{name}' must be a text in quotes, or a list of texts (a thread)",
                "texts",
                name,
            )
    return words


def _words_for(
    entry: _Entry,
    words: Words,
    split: bool,
    network: str,
    where: str,
    path: tuple[str, ...],
    limit: int | None = None,
) -> tuple[str, list[str]] | None:
    """(text, parts) of one account's post, its words checked by its network's rules
    (``limit``: the account's server's own, when known)."""
    rules: dict[str, Any] = {"network": network, "limit": limit}
    if isinstance(words, list) and network in NO_THREADS:  # LinkedIn: one post, checked whole
        parts = join_thread(words, network)
        where = f"the thread{where}, one post there"
        return (parts[0], parts) if _fits(entry, parts[0], where, *path, **rules) else None
    if isinstance(words, list):
        fits = [
            _fits(entry, part, f"part {number} of the thread{where}", *path, **rules)
            for number, part in enumerate(words, 1)
        ]
        return ("\n\n".join(words), list(words)) if all(fits) else None
    if split:
        return words, split_thread(words, network, limit)
    if _fits(entry, words, f"the text{where}", *path, **rules):
        return words, [words]
    return None


def _post(
    entry: _Entry,
    settings: Settings,
    now: datetime,
    folder: Path,
    limits: Mapping[str, int] | None = None,
) -> PostEntry | None:
    entry.unknown_fields(POST_FIELDS)
    accounts = _accounts(entry, settings, required=True) or []
    at = entry.moment("at", settings, now)
    split = entry.data.get("split", False)
    if not isinstance(split, bool):
        entry.error("'split' must be true or false", "split")
        split = False
    own = _texts(entry, accounts)
    base = _base_words(entry, settings, covered=bool(accounts) and set(accounts) <= set(own))
    targets: dict[str, tuple[str, list[str]]] = {}
    path: tuple[str, ...]  # where the words are in the entry: ("texts", account) or (field,)
    for account in accounts:
        network = network_of(settings, account)
        if account in own:
            words, path = own[account], ("texts", account)
        elif base is not None:
            words, path = base[1], (base[0],)
        else:
            continue
        shown = _COUNTING.get(network, _COUNTING["x"])[0]
        where = f" for {account!r} ({shown})" if len(accounts) > 1 or account in own else ""
        limit = (limits or {}).get(account) if network in SET_BY_SERVER else None
        target = _words_for(entry, words, split, network, where, path, limit)
        if target is not None:
            targets[account] = target
    images = _images(entry, folder)
    if entry.failed or entry.key is None or not accounts:
        return None
    assert at
    first, *others = accounts
    text, parts = targets[first]
    return PostEntry(
        key=entry.key,
        line=entry.span[0],
        account=first,
        at=at,
        text=text,
        parts=parts,
        images=images,
        others={name: targets[name] for name in others},
    )


def _post_from_template(entry: _Entry, settings: Settings) -> str:
    name = entry.text("template", required=True)
    if not name:
        return ""
    if not has_template(name, settings=settings):
        known = ", ".join(template_names(settings=settings)) or "none"
        entry.error(f"unknown post template {name!r} (templates/posts: {known})", "template")
        return ""
    variables = entry.data.get("vars", {})
    if not isinstance(variables, dict) or not _json_value(variables):
        entry.error("'vars' must be a table of texts, numbers or lists", "vars")
        return ""
    try:
        text = render_post(name, variables, settings)
    except MissingValue as exc:
        entry.error(f"{exc} Give it in the entry's vars.", "vars")
        return ""
    except CampaignError as exc:
        entry.error(str(exc), "template")
        return ""
    if not text:
        entry.error(f"template {name!r} gives an empty text with these vars", "template")
    return text


def _images(entry: _Entry, folder: Path) -> list[dict[str, str]]:
    raw = entry.data.get("images", [])
    if not isinstance(raw, list) or not all(isinstance(image, dict) for image in raw):
        entry.error(
            "'images' must be a list of tables, e.g. images = [{ path = \"affiche.png\", "
            'alt = "…" }]',
            "images",
        )
        return []
    if len(raw) > MAX_IMAGES:
        entry.error(f"a post takes at most {MAX_IMAGES} images (got {len(raw)})", "images")
    images: list[dict[str, str]] = []
    for number, image in enumerate(raw, 1):
        unknown = sorted(set(image) - {"path", "alt"})
        if unknown:
            entry.error(
                f"image {number}: unknown field(s) {', '.join(unknown)} (path, alt)", "images"
            )
        path, alt = image.get("path"), image.get("alt")
        if not isinstance(path, str) or not path.strip():
            entry.error(f"image {number}: 'path' (the image file) is missing", "images")
            continue
        if not isinstance(alt, str) or not alt.strip():
            entry.error(
                f"image {number} ({path}): 'alt' is missing: describe the image for people who "
                "cannot see it",
                "images",
            )
            continue
        if len(alt) > MAX_ALT:
            entry.error(
                f"image {number}: 'alt' is {len(alt)} characters (X takes {MAX_ALT})", "images"
            )
        file = (folder / path).resolve()
        if not file.is_file():
            entry.error(f"image {number}: no file {file}", "images")
            continue
        try:  # an image X takes: the sync copies it into the media folder
            check_image(file, alt, label=f"image {number}")
        except CampaignError as exc:
            entry.error(str(exc), "images")
            continue
        images.append({"path": str(file), "alt": alt.strip()})
    return images


# --- recurring rules ---------------------------------------------------------------------------


def _recurring(
    entry: _Entry, settings: Settings, taxonomy: Taxonomy, now: datetime
) -> RecurringEntry | None:
    kind = entry.data.get("kind")
    if kind not in RECURRING_KINDS:
        shown = f"{kind!r}" if kind is not None else "missing"
        entry.error(f"'kind' is {shown}: use one of {', '.join(RECURRING_KINDS)}", "kind")
        entry.unknown_fields(
            sorted({name for names in RECURRING_FIELDS.values() for name in names})
        )
        return None
    entry.unknown_fields(RECURRING_FIELDS[kind])
    times = _times(entry)
    days = _days(entry)
    required = kind == "event-posts"
    first = entry.day("from", required=required)
    last = entry.day("to", required=required)
    if first and last and last < first:
        entry.error("'to' is before 'from'", "to")
    accounts = _accounts(entry, settings, required=required) if required else None
    account = _account(entry, settings, required=False) if not required else None
    result = RecurringEntry(
        key=entry.key or "",
        line=entry.span[0],
        kind=kind,
        times=times,
        days=days,
        date_from=first,
        date_to=last,
        account=accounts[0] if accounts else account,
        accounts=accounts or ([account] if account else []),
    )
    if kind == "event-posts":
        template = entry.text("template", required=True)
        if template and not has_template(template, settings=settings):
            known = ", ".join(template_names(settings=settings)) or "none"
            entry.error(
                f"unknown post template {template!r} (templates/posts: {known})", "template"
            )
        result.template = template or ""
        per_post = entry.data.get("per_post", 1)
        if (
            isinstance(per_post, bool)
            or not isinstance(per_post, int)
            or not (1 <= per_post <= MAX_PER_POST)
        ):
            entry.error(f"'per_post' must be a whole number from 1 to {MAX_PER_POST}", "per_post")
        else:
            result.per_post = per_post
        result.regions = _known_names(entry, "regions", taxonomy.region, taxonomy.regions)
        result.themes = _known_names(entry, "themes", taxonomy.theme, taxonomy.themes)
        result.types = entry.names("types") or []
    if times and not entry.failed:
        _check_changes_of_time(entry, result, settings, now)
    if entry.failed or entry.key is None:
        return None
    return result


def _times(entry: _Entry) -> list[time]:
    raw = entry.data.get("times")
    if raw is None:
        entry.error('\'times\' is missing, e.g. times = ["09:00", "12:30"]')
        return []
    raw = raw if isinstance(raw, list) else [raw]
    times: list[time] = []
    for value in raw:
        clock = timing.parse_clock(value)
        if clock is None:
            entry.error(f"'times': {value!r} is not a time of day such as \"09:00\"", "times")
        elif clock in times:
            entry.error(f"'times': {clock:%H:%M} is given twice", "times")
        else:
            times.append(clock)
    if not raw:
        entry.error("'times' is empty", "times")
    return sorted(times)


def _days(entry: _Entry) -> list[int]:
    raw = entry.data.get("days")
    if raw is None:
        return list(range(7))
    raw = raw if isinstance(raw, list) else [raw]
    days: list[int] = []
    for value in raw:
        day = timing.parse_weekday(value)
        if day is None:
            entry.error(f"'days': {value!r} is not a day of the week (monday, lundi, mon…)", "days")
        elif day not in days:
            days.append(day)
    return sorted(days)


def _known_names(entry: _Entry, name: str, lookup: Any, known: Iterable[str]) -> list[str]:
    result: list[str] = []
    for value in entry.names(name) or []:
        found = lookup(value)
        if found is None:
            entry.error(f"unknown {name[:-1]} {value!r} (known: {', '.join(known)})", name)
        else:
            result.append(found)
    return result


def _check_changes_of_time(
    entry: _Entry, rule: RecurringEntry, settings: Settings, now: datetime
) -> None:
    today = now.astimezone(settings.zone).date()
    first = rule.date_from or today
    last = rule.date_to or first + timedelta(days=366)
    found = timing.first_oddity(first, last, rule.times, settings.zone, rule.days)
    if found is not None:
        moment, what = found
        entry.error(
            f"on {moment:%A %Y-%m-%d} the rule's {moment:%H:%M} "
            f"{'does not exist' if what == 'nonexistent' else 'happens twice'} "
            f"({timing.explain(moment, settings.zone, what)}); a recurring time cannot carry an "
            "offset: move it out of 02:00–03:00",
            "times",
        )
    if rule.date_to and rule.date_to < today:
        entry.warning("every occurrence of this rule is in the past", "to")


# --- the whole file ----------------------------------------------------------------------------


def read_calendar(
    path: Path,
    settings: Settings,
    *,
    session: Session | None = None,
    now: datetime | None = None,
    limits: Mapping[str, int] | None = None,
) -> Calendar:
    """Read and check ``path``; problems are collected on the result, nothing is written.

    ``limits``: the longest post of each account whose server sets its own (account → limit,
    :func:`~campaign.social.limits.account_limits`), as a caller with a database knows them;
    an account missing from it is checked against its network's default (500 on Mastodon)."""
    now = now or utcnow()
    calendar = Calendar(path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        calendar.problems.append(Problem("error", path, 1, "", f"not UTF-8 text ({exc})"))
        return calendar
    except OSError as exc:
        calendar.problems.append(Problem("error", path, 1, "", f"cannot be read ({exc})"))
        return calendar
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        position = _TOML_POSITION.search(str(exc))
        line = int(position.group(1)) if position else 1
        message = _TOML_POSITION.sub("", str(exc)).strip()
        column = f", column {position.group(2)}" if position else ""
        calendar.problems.append(
            Problem("error", path, line, "", f"not valid TOML{column}: {message}")
        )
        return calendar
    calendar.source = SourceMap(text)
    taxonomy = Taxonomy.from_settings(settings)
    for name, value in data.items():
        if name == "calendar":
            if not isinstance(value, dict):
                calendar.problems.append(
                    Problem(
                        "error",
                        path,
                        calendar.source.key_line(name),
                        "",
                        "'calendar' must be a table: [calendar]",
                    )
                )
            elif unknown := sorted(set(value) - set(CALENDAR_FIELDS)):
                calendar.problems.append(
                    Problem(
                        "error",
                        path,
                        calendar.source.key_line(name),
                        "",
                        f"[calendar] takes {', '.join(CALENDAR_FIELDS)}; "
                        f"unknown: {', '.join(unknown)}",
                    )
                )
        elif name not in KINDS:
            close = difflib.get_close_matches(name, KINDS, n=1)
            hint = f" (did you mean [[{close[0]}]]?)" if close else ""
            calendar.problems.append(
                Problem(
                    "error",
                    path,
                    calendar.source.key_line(name),
                    "",
                    f"unknown section '{name}'{hint}; a calendar holds [[newsletter]], [[post]] "
                    "and [[recurring]] entries",
                )
            )
        elif not isinstance(value, list):
            calendar.problems.append(
                Problem(
                    "error",
                    path,
                    calendar.source.key_line(name),
                    "",
                    f"write [[{name}]] (two brackets) before each {name}",
                )
            )
    seen: dict[tuple[str, str], int] = {}
    for kind in KINDS:
        items = data.get(kind)
        if not isinstance(items, list):
            continue
        spans = calendar.source.entries(kind)
        fallback = calendar.source.key_line(kind)
        for index, item in enumerate(items):
            span = spans[index] if index < len(spans) else (fallback, fallback)
            if not isinstance(item, dict):
                calendar.problems.append(
                    Problem("error", path, span[0], f"{kind} #{index + 1}", "must be a table")
                )
                continue
            entry = _Entry(calendar, kind, item, span, index + 1)
            _check_key(entry, seen)
            if kind == "newsletter":
                newsletter = _newsletter(entry, settings, taxonomy, session, now, path.parent)
                if newsletter:
                    calendar.newsletters.append(newsletter)
            elif kind == "post":
                post = _post(entry, settings, now, path.parent, limits)
                if post:
                    calendar.posts.append(post)
            else:
                rule = _recurring(entry, settings, taxonomy, now)
                if rule:
                    calendar.recurring.append(rule)
    calendar.problems.sort(key=lambda problem: (problem.line, problem.level))
    return calendar


def problem_at(
    calendar: Calendar, level: Level, kind: str, key: str, line: int, message: str
) -> None:
    """Record a problem found after reading (e.g. while rendering an entry)."""
    calendar.problems.append(Problem(level, calendar.path, line, f"{kind} {key!r}", message))
