"""Open pixel and tracked clicks over real HTTP: what they answer and what they record."""

from __future__ import annotations

import re

from campaign.models import Hit, HitClass

GIF_1X1 = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


def _path(url: str, live) -> str:
    assert url.startswith(live.url), url
    return url[len(live.url) :]


def test_the_links_of_a_sent_email_record_an_open_and_a_click(live, kit) -> None:
    sent = kit.send(live)
    html = sent.html("anne@example.org")
    pixel = re.search(r'src="([^"]+/o/[^"]+\.gif)"', html).group(1)
    click = re.search(r'href="([^"]+/c/[^"]+)"', html).group(1)

    answer = live.get(_path(pixel, live))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "image/gif"
    assert answer.content == GIF_1X1
    assert "no-store" in answer.headers["Cache-Control"]
    assert answer.headers["Pragma"] == "no-cache"

    answer = live.get(_path(click, live))
    assert answer.status_code == 302
    assert answer.headers["Location"] in (kit.event_url, kit.more_url)

    opens = live.hits(kind="open")
    clicks = live.hits(kind="click")
    assert len(opens) == 1 and len(clicks) == 1
    anne = sent.deliveries["Anne"]
    assert opens[0].delivery_id == anne and opens[0].newsletter_id == sent.newsletter_id
    assert opens[0].classification == HitClass.human, opens[0].reason
    assert clicks[0].delivery_id == anne and clicks[0].link_id in sent.links.values()
    assert clicks[0].classification == HitClass.human, clicks[0].reason
    assert opens[0].user_agent == kit.browser
    assert opens[0].ip_prefix == "127.0.0.0/24"  # never the full address


def test_every_open_and_click_counts(live, kit) -> None:
    sent = kit.send(live)
    anne, paul = sent.deliveries["Anne"], sent.deliveries["Paul"]
    link = sent.links[kit.event_url]
    for _ in range(3):
        assert live.get(f"/o/{live.signer.sign('open', anne)}.gif").status_code == 200
    assert live.get(f"/o/{live.signer.sign('open', paul)}.gif").status_code == 200
    for delivery in (anne, paul, paul):
        answer = live.get(live.click_path(delivery, link))
        assert answer.status_code == 302 and answer.headers["Location"] == kit.event_url
    hits = live.hits()
    assert sorted((h.kind, h.delivery_id) for h in hits) == sorted(
        [("open", anne)] * 3 + [("open", paul), ("click", anne), ("click", paul), ("click", paul)]
    )
    assert {h.link_id for h in hits if h.kind == "click"} == {link}


def test_the_redirect_target_never_comes_from_the_request(live, kit) -> None:
    sent = kit.send(live)
    path = live.click_path(sent.deliveries["Anne"], sent.links[kit.event_url])
    token = path.removeprefix("/c/")
    for attempt in (
        f"/c/{token}?url=https://evil.example/",
        f"/c/{token}?next=//evil.example&redirect=https%3A%2F%2Fevil.example",
        f"/c/{token}/https://evil.example/",
        f"/c/{token}%2F%2Fevil.example",
        "/c/https://evil.example/",
        "/c//evil.example",
    ):
        answer = live.get(attempt, headers={"User-Agent": kit.browser, "Host": "evil.example"})
        location = answer.headers.get("Location", "")
        assert "evil" not in location, (attempt, location)
        assert answer.status_code in (302, 404), attempt
        if answer.status_code == 302:
            assert location == kit.event_url


def test_a_click_on_a_link_of_another_newsletter_is_refused(live, kit) -> None:
    first = kit.send(live)
    second = kit.send(live, {"Zoe": "zoe@example.org"})
    other_link = second.links[kit.event_url]
    anne = first.deliveries["Anne"]
    # Genuine signatures that sending never issues: a link of the second newsletter with the
    # first one (the route refuses it), and with a delivery of the first one (the route cannot
    # tell without reading the delivery; the writer does, and records nothing).
    token = live.signer.sign("click", anne, other_link, first.newsletter_id)
    answer = live.get(f"/c/{token}")
    assert answer.status_code == 404
    assert "Location" not in answer.headers
    anonymous = live.signer.sign("click-anon", first.newsletter_id, other_link)
    assert live.get(f"/c/{anonymous}").status_code == 404
    mixed = live.signer.sign("click", anne, other_link, second.newsletter_id)
    assert live.get(f"/c/{mixed}").headers["Location"] == kit.event_url  # a stored URL only
    assert live.hits() == []
    assert live.web.recorder.dropped == 1


def _alter(token: str) -> str:
    swapped = "A" if token[5] != "A" else "B"
    return token[:5] + swapped + token[6:]


def test_forged_truncated_or_altered_tokens_get_a_404_and_write_nothing(live, kit) -> None:
    sent = kit.send(live)
    anne = sent.deliveries["Anne"]
    link = sent.links[kit.event_url]
    open_token = live.signer.sign("open", anne)
    click_token = live.click_path(anne, link).removeprefix("/c/")
    unsubscribe_token = live.signer.sign("unsubscribe", anne)
    view_token = live.signer.sign("view", anne)
    before = (live.count(Hit), len(kit.consent("anne@example.org")))
    attempts = [
        f"/o/{_alter(open_token)}.gif",
        f"/o/{open_token[:-2]}.gif",
        f"/o/{open_token}x.gif",
        f"/o/{click_token}.gif",  # a token of another kind
        f"/o/{unsubscribe_token}.gif",
        "/o/AAAAAAAAAAAAAAAAAAAAAAA.gif",
        f"/c/{_alter(click_token)}",
        f"/c/{click_token[:-1]}",
        f"/c/{open_token}",
        f"/u/{_alter(unsubscribe_token)}",
        f"/u/{open_token}",
        f"/v/{_alter(view_token)}",
        f"/v/{unsubscribe_token}",
        "/v/apercu",
        f"/confirmation/{click_token}",
    ]
    for path in attempts:
        answer = live.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["Content-Type"].startswith("text/html"), path
        assert "Page introuvable" in answer.text, path
    for path in (f"/u/{_alter(unsubscribe_token)}", f"/u/{unsubscribe_token[:-3]}"):
        answer = live.post(path, data="List-Unsubscribe=One-Click")
        assert answer.status_code == 404
    assert (live.count(Hit), len(kit.consent("anne@example.org"))) == before
    assert live.hits() == []
    assert kit.subscriber("anne@example.org").status == "active"


def test_a_valid_token_whose_delivery_is_gone_is_not_found(live, kit) -> None:
    sent = kit.send(live)
    missing = max(sent.deliveries.values()) + 1000
    assert live.get(f"/u/{live.signer.sign('unsubscribe', missing)}").status_code == 404
    assert live.get(f"/v/{live.signer.sign('view', missing)}").status_code == 404
    # The pixel and the click answer without reading the delivery; nothing is written.
    assert live.get(f"/o/{live.signer.sign('open', missing)}.gif").status_code == 200
    assert live.get(live.click_path(missing, sent.links[kit.event_url])).status_code == 302
    assert live.hits() == []
    assert live.web.recorder.dropped == 2


def test_anonymous_tracking_counts_per_newsletter_and_link_without_the_person(live, kit) -> None:
    sent = kit.send(live, anonymous=True)
    html = sent.html("anne@example.org")
    pixel = re.search(r'src="[^"]+(/o/[^"]+\.gif)"', html).group(1)
    clicks = re.findall(r'href="[^"]+(/c/[^"]+)"', html)
    assert live.get(pixel).status_code == 200
    answer = live.get(clicks[0])
    assert answer.status_code == 302
    hits = live.hits()
    assert len(hits) == 2
    assert all(h.delivery_id is None and h.newsletter_id == sent.newsletter_id for h in hits)
    assert {h.kind for h in hits} == {"open", "click"}
    assert next(h for h in hits if h.kind == "click").link_id in sent.links.values()


def test_the_global_privacy_setting_makes_every_newsletter_anonymous(make_live, kit) -> None:
    def anonymous(settings) -> None:
        settings.tracking.anonymous = True

    live = make_live(anonymous)
    sent = kit.send(live)  # the newsletter itself does not ask for it
    html = sent.html("anne@example.org")
    pixel = re.search(r'src="[^"]+/o/([^"]+)\.gif"', html).group(1)
    assert live.signer.verify(pixel, "open-anon") == (sent.newsletter_id,)
    assert live.signer.verify(pixel, "open") is None
