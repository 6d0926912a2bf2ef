"""A calendar's ``[[recurring]]`` rules: the fields their kind declares, then what the
configuration and the changes of time can tell (accounts, post templates, times that a change
of time skips or repeats)."""

from __future__ import annotations

from datetime import datetime, timedelta

from campaign.config import Settings
from campaign.scheduling import timing
from campaign.scheduling.calendar.entries import RecurringEntry
from campaign.scheduling.calendar.fields import Entry
from campaign.scheduling.calendar.posts import read_account, read_accounts
from campaign.scheduling.calendar.schema import RECURRING_KINDS, RULES, rule_field_names
from campaign.social.compose import has_template, template_names


def read_rule(entry: Entry, settings: Settings, now: datetime) -> RecurringEntry | None:
    """The recurring rule of ``entry``, or None when it has a problem (recorded on the entry)."""
    kind = entry.data.get("kind")
    if not isinstance(kind, str) or kind not in RULES:
        shown = f"{kind!r}" if kind is not None else "missing"
        entry.error(f"'kind' is {shown}: use one of {', '.join(RECURRING_KINDS)}", "kind")
        entry.unknown_fields(rule_field_names())
        return None
    entry.model = RULES[kind]
    entry.unknown_fields()
    rule = _when(entry, kind)
    if kind == "event-posts":
        accounts = read_accounts(entry, settings, required=True) or []
        rule.account, rule.accounts = (accounts[0] if accounts else None), accounts
        _event_posts(entry, rule, settings)
    else:
        account = read_account(entry, settings, required=False)
        rule.account, rule.accounts = account, [account] if account else []
    if rule.times and not entry.failed:
        _check_changes_of_time(entry, rule, settings, now)
    if entry.failed or entry.key is None:
        return None
    return rule


def _when(entry: Entry, kind: str) -> RecurringEntry:
    """The rule's times, days and bounds (``to`` not before ``from``)."""
    times = entry.value("times") or []
    days = entry.value("days") or []
    first, last = entry.value("from"), entry.value("to")
    if first and last and last < first:
        entry.error("'to' is before 'from'", "to")
    return RecurringEntry(
        key=entry.key or "",
        line=entry.span[0],
        kind=kind,
        times=times,
        days=days,
        date_from=first,
        date_to=last,
    )


def _event_posts(entry: Entry, rule: RecurringEntry, settings: Settings) -> None:
    """What an ``event-posts`` rule adds: its post template and which events it announces."""
    template = entry.value("template")
    if template and not has_template(template, settings=settings):
        known = ", ".join(template_names(settings=settings)) or "none"
        entry.error(f"unknown post template {template!r} (templates/posts: {known})", "template")
    rule.template = template or ""
    per_post = entry.value("per_post")
    if per_post is not None:
        rule.per_post = per_post
    rule.regions = entry.value("regions") or []
    rule.themes = entry.value("themes") or []
    rule.types = entry.value("types") or []


def _check_changes_of_time(
    entry: Entry, rule: RecurringEntry, settings: Settings, now: datetime
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
