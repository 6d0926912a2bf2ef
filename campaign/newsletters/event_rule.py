"""The event rule of a newsletter: which events it features, as typed and as stored.

An :class:`EventRule` holds what a person typed (local days, region, theme and type names); its
:meth:`~EventRule.to_json` checks it and stores canonical names, :func:`stored_rule` reads it
back. The rule is applied when the newsletter is previewed or sent (:mod:`.preview`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from campaign.errors import CampaignError
from campaign.events.catalogue import ORDERS
from campaign.taxonomy import Taxonomy, fold

SUBSCRIBER_REGION = "subscriber"
"""The event region meaning "the recipient's own region" (one rendering per region)."""


@dataclass
class EventRule:
    """Which events a newsletter features, as typed: local days (both included), names."""

    date_from: date | None = None
    date_to: date | None = None
    regions: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    limit: int | None = None
    order: str = "date"

    def to_json(self, taxonomy: Taxonomy) -> dict[str, Any]:
        """The stored rule, checked and with canonical region and theme names."""
        self._check_bounds()
        regions = [_region(name, taxonomy) for name in self.regions if name.strip()]
        if SUBSCRIBER_REGION in regions and len(regions) > 1:
            raise CampaignError.of("newsletter.reader_region_mixed", "events.regions")
        themes = [
            known_name(name, taxonomy.theme, "theme", taxonomy.themes, "events.themes")
            for name in self.themes
        ]
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "regions": regions,
            "themes": themes,
            "types": [name.strip() for name in self.types if name.strip()],
            "max": self.limit,
            "order": self.order,
        }

    def _check_bounds(self) -> None:
        """Refuse days that end before they start, a maximum under one, an unknown order."""
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise CampaignError.of(
                "newsletter.events_end_before_start",
                "events.to",
                start=self.date_from,
                end=self.date_to,
            )
        if self.limit is not None and self.limit < 1:
            raise CampaignError.of("newsletter.events_max_too_small", "events.max")
        if self.order not in ORDERS:
            raise CampaignError.of(
                "newsletter.unknown_order", "events.order", order=self.order, known=list(ORDERS)
            )


def _region(name: str, taxonomy: Taxonomy) -> str:
    if fold(name) in {SUBSCRIBER_REGION, "abonne", "abonnee"}:
        return SUBSCRIBER_REGION
    return known_name(name, taxonomy.region, "region", taxonomy.regions, "events.regions")


def known_name(text: str, lookup: Any, noun: str, known: Sequence[str], field: str) -> str:
    """``text`` as the taxonomy names it; ``noun`` is "region" or "theme"."""
    found = lookup(text)
    if found is None:
        raise CampaignError.of(f"newsletter.unknown_{noun}", field, name=text, known=list(known))
    return str(found)


def stored_rule(data: Mapping[str, Any]) -> EventRule:
    """The :class:`EventRule` a newsletter stored."""
    return EventRule(
        date_from=date.fromisoformat(data["from"]) if data.get("from") else None,
        date_to=date.fromisoformat(data["to"]) if data.get("to") else None,
        regions=list(data.get("regions") or []),
        themes=list(data.get("themes") or []),
        types=list(data.get("types") or []),
        limit=data.get("max"),
        order=data.get("order") or "date",
    )


def changed_rule(
    stored: Mapping[str, Any], changes: Mapping[str, Any], taxonomy: Taxonomy
) -> dict[str, Any]:
    """The stored rule with single fields changed (``date_from``, ``regions``…), checked."""
    rule = stored_rule(stored)
    for key, value in changes.items():
        if not hasattr(rule, key):
            raise CampaignError(f"Unknown event rule field {key!r}.")
        setattr(rule, key, value)
    return rule.to_json(taxonomy)
