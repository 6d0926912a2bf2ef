"""Is a hit a reader's? The rules that put machine opens and bot clicks apart.

Every hit is stored; these rules only label it (architecture, "Hits are facts"), so reports can give
human figures and show the rest beside them.

Opens are ``machine`` when:

- the user agent is exactly ``Mozilla/5.0`` and the request comes from Apple's relay ranges:
  Apple Mail Privacy Protection loads every image as soon as a message reaches the device;
- the user agent is a mail service's image proxy (``GoogleImageProxy``, ``YahooMailProxy``…),
  which fetches images itself, often ahead of the reader;
- the request is a ``HEAD`` (a prefetch checking the image, not a mail client showing it);
- it comes within ``[tracking] open_machine_seconds`` of the delivery being sent (or before the
  delivery was recorded as sent): no reader opens a message that fast.

Clicks are ``bot`` when:

- the request is a ``HEAD`` (link checkers ask for headers only);
- the user agent is a known security scanner or HTTP library, or is missing;
- it comes within ``[tracking] click_bot_seconds`` of the delivery being sent;
- the same delivery clicks every link of the newsletter (or ``burst_links`` different ones,
  whichever is fewer, and at least two) within ``burst_seconds``: security gateways follow every
  link of a message at once, people do not. Every click of the burst is marked, not only the
  last one, which is why delivery clicks wait ``burst_seconds`` before being written.

Everything else is ``human``. Anonymous hits (the privacy setting) name no delivery: their timing
rule uses the newsletter's send date, which is earlier than any of its deliveries, so a hit that
is too soon after it is certainly too soon after its own delivery.

The lists of proxies and scanners are data: ``campaign/data/tracking_agents.toml``.
"""

from __future__ import annotations

import tomllib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from campaign.models import HitClass, HitKind
from campaign.tracking.network import DATA_DIR

if TYPE_CHECKING:
    from campaign.config import Settings

AGENTS_FILE = DATA_DIR / "tracking_agents.toml"
APPLE_MPP_AGENT = "Mozilla/5.0"


@dataclass(slots=True)
class PendingHit:
    """A hit as the route saw it, waiting to be classified and written.

    ``apple`` says whether the requester's full address (not kept) was in Apple's relay ranges.
    ``newsletter_id`` is known for clicks (checked by the route) and anonymous hits; the writer
    fills it for delivery opens.
    """

    kind: str
    at: float  # seconds since the epoch
    delivery_id: int | None
    newsletter_id: int | None
    link_id: int | None
    user_agent: str
    ip_prefix: str
    head: bool = False
    apple: bool = False
    burst: bool = False
    classification: str = ""
    reason: str = ""


def _load_agents(path: Path) -> dict[str, tuple[str, ...]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        section: tuple(str(agent) for agent in data.get(section, {}).get("agents", []))
        for section in ("image_proxies", "scanners")
    }


def _match(user_agent: str, agents: tuple[str, ...]) -> str:
    lowered = user_agent.lower()
    for agent in agents:
        if agent.lower() in lowered:
            return agent
    return ""


@dataclass(frozen=True)
class Rules:
    """The thresholds (from ``[tracking]``) and the agent lists."""

    open_machine_seconds: float = 5.0
    click_bot_seconds: float = 10.0
    burst_seconds: float = 10.0
    burst_links: int = 4
    image_proxies: tuple[str, ...] = ()
    scanners: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, agents_file: Path = AGENTS_FILE) -> Rules:
        agents = _load_agents(agents_file)
        tracking = settings.tracking
        return cls(
            open_machine_seconds=tracking.open_machine_seconds,
            click_bot_seconds=tracking.click_bot_seconds,
            burst_seconds=tracking.burst_seconds,
            burst_links=tracking.burst_links,
            image_proxies=agents["image_proxies"],
            scanners=agents["scanners"],
        )

    def classify(self, hit: PendingHit, sent_at: float | None, sent_known: bool) -> None:
        """Label ``hit``. ``sent_at``: when its delivery (or, anonymous, its newsletter) was
        sent; ``sent_known``: whether a missing ``sent_at`` means "not sent yet" (a delivery)
        rather than "unknown" (an anonymous hit of a newsletter without a date)."""
        if hit.kind == HitKind.open:
            label, reason = self._open(hit, sent_at, sent_known)
        else:
            label, reason = self._click(hit, sent_at, sent_known)
        hit.classification, hit.reason = label, reason[:100]

    def _too_soon(
        self, hit: PendingHit, sent_at: float | None, sent_known: bool, limit: float
    ) -> str:
        if sent_at is None:
            return "before the delivery was recorded as sent" if sent_known else ""
        elapsed = hit.at - sent_at
        if elapsed < limit:
            return f"{max(elapsed, 0):.0f} s after delivery"
        return ""

    def _open(self, hit: PendingHit, sent_at: float | None, sent_known: bool) -> tuple[str, str]:
        if hit.user_agent == APPLE_MPP_AGENT and hit.apple:
            return HitClass.machine, "Apple Mail Privacy Protection"
        proxy = _match(hit.user_agent, self.image_proxies)
        if proxy:
            return HitClass.machine, f"image proxy ({proxy})"
        if hit.head:
            return HitClass.machine, "HEAD request"
        soon = self._too_soon(hit, sent_at, sent_known, self.open_machine_seconds)
        if soon:
            return HitClass.machine, f"opened {soon}"
        return HitClass.human, ""

    def _click(self, hit: PendingHit, sent_at: float | None, sent_known: bool) -> tuple[str, str]:
        if hit.head:
            return HitClass.bot, "HEAD request"
        if not hit.user_agent.strip():
            return HitClass.bot, "no user agent"
        scanner = _match(hit.user_agent, self.scanners)
        if scanner:
            return HitClass.bot, f"scanner ({scanner})"
        soon = self._too_soon(hit, sent_at, sent_known, self.click_bot_seconds)
        if soon:
            return HitClass.bot, f"clicked {soon}"
        if hit.burst:
            return HitClass.bot, "every link in a burst"
        return HitClass.human, ""


@dataclass
class _Recent:
    clicks: list[PendingHit] = field(default_factory=list)


class BurstTracker:
    """The clicks of each delivery over the last ``window`` seconds, in memory and bounded.

    Keeps at most ``max_deliveries`` deliveries (the least recently clicking are forgotten
    first); a delivery's clicks older than the window are dropped as new ones come.
    """

    def __init__(self, window: float, links_needed: int, max_deliveries: int = 100_000) -> None:
        self.window = window
        self.links_needed = links_needed
        self.max_deliveries = max_deliveries
        self._recent: OrderedDict[int, _Recent] = OrderedDict()

    def __len__(self) -> int:
        return len(self._recent)

    def add(self, hit: PendingHit, newsletter_links: int) -> bool:
        """Remember a delivery click; True when it completes a burst (its clicks are marked)."""
        assert hit.delivery_id is not None
        recent = self._recent.pop(hit.delivery_id, None) or _Recent()
        recent.clicks = [c for c in recent.clicks if hit.at - c.at <= self.window]
        recent.clicks.append(hit)
        self._recent[hit.delivery_id] = recent
        self._forget(hit.at)
        needed = max(2, min(self.links_needed, newsletter_links))
        if newsletter_links < 2 or len({c.link_id for c in recent.clicks}) < needed:
            return False
        for click in recent.clicks:
            click.burst = True
        return True

    def _forget(self, now: float) -> None:
        while len(self._recent) > self.max_deliveries:
            self._recent.popitem(last=False)
        # The oldest entries come first: drop those whose last click left the window.
        while self._recent:
            delivery_id, recent = next(iter(self._recent.items()))
            if recent.clicks and now - recent.clicks[-1].at <= self.window:
                break
            del self._recent[delivery_id]
