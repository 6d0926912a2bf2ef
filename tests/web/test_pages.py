"""Unsubscribe and "view in the browser" over real HTTP: GET never acts, POST does, once."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from campaign.models import ConsentEvent, Subscriber, SubscriberStatus, utcnow
from tests.diskfull import fill, no_growth, room_again

pytestmark = pytest.mark.one_database(
    "the public routes' answers, a door: the stages they call are tested on both engines"
)

XSS = '<script>alert("x")</script>'


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


def _tags(html: str) -> set[str]:
    """The elements a browser would build from ``html`` (a "<" inside a quoted attribute
    value is text, not a tag)."""
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def _unsubscribe_path(live, sent, name: str = "Anne") -> str:
    return f"/u/{live.signer.sign('unsubscribe', sent.deliveries[name])}"


def test_the_unsubscribe_page_asks_and_a_get_never_unsubscribes(live, kit) -> None:
    sent = kit.send(live)
    path = _unsubscribe_path(live, sent)
    for _ in range(3):  # a link scanner following the link, several times
        answer = live.get(path)
        assert answer.status_code == 200
        assert "Se désinscrire" in answer.text and "anne@example.org" in answer.text
        assert answer.text.count("<form") == 1 and 'method="post"' in answer.text
    head = live.head(path)
    assert head.status_code == 200  # and unsubscribes nobody either
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.active
    assert all(line.action != "unsubscribed" for line in kit.consent("anne@example.org"))
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]


def test_the_page_button_unsubscribes_and_logs_the_delivery(live, kit) -> None:
    sent = kit.send(live)
    path = _unsubscribe_path(live, sent)
    page = live.get(path)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    assert action == live.url + path
    answer = live.post(path, data={})
    assert answer.status_code == 200
    assert "Vous êtes désinscrit·e" in answer.text
    assert "Me réinscrire" in answer.text  # the page offers to resubscribe
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.unsubscribed
    assert kit.subscriber("paul@example.org").status == SubscriberStatus.active
    line = kit.consent("anne@example.org")[-1]
    assert (line.action, line.method) == ("unsubscribed", "link")
    assert line.source == f"newsletter {sent.newsletter_id}, delivery {sent.deliveries['Anne']}"
    assert line.detail == "unsubscribe page"


def test_one_click_unsubscribe_as_gmail_sends_it(live, kit) -> None:
    sent = kit.send(live)
    (message,) = [m for m in sent.messages() if "anne@example.org" in m["To"]]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.search(r"<(http[^>]+)>", message["List-Unsubscribe"]).group(1)
    # What Gmail sends: a POST with that body, form-encoded, no cookie, no form token.
    fresh = type(live.http)()
    answer = fresh.post(
        url,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Google"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 200
    assert not fresh.cookies
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.unsubscribed
    line = kit.consent("anne@example.org")[-1]
    assert (line.action, line.method, line.detail) == (
        "unsubscribed",
        "link",
        "one-click (RFC 8058)",
    )
    # Idempotent: again, 200, nothing more logged.
    before = len(kit.consent("anne@example.org"))
    again = fresh.post(url, data="List-Unsubscribe=One-Click", timeout=10, allow_redirects=False)
    assert again.status_code == 200
    assert len(kit.consent("anne@example.org")) == before
    assert "Vous êtes désinscrit·e" in again.text


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_is_recognised_whatever_the_form_encoding(live, kit, encoding: str) -> None:
    """RFC 8058 lets the POST body be application/x-www-form-urlencoded or multipart/form-data."""
    sent = kit.send(live)
    fresh = type(live.http)()
    url = live.url + _unsubscribe_path(live, sent)
    if encoding == "multipart":  # files= makes requests write multipart/form-data
        answer = fresh.post(url, files={"List-Unsubscribe": (None, "One-Click")}, timeout=10)
    else:
        answer = fresh.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert answer.request.headers["Content-Type"].startswith(
        "multipart/form-data" if encoding == "multipart" else "application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.unsubscribed
    line = kit.consent("anne@example.org")[-1]
    assert (line.action, line.method, line.detail) == (
        "unsubscribed",
        "link",
        "one-click (RFC 8058)",
    )


def test_a_post_of_another_field_or_a_broken_body_still_unsubscribes_from_the_page(
    live, kit
) -> None:
    sent = kit.send(live)
    fresh = type(live.http)()
    # The words in another field are no one-click request.
    note = fresh.post(
        live.url + _unsubscribe_path(live, sent),
        files={"note": (None, "List-Unsubscribe=One-Click")},
        timeout=10,
    )
    assert note.status_code == 200
    assert kit.consent("anne@example.org")[-1].detail == "unsubscribe page"
    broken = fresh.post(
        live.url + _unsubscribe_path(live, sent, "Paul"),
        data=b"--x\r\nnot a part",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
        timeout=10,
    )
    assert broken.status_code == 200
    assert kit.subscriber("paul@example.org").status == SubscriberStatus.unsubscribed
    assert kit.consent("paul@example.org")[-1].detail == "unsubscribe page"


def test_resubscribing_from_the_page_undoes_it(live, kit) -> None:
    sent = kit.send(live)
    path = _unsubscribe_path(live, sent)
    live.post(path)
    assert live.get(path).text.count("Vous êtes déjà désinscrit·e") == 1
    answer = live.post(path + "/resubscribe")
    assert answer.status_code == 200
    assert "Vous êtes à nouveau inscrit·e" in answer.text
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.active
    line = kit.consent("anne@example.org")[-1]
    assert (line.action, line.method) == ("resubscribed", "link")
    # A GET of the resubscribe address does nothing.
    live.post(path)
    assert live.get(path + "/resubscribe").status_code == 405
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.unsubscribed


def test_a_bounced_person_cannot_be_resubscribed_by_a_link(live, kit) -> None:
    sent = kit.send(live)
    with Session(live.engine) as session:
        session.exec(
            update(Subscriber)
            .where(col(Subscriber.email) == "anne@example.org")
            .values(status=SubscriberStatus.bounced)
        )
        session.commit()
    path = _unsubscribe_path(live, sent)
    before = len(kit.consent("anne@example.org"))
    assert live.post(path, data="List-Unsubscribe=One-Click").status_code == 200
    answer = live.post(path + "/resubscribe")
    assert answer.status_code == 200
    assert "ne permet pas de vous réinscrire" in answer.text
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.bounced
    assert len(kit.consent("anne@example.org")) == before


def test_an_erased_person_sees_no_personal_data(live, kit) -> None:
    sent = kit.send(live)
    with Session(live.engine) as session:
        anne = session.exec(select(Subscriber).where(Subscriber.email == "anne@example.org")).one()
        anne.email = None
        anne.first_name = ""
        anne.erased_at = utcnow()
        session.add(anne)
        session.commit()
    path = _unsubscribe_path(live, sent)
    answer = live.post(path, data="List-Unsubscribe=One-Click")
    assert answer.status_code == 200
    assert "n'est plus enregistrée" in answer.text and "anne@" not in answer.text
    assert live.get(f"/v/{live.signer.sign('view', sent.deliveries['Anne'])}").status_code == 404


def test_view_in_browser_shows_what_the_recipient_received_with_real_links(live, kit) -> None:
    sent = kit.send(live)
    html_sent = sent.html("anne@example.org")
    view_url = re.search(r'href="([^"]+/v/[^"]+)"', html_sent).group(1)
    answer = live.get(view_url[len(live.url) :])
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "Forum de l'ESS à Rennes" in answer.text or "Forum de l&#39;ESS" in answer.text
    assert "anne@example.org" in answer.text  # personalised for that delivery
    # The very same signed links as in the email: tracked clicks, unsubscribe, pixel.
    sent_links = set(re.findall(r'(?:href|src)="([^"]+/[ocuv]/[^"]+)"', html_sent))
    shown_links = set(re.findall(r'(?:href|src)="([^"]+/[ocuv]/[^"]+)"', answer.text))
    assert sent_links and sent_links == shown_links
    click = next(link for link in shown_links if "/c/" in link)
    followed = live.get(click[len(live.url) :])
    assert followed.status_code == 302
    assert "img-src * data:" in answer.headers["Content-Security-Policy"]
    assert "script-src" not in answer.headers["Content-Security-Policy"]  # default-src 'none'


def test_subscriber_and_event_data_are_escaped_on_every_page(live, kit) -> None:
    sent = kit.send(
        live,
        {XSS: "xss@example.org"},
        event_title=f"Forum {XSS}",
        title=f"Lettre {XSS}",
    )
    delivery = sent.deliveries[XSS]
    pages = [
        live.get(f"/u/{live.signer.sign('unsubscribe', delivery)}"),
        live.post(f"/u/{live.signer.sign('unsubscribe', delivery)}"),
        live.post(f"/u/{live.signer.sign('unsubscribe', delivery)}/resubscribe"),
        live.get(f"/v/{live.signer.sign('view', delivery)}"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "script" not in _tags(page.text), page.url
    assert "&lt;script&gt;" in pages[0].text  # the name and the title, shown as text
    assert "Lettre &lt;script&gt;" in pages[0].text
    assert "Forum &lt;script&gt;" in pages[3].text


def test_consent_lines_name_the_newsletter_and_delivery(live, kit) -> None:
    sent = kit.send(live)
    live.post(_unsubscribe_path(live, sent, "Paul"))
    with Session(live.engine) as session:
        lines = session.exec(
            select(ConsentEvent).where(ConsentEvent.action == "unsubscribed")
        ).all()
    assert [line.source for line in lines] == [
        f"newsletter {sent.newsletter_id}, delivery {sent.deliveries['Paul']}"
    ]
    assert lines[0].actor == "subscriber"


def test_the_dashboard_is_served_under_admin_and_asks_to_sign_in(live) -> None:
    response = live.get("/admin/newsletters")
    assert response.status_code in (302, 303)
    assert response.headers["location"].endswith("/admin/login?next=%2Fadmin%2Fnewsletters")
    page = live.get("/admin/login")
    assert page.status_code == 200 and "<form" in page.text
    # The public routes are unchanged around it.
    assert live.get("/admin-not-here").status_code == 404


def test_an_unsubscribe_the_full_disk_refuses_says_so_and_can_be_sent_again(
    live, kit, database_url: str
) -> None:
    """Before: an HTTP 500. Now a page saying nothing was recorded, with the button again."""
    if not database_url.startswith("sqlite"):
        pytest.skip("a full disk is made with SQLite's page limit")
    sent = kit.send(live)
    anne, paul = _unsubscribe_path(live, sent), _unsubscribe_path(live, sent, "Paul")
    assert live.post(paul, data={}).status_code == 200  # Paul left before the disk filled up
    subscriber_id = kit.subscriber("anne@example.org").id
    no_growth(live.engine)
    fill(
        live.engine,
        lambda padding: ConsentEvent(
            subscriber_id=subscriber_id, action="note", method="test", detail=padding
        ),
    )

    answer = live.post(anne, data={})
    assert answer.status_code == 503
    assert "Votre demande n'a pas pu être enregistrée" in answer.text
    assert "Réessayez dans quelques minutes" in answer.text
    assert "désinscrit·e" not in answer.text  # nothing is claimed as done
    action = re.search(r'<form method="post" action="([^"]+)"', answer.text).group(1)
    assert action == live.url + anne and "Me désinscrire" in answer.text
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.active
    assert all(line.action != "unsubscribed" for line in kit.consent("anne@example.org"))

    back = live.post(f"{paul}/resubscribe", data={})
    assert back.status_code == 503 and "Me réinscrire" in back.text
    action = re.search(r'<form method="post" action="([^"]+)"', back.text).group(1)
    assert action == f"{live.url}{paul}/resubscribe"
    assert kit.subscriber("paul@example.org").status == SubscriberStatus.unsubscribed

    room_again(live.engine)  # the same button, a few minutes later
    again = live.post(anne, data={})
    assert again.status_code == 200 and "Vous êtes désinscrit·e" in again.text
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.unsubscribed
