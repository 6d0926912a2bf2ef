"""Per-recipient URLs: link rows registered once, tokens naming the delivery or, anonymously,
only the newsletter."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Link, Newsletter, Subscriber
from campaign.newsletters.recipients import tracked_recipient
from campaign.tracking.links import (
    TrackedLinks,
    check_public_url,
    public_url_problem,
    register_links,
)
from campaign.tracking.tokens import Signer

KEY = "k" * 40


def _newsletter(session: Session) -> int:
    newsletter = Newsletter(title="T", subject="S", template="mois-ess")
    session.add(newsletter)
    session.commit()
    assert newsletter.id is not None
    return newsletter.id


def test_links_are_registered_once_per_newsletter(session: Session) -> None:
    first, second = _newsletter(session), _newsletter(session)
    urls = ["https://a.example/1", "https://a.example/2", "https://a.example/1"]
    ids = register_links(session, first, urls)
    again = register_links(session, first, reversed(urls))
    other = register_links(session, second, urls[:1])
    session.commit()
    assert ids == again and set(ids) == {"https://a.example/1", "https://a.example/2"}
    assert other["https://a.example/1"] not in ids.values()
    assert len(session.exec(select(Link)).all()) == 3


def test_a_recipient_gets_urls_signed_for_their_delivery(session: Session) -> None:
    newsletter_id = _newsletter(session)
    ids = register_links(session, newsletter_id, ["https://lemois-ess.org/"])
    signer = Signer([KEY])
    links = TrackedLinks("https://news.example", signer, newsletter_id, ids)
    recipient = tracked_recipient(
        links, Subscriber(email="anne@example.org", first_name="Anne"), 77
    )
    assert recipient.unsubscribe_url.startswith("https://news.example/u/")
    assert signer.verify(recipient.unsubscribe_url.rsplit("/", 1)[1], "unsubscribe") == (77,)
    assert signer.verify(recipient.view_url.rsplit("/", 1)[1], "view") == (77,)
    pixel = recipient.pixel_url.rsplit("/", 1)[1].removesuffix(".gif")
    assert signer.verify(pixel, "open") == (77,)
    click = recipient.link("https://lemois-ess.org/")
    link_id = ids["https://lemois-ess.org/"]
    assert signer.verify(click.rsplit("/", 1)[1], "click") == (77, link_id, newsletter_id)
    # A URL that is not in the newsletter's link table stays as it is.
    assert recipient.link("https://elsewhere.example/") == "https://elsewhere.example/"
    # Signing them all at once (the sending path) gives the same URLs.
    urls = ["https://elsewhere.example/", "https://lemois-ess.org/"]
    assert recipient.follow(urls) == [recipient.link(url) for url in urls]


def test_anonymous_tracking_names_the_newsletter_not_the_person(session: Session) -> None:
    newsletter_id = _newsletter(session)
    ids = register_links(session, newsletter_id, ["https://lemois-ess.org/"])
    signer = Signer([KEY])
    links = TrackedLinks("https://news.example", signer, newsletter_id, ids, anonymous=True)
    anne = tracked_recipient(links, Subscriber(email="anne@example.org"), 77)
    paul = tracked_recipient(links, Subscriber(email="paul@example.org"), 78)
    assert anne.pixel_url == paul.pixel_url
    assert anne.link("https://lemois-ess.org/") == paul.link("https://lemois-ess.org/")
    pixel = anne.pixel_url.rsplit("/", 1)[1].removesuffix(".gif")
    assert signer.verify(pixel, "open") is None
    assert signer.verify(pixel, "open-anon") == (newsletter_id,)
    # Unsubscribing still acts for the person.
    assert signer.verify(anne.unsubscribe_url.rsplit("/", 1)[1], "unsubscribe") == (77,)
    # Signed together (the sending path), anonymous clicks are the same URLs.
    assert anne.follow(["https://lemois-ess.org/"]) == [anne.link("https://lemois-ess.org/")]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",  # the default
        "http://lemois-ess.org",  # not https: no one-click unsubscribe (RFC 8058)
        "https://127.0.0.1:8000",
        "https://10.0.0.5",
        "https://192.168.1.20:8443",
        "https://[::1]:8000",
        "https://203.0.113.7",  # a bare IP address, even a routable one
        "https://localhost:8000",
        "https://liens.localhost",
        "https://campaign.local",
        "https://intranet",
        "https://example.org",
        "https://lemois.example.com",
        "https://www.example.net/liens",
        "https://campaign.test",
    ],
)
def test_links_no_recipient_can_open_are_not_public(url: str) -> None:
    assert public_url_problem(url)


@pytest.mark.parametrize(
    "url", ["https://lemois-ess.org", "https://liens.lemois-ess.org:8443/campagne", "HTTPS://X.FR"]
)
def test_https_on_a_public_host_is_public(url: str) -> None:
    assert public_url_problem(url) == ""


def test_only_real_mail_needs_public_links() -> None:
    settings = Settings()  # the default public_url, http://127.0.0.1:8000
    check_public_url(settings, "Newsletter 1")  # the outbox: nothing leaves the machine
    settings.mail.transport = "smtp"
    with pytest.raises(CampaignError) as caught:
        check_public_url(settings, "Newsletter 1")
    message = str(caught.value)
    assert message.startswith("Newsletter 1 cannot be sent over SMTP: [web] public_url")
    assert "'http://127.0.0.1:8000' is not https" in message
    assert "[web] allow_insecure_links = true" in message
    settings.web.allow_insecure_links = True  # a test relay, on purpose
    check_public_url(settings, "Newsletter 1")
    settings.web.allow_insecure_links = False
    settings.web.public_url = "https://user:s3cret@liens.example.org"
    with pytest.raises(CampaignError) as caught:
        check_public_url(settings, "Newsletter 1")
    assert "s3cret" not in str(caught.value)
