"""The rules of a campaign calendar (``schedules/NAME.toml``), declared once (issue #20).

Why a declared schema: the rules used to be hand-written checks spread through the reader, each
field's words repeated where it was read. Here each kind of entry is a pydantic model: its
fields, in the order the messages list them, are what the entry takes (an unknown field is one
declared nowhere here), each with its default, whether it is required, and a type whose
validator refuses a wrong value with the message the user reads. One place to see what a
calendar accepts, one place to change it.

Errors mapped to the file and line: ``tomllib`` keeps no positions, so
:class:`~campaign.scheduling.calendar.fields.Entry` validates an entry one field at a time
against these declarations and turns each error's location (the field, and the key inside a
table) into ``path:line: post 'j-1': message`` with :class:`~campaign.scheduling.tomlsource.
SourceMap`. Field by field rather than the whole model at once, so that every problem of an
entry is reported and its sound fields still take part in the checks that need the
configuration, the database or the files (accounts, lists, templates, images, lengths): those
live in the modules named after each kind of entry.

The types the fields are declared with, and the words of their refusals, are in
:mod:`~campaign.scheduling.calendar.values`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from campaign.events.catalogue import ORDERS
from campaign.newsletters.records import MAX_NO_EVENTS_TEXT
from campaign.scheduling.calendar.values import (
    MAX_PER_POST,
    Accounts,
    Bound,
    Content,
    Day,
    Days,
    Flag,
    Images,
    Key,
    Moment,
    NameList,
    Names,
    OptionalDay,
    OptionalText,
    Raw,
    Regions,
    Segment,
    Table,
    Text,
    Themes,
    Thread,
    Times,
    Variables,
    WhenNoEvents,
    WordsTable,
    one_of,
    quoted_text,
    whole_number,
)

# --- the entries -------------------------------------------------------------------------------


class Fields(BaseModel):
    """The fields an entry takes, and nothing else."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EventRuleFields(Fields):
    """``events = { … }``: which events a newsletter shows."""

    date_from: Bound = Field(None, alias="from")
    date_to: Bound = Field(None, alias="to")
    regions: NameList = []
    themes: NameList = []
    types: NameList = []
    max: Annotated[
        int | None, whole_number(1, None, "'events.max' must be a whole number of at least 1")
    ] = None
    order: Annotated[str, one_of(ORDERS, f"'events.order' must be one of {', '.join(ORDERS)}")] = (
        "date"
    )


class NewsletterFields(Fields):
    """``[[newsletter]]``: one newsletter, sent at ``at`` to ``lists``."""

    key: Key
    blocks: Raw = None  # checked as a --blocks file is
    at: Moment
    title: Annotated[str, quoted_text(300)]
    subject: Annotated[str, quoted_text(500)]
    template: Text
    lists: Names
    segment: Segment = None
    events: Annotated[
        Raw,
        Table(
            EventRuleFields, "'events' must be a table, e.g. events = { from = 2026-11-02, to = … }"
        ),
    ] = {}
    preheader: Annotated[str | None, quoted_text(500)] = None
    intro: OptionalText = None
    content: Content = Field({}, alias="set")
    from_name: Annotated[str | None, quoted_text(500)] = None
    from_address: Annotated[str | None, quoted_text(500)] = None
    anonymous_tracking: Flag = False
    when_no_events: WhenNoEvents = None
    no_events_text: Annotated[str | None, quoted_text(MAX_NO_EVENTS_TEXT)] = None


class PostFields(Fields):
    """``[[post]]``: one post for ``account``, or one per account of ``accounts``."""

    key: Key
    account: OptionalText = None
    accounts: Accounts = []
    at: Moment
    text: OptionalText = None
    texts: WordsTable = {}
    split: Flag = False
    thread: Thread = []
    template: OptionalText = None
    variables: Variables = Field({}, alias="vars")
    images: Images = []


class _RuleFields(Fields):
    key: Key
    kind: str


class EventPostsFields(_RuleFields):
    """``[[recurring]] kind = "event-posts"``: the day's events posted at set times."""

    kind: Literal["event-posts"]
    account: OptionalText = None
    accounts: Accounts = []
    date_from: Day = Field(alias="from")
    date_to: Day = Field(alias="to")
    days: Days = Field(default_factory=lambda: list(range(7)))
    times: Times
    template: Text
    per_post: Annotated[
        int,
        whole_number(
            1, MAX_PER_POST, f"'per_post' must be a whole number from 1 to {MAX_PER_POST}"
        ),
    ] = 1
    regions: Regions = []
    themes: Themes = []
    types: Names = []


class SyncMetricsFields(_RuleFields):
    """``[[recurring]] kind = "sync-metrics"``: the posts' figures fetched at set times."""

    kind: Literal["sync-metrics"]
    account: OptionalText = None
    date_from: OptionalDay = Field(None, alias="from")
    date_to: OptionalDay = Field(None, alias="to")
    days: Days = Field(default_factory=lambda: list(range(7)))
    times: Times


class CalendarFields(Fields):
    """``[calendar]``: what the file is about (not checked further)."""

    name: Any = None
    description: Any = None


RULES: dict[str, type[Fields]] = {
    "event-posts": EventPostsFields,
    "sync-metrics": SyncMetricsFields,
}
RECURRING_KINDS = tuple(RULES)
ENTRIES: dict[str, type[Fields]] = {
    "newsletter": NewsletterFields,
    "post": PostFields,
    "recurring": _RuleFields,  # its fields depend on its kind: see RULES
}
KINDS = tuple(ENTRIES)


def field_names(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` as the file spells them, in their declared order."""
    return tuple(info.alias or name for name, info in model.model_fields.items())


def rule_field_names() -> list[str]:
    """Every field a recurring rule of any kind takes, sorted."""
    return sorted({name for model in RULES.values() for name in field_names(model)})
