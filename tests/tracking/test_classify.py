"""Classification rules, networks and the burst memory, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import HitClass
from campaign.tracking.classify import BurstTracker, PendingHit, Rules
from campaign.tracking.network import Ranges, apple_ranges, client_address, ip_prefix

RULES = Rules.from_settings(Settings())


def _hit(kind: str = "open", at: float = 1000.0, **fields) -> PendingHit:
    values = dict(
        kind=kind,
        at=at,
        delivery_id=1,
        newsletter_id=1,
        link_id=None,
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        ip_prefix="",
    )
    values.update(fields)
    return PendingHit(**values)


def _label(hit: PendingHit, sent_at: float | None = 0.0, sent_known: bool = True) -> tuple:
    RULES.classify(hit, sent_at, sent_known)
    return hit.classification, hit.reason


def test_ip_addresses_are_cut_to_their_network() -> None:
    assert ip_prefix("192.0.2.201") == "192.0.2.0/24"
    assert ip_prefix("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert ip_prefix("::ffff:192.0.2.201") == "192.0.2.0/24"
    assert ip_prefix("[2001:db8::1]") == "2001:db8::/48"
    assert ip_prefix("not an address") == "" and ip_prefix("") == ""


def test_x_forwarded_for_is_believed_only_as_deep_as_configured() -> None:
    header = "1.1.1.1, 198.51.100.7, 10.0.0.2"
    assert client_address("127.0.0.1", header, 0) == "127.0.0.1"
    assert client_address("127.0.0.1", header, 1) == "10.0.0.2"
    assert client_address("127.0.0.1", header, 2) == "198.51.100.7"
    assert client_address("127.0.0.1", header, 9) == "1.1.1.1"
    assert client_address("127.0.0.1", None, 1) == "127.0.0.1"


def test_apple_ranges_read_apples_published_format(tmp_path: Path) -> None:
    published = tmp_path / "egress-ip-ranges.csv"
    published.write_text(
        "172.224.224.0/27,GB,GB-EN,London,\n2a02:26f7:b3c0:4000::/64,FR,FR-75,Paris,\n\n"
    )
    ranges = Ranges.from_file(published)
    assert "172.224.224.5" in ranges and "172.224.224.40" not in ranges
    assert "2a02:26f7:b3c0:4000::9" in ranges and "2a02:26f7:b3c0:4001::9" not in ranges
    assert "garbage" not in ranges
    built_in = apple_ranges()
    assert "17.58.1.2" in built_in and "192.0.2.1" not in built_in


def test_a_bad_ranges_file_is_named_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "ranges.txt"
    bad.write_text("17.0.0.0/8\n17.0.0/8x,FR\n")
    with pytest.raises(CampaignError, match=r"ranges.txt, line 2: '17.0.0/8x'"):
        Ranges.from_file(bad)
    with pytest.raises(CampaignError, match="apple_ranges_file"):
        Ranges.from_file(tmp_path / "missing.csv")


def test_open_rules() -> None:
    assert _label(_hit(user_agent="Mozilla/5.0", apple=True)) == (
        HitClass.machine,
        "Apple Mail Privacy Protection",
    )
    assert _label(_hit(user_agent="Mozilla/5.0", apple=False))[0] == HitClass.human
    soon = _label(_hit(at=1003.0), sent_at=1000.0)
    assert soon == (HitClass.machine, "opened 3 s after delivery")
    assert _label(_hit(at=1006.0), sent_at=1000.0) == (HitClass.human, "")
    assert _label(_hit(), sent_at=None, sent_known=True)[0] == HitClass.machine
    # Anonymous hits whose newsletter has no date: no timing rule.
    assert _label(_hit(delivery_id=None), sent_at=None, sent_known=False)[0] == HitClass.human


def test_click_rules() -> None:
    assert _label(_hit("click", head=True)) == (HitClass.bot, "HEAD request")
    assert _label(_hit("click", user_agent="  ")) == (HitClass.bot, "no user agent")
    assert _label(_hit("click", user_agent="Mozilla/5.0 (compatible; Barracuda Sentinel)")) == (
        HitClass.bot,
        "scanner (Barracuda)",
    )
    assert _label(_hit("click", at=1009.0), sent_at=1000.0)[0] == HitClass.bot
    assert _label(_hit("click", at=1011.0), sent_at=1000.0) == (HitClass.human, "")
    assert _label(_hit("click", at=2000.0, burst=True)) == (HitClass.bot, "every link in a burst")


def test_a_burst_marks_every_click_of_it_and_memory_stays_bounded() -> None:
    tracker = BurstTracker(window=10, links_needed=4, max_deliveries=3)
    clicks = [_hit("click", at=100 + i, link_id=i) for i in range(3)]
    assert [tracker.add(click, newsletter_links=3) for click in clicks] == [False, False, True]
    assert all(click.burst for click in clicks)
    # Twenty links: four different ones in the window are enough.
    many = [_hit("click", at=200 + i, delivery_id=2, link_id=i) for i in range(4)]
    assert [tracker.add(click, newsletter_links=20) for click in many][-1] is True
    # The same link again and again is not a burst; a one-link newsletter never is.
    same = [_hit("click", at=300 + i, delivery_id=3, link_id=7) for i in range(5)]
    assert not any(tracker.add(click, newsletter_links=5) for click in same)
    assert not tracker.add(_hit("click", at=310, delivery_id=4, link_id=1), newsletter_links=1)
    # Spread over more than the window: not a burst.
    slow = BurstTracker(window=10, links_needed=4)
    assert not slow.add(_hit("click", at=0, delivery_id=5, link_id=1), newsletter_links=2)
    assert not slow.add(_hit("click", at=11, delivery_id=5, link_id=2), newsletter_links=2)
    # Bounded: old deliveries are forgotten.
    for number in range(10, 30):
        tracker.add(_hit("click", at=400, delivery_id=number, link_id=1), newsletter_links=5)
    assert len(tracker) <= 3
