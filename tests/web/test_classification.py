"""The classification rules over real HTTP: machine opens, bot clicks, human otherwise."""

from __future__ import annotations

import time
from datetime import timedelta

from campaign.models import HitClass

APPLE_RELAY = "17.58.101.23"  # in Apple's 17.0.0.0/8
ELSEWHERE = "203.0.113.45"
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)


def _behind_a_proxy(settings) -> None:
    settings.web.trusted_proxy_depth = 1


def _open(live, delivery: int, agent: str, address: str = ELSEWHERE, method: str = "GET"):
    headers = {"User-Agent": agent, "X-Forwarded-For": f"10.9.9.9, {address}"}
    path = f"/o/{live.signer.sign('open', delivery)}.gif"
    answer = (live.head if method == "HEAD" else live.get)(path, headers=headers)
    assert answer.status_code == 200
    return answer


def _click(live, delivery: int, link: int, agent: str, method: str = "GET"):
    headers = {"User-Agent": agent, "X-Forwarded-For": ELSEWHERE}
    path = live.click_path(delivery, link)
    answer = (live.head if method == "HEAD" else live.get)(path, headers=headers)
    assert answer.status_code == 302
    return answer


def test_apple_mail_privacy_protection_opens_are_machine(make_live, kit) -> None:
    live = make_live(_behind_a_proxy)
    sent = kit.send(live)
    anne = sent.deliveries["Anne"]
    _open(live, anne, "Mozilla/5.0", APPLE_RELAY)  # Apple's proxy
    _open(live, anne, "Mozilla/5.0", ELSEWHERE)  # the same agent, not from Apple
    _open(live, anne, kit.browser, APPLE_RELAY)  # a real browser on Apple's network
    hits = live.hits(kind="open")
    assert [(h.classification, h.reason) for h in hits] == [
        (HitClass.machine, "Apple Mail Privacy Protection"),
        (HitClass.human, ""),
        (HitClass.human, ""),
    ]
    # The address is cut to its network: the client's, taken from X-Forwarded-For.
    assert [h.ip_prefix for h in hits] == ["17.58.101.0/24", "203.0.113.0/24", "17.58.101.0/24"]


def test_image_proxy_and_head_opens_are_machine(make_live, kit) -> None:
    live = make_live(_behind_a_proxy)
    sent = kit.send(live)
    anne = sent.deliveries["Anne"]
    _open(live, anne, GMAIL_PROXY)
    _open(live, anne, "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html")
    _open(live, anne, kit.browser, method="HEAD")
    labels = [(h.classification, h.reason) for h in live.hits(kind="open")]
    assert labels == [
        (HitClass.machine, "image proxy (GoogleImageProxy)"),
        (HitClass.machine, "image proxy (YahooMailProxy)"),
        (HitClass.machine, "HEAD request"),
    ]


def _patient(settings) -> None:
    # "Seconds after delivery" stretched to a minute, so a busy machine cannot make the test
    # miss the window.
    _behind_a_proxy(settings)
    settings.tracking.open_machine_seconds = 60
    settings.tracking.click_bot_seconds = 60


def test_an_open_seconds_after_delivery_is_machine_later_ones_human(make_live, kit) -> None:
    live = make_live(_patient)
    fresh = kit.send(live, sent_ago=timedelta(seconds=0))
    old = kit.send(live, {"Zoe": "zoe@example.org"}, sent_ago=timedelta(minutes=5))
    _open(live, fresh.deliveries["Anne"], kit.browser)
    _open(live, old.deliveries["Zoe"], kit.browser)
    hits = live.hits(kind="open")
    assert hits[0].classification == HitClass.machine
    assert hits[0].reason.startswith("opened ") and "after delivery" in hits[0].reason
    assert hits[1].classification == HitClass.human


def test_bot_clicks_head_scanners_and_too_soon(make_live, kit) -> None:
    live = make_live(_patient)
    sent = kit.send(live)
    fresh = kit.send(live, {"Zoe": "zoe@example.org"}, sent_ago=timedelta(seconds=0))
    anne, link = sent.deliveries["Anne"], sent.links[kit.event_url]
    _click(live, anne, link, kit.browser, method="HEAD")
    _click(live, anne, link, "Mozilla/5.0 (compatible; BingPreview/1.0b)")
    _click(live, anne, link, "python-requests/2.32")
    _click(live, anne, link, "")
    _click(live, fresh.deliveries["Zoe"], fresh.links[kit.event_url], kit.browser)
    _click(live, sent.deliveries["Paul"], link, kit.browser)
    labels = [(h.classification, h.reason) for h in live.hits(kind="click")]
    assert labels[:4] == [
        (HitClass.bot, "HEAD request"),
        (HitClass.bot, "scanner (BingPreview)"),
        (HitClass.bot, "scanner (python-requests)"),
        (HitClass.bot, "no user agent"),
    ]
    assert labels[4][0] == HitClass.bot and labels[4][1].startswith("clicked ")
    assert labels[5] == (HitClass.human, "")


def test_one_delivery_clicking_every_link_at_once_is_a_bot_burst(make_live, kit) -> None:
    live = make_live(_behind_a_proxy)
    sent = kit.send(live)
    # The event, its calendar file, "all the events" and the footer's link to the account.
    assert len(sent.links) == 4
    anne, paul = sent.deliveries["Anne"], sent.deliveries["Paul"]
    for link in sent.links.values():  # a security gateway opening every link of Anne's copy
        _click(live, anne, link, kit.browser)
    _click(live, paul, sent.links[kit.event_url], kit.browser)  # a reader clicking one
    _click(live, paul, sent.links[kit.event_url], kit.browser)  # and again: same link
    hits = live.hits(kind="click")
    anne_hits = [(h.classification, h.reason) for h in hits if h.delivery_id == anne]
    assert anne_hits == [(HitClass.bot, "every link in a burst")] * 4  # the first ones too
    assert {h.classification for h in hits if h.delivery_id == paul} == {HitClass.human}


def test_clicks_of_every_link_spread_over_time_are_human(make_live, kit) -> None:
    def short_window(settings) -> None:
        _behind_a_proxy(settings)
        settings.tracking.burst_seconds = 0.5

    live = make_live(short_window)
    sent = kit.send(live)
    anne = sent.deliveries["Anne"]
    links = list(sent.links.values())
    _click(live, anne, links[0], kit.browser)
    time.sleep(0.8)
    for link in links[1:]:
        _click(live, anne, link, kit.browser)
    assert {h.classification for h in live.hits(kind="click")} == {HitClass.human}


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(live, kit) -> None:
    sent = kit.send(live)
    headers = {"User-Agent": "Mozilla/5.0", "X-Forwarded-For": APPLE_RELAY}
    live.get(f"/o/{live.signer.sign('open', sent.deliveries['Anne'])}.gif", headers=headers)
    (hit,) = live.hits()
    assert hit.ip_prefix == "127.0.0.0/24"
    assert hit.classification == HitClass.human  # a spoofed header proves nothing
