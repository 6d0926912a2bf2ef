"""Regions and daily themes: data, not code.

Imports meet regions spelt a dozen ways ("PACA", "ile de france", "Région Sud") and subscribers
who give only a postcode; both are mapped to one canonical region name here, so that "events in
the subscriber's region" and the per-region reports group people correctly.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # a type only: the settings import the taxonomy's checks, not the reverse
    from campaign.config import Settings


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free form used to compare what people type."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", " ", bare.lower()).strip()


@cache
def _builtin() -> dict:
    return tomllib.loads(resources.files("campaign.data").joinpath("taxonomy.toml").read_text())


def _of_regions(by_region: dict, regions: tuple[str, ...]) -> dict:
    """The entries of ``by_region`` whose region is one of ``regions``."""
    return {region: value for region, value in by_region.items() if region in regions}


def _departments(builtin: dict, regions: tuple[str, ...]) -> dict[str, str]:
    """Department code -> region, for the regions in use."""
    return {
        code: region
        for region, codes in _of_regions(builtin["regions"], regions).items()
        for code in codes
    }


def _region_lookup(builtin: dict, regions: tuple[str, ...]) -> dict[str, str]:
    """Folded spelling -> region: each region's own name, then its aliases."""
    lookup = {fold(region): region for region in regions}
    for region, aliases in _of_regions(builtin["aliases"], regions).items():
        for alias in aliases:
            lookup.setdefault(fold(alias), region)
    return lookup


@dataclass(frozen=True)
class Taxonomy:
    regions: tuple[str, ...]
    themes: tuple[str, ...]
    departments: dict[str, str] = field(default_factory=dict)  # code -> region
    _lookup: dict[str, str] = field(default_factory=dict)  # folded spelling -> region
    _theme_lookup: dict[str, str] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)  # region -> IANA zone, when not default
    zone_labels: dict[str, str] = field(default_factory=dict)  # IANA zone -> "heure de …"
    neighbours: dict[str, tuple[str, ...]] = field(default_factory=dict)  # nearest first

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Taxonomy:
        builtin = _builtin()
        events = settings.events if settings is not None else None
        regions = tuple(events.regions) if events is not None and events.regions else ()
        themes = tuple(events.themes) if events is not None and events.themes else ()
        regions = regions or tuple(builtin["regions"])
        themes = themes or tuple(builtin["themes"])
        zones = _of_regions(builtin.get("zones", {}), regions)
        if events is not None:
            zones.update(events.zones)
        return cls(
            regions,
            themes,
            _departments(builtin, regions),
            _region_lookup(builtin, regions),
            {fold(theme): theme for theme in themes},
            zones,
            dict(builtin.get("zone_labels", {})),
            {
                region: tuple(near for near in nearest if near in regions)
                for region, nearest in _of_regions(builtin.get("neighbours", {}), regions).items()
            },
        )

    def region(self, text: str) -> str | None:
        """The canonical region for what someone typed, or None when it names no known region."""
        return self._lookup.get(fold(text)) if text else None

    def region_for_postcode(self, postcode: str) -> str | None:
        """The region of a French postcode (overseas ones by their three first digits)."""
        digits = re.sub(r"\s", "", postcode or "")
        if not re.fullmatch(r"\d{5}", digits):
            return None
        if digits.startswith("97"):
            return self.departments.get(digits[:3])
        return self.departments.get(digits[:2])

    def theme(self, text: str) -> str | None:
        """The canonical daily theme for what someone typed, or None when unknown."""
        return self._theme_lookup.get(fold(text)) if text else None

    def zone(self, region: str, default: ZoneInfo) -> ZoneInfo:
        """The time zone of a region's clocks (``default``, the configured one, for most)."""
        name = self.zones.get(region)
        return ZoneInfo(name) if name else default

    def nearest(self, region: str) -> tuple[str, ...]:
        """The regions nearest to ``region``, nearest first (none for overseas regions)."""
        return self.neighbours.get(region, ())

    def zone_label(self, zone: ZoneInfo | str) -> str:
        """How a reader elsewhere is told a time's zone: "heure de La Réunion" (or the zone's
        name when no label is known)."""
        key = zone if isinstance(zone, str) else zone.key
        return self.zone_labels.get(key, key)
