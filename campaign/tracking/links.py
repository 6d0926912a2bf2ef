"""The per-recipient URLs of a newsletter being sent: pixel, tracked links, unsubscribe, view.

Every URL carries a signed token (:mod:`campaign.tracking.tokens`) naming the delivery, and for
a click the :class:`~campaign.models.Link` row of the target. The web service verifies the
token and looks the target up in that table, never in the request. Routes:

    {public_url}/o/TOKEN.gif    open pixel            token "open" (delivery)
    {public_url}/c/TOKEN        tracked click         token "click" (delivery, link, newsletter)
    {public_url}/u/TOKEN        unsubscribe page      token "unsubscribe" (delivery)
    {public_url}/v/TOKEN        view in the browser   token "view" (delivery)

A click token also names the delivery's newsletter, signed at sending time: the click route
checks that the link belongs to that newsletter from its cache of the (small) link table,
without reading the delivery row on every click; the hit writer checks the delivery's newsletter
again before recording the click.

With anonymous tracking (the privacy setting) the pixel and click tokens name the newsletter
instead of the delivery (kinds "open-anon" and "click-anon"): hits still count per newsletter and
link, without a way back to the person. Unsubscribe and view links always name the delivery:
they act for the person and are not tracking.

Mail sent for real (the SMTP transport) must carry links its recipients can open: an https
``public_url`` on a public host (:func:`check_public_url`). The default, ``http://127.0.0.1:8000``,
is right for the demo and the outbox, and would make every link of a real message dead, the
one-click unsubscribe included (RFC 8058 requires https).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from campaign.config import mask_url
from campaign.errors import CampaignError
from campaign.models import Link
from campaign.tracking.tokens import Signer, pack

if TYPE_CHECKING:
    from campaign.config import Settings

OPEN, CLICK, UNSUBSCRIBE, VIEW = "open", "click", "unsubscribe", "view"
OPEN_ANONYMOUS, CLICK_ANONYMOUS = "open-anon", "click-anon"


# Names that never reach a recipient: RFC 2606 and RFC 6761 reserved names, mDNS, home networks.
_NOT_PUBLIC_SUFFIXES = (
    ".localhost", ".local", ".test", ".invalid", ".example", ".internal", ".lan", ".home.arpa",
    ".example.org", ".example.com", ".example.net",
)  # fmt: skip
_NOT_PUBLIC_NAMES = {"example.org", "example.com", "example.net"}


def public_url_problem(url: str) -> str:
    """Why links starting with ``url`` could not be opened by recipients of real mail, as the
    end of a sentence ("" when they could): not https, or not a public host name (a bare IP
    address, loopback or private ones included; ``localhost``; a one-label name; ``.local``,
    ``example.org`` and the other reserved names)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        return "is not https"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "names no host"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return f"names a bare IP address ({host}), not a public host name"
    if "." not in host or host in _NOT_PUBLIC_NAMES or host.endswith(_NOT_PUBLIC_SUFFIXES):
        return f"names {host}, which is no public host name"
    return ""


def check_public_url(settings: Settings, what: str) -> None:
    """Refuse sending ``what`` ("Newsletter 3", "A test message") over SMTP while ``[web]
    public_url`` is not https on a public host, unless ``[web] allow_insecure_links`` says it
    is on purpose (a test relay). The outbox transport sends nothing and is never refused."""
    if settings.mail.transport != "smtp" or settings.web.allow_insecure_links:
        return
    url = settings.web.public_url
    problem = public_url_problem(url)
    if problem:
        raise CampaignError.of(
            "mail.insecure_public_url", what=what, url=mask_url(url), problem=problem
        )


def register_links(session: Session, newsletter_id: int, urls: Iterable[str]) -> dict[str, int]:
    """The :class:`Link` id of each URL of the newsletter, creating the rows missing.

    Safe when several senders register the same URLs at once: a row another process created
    first is read back instead.
    """
    wanted = list(dict.fromkeys(urls))
    found = _existing(session, newsletter_id, wanted)
    for url in wanted:
        if url in found:
            continue
        try:
            with session.begin_nested():
                link = Link(newsletter_id=newsletter_id, url=url)
                session.add(link)
                session.flush()
        except IntegrityError:
            found.update(_existing(session, newsletter_id, [url]))
        else:
            assert link.id is not None
            found[url] = link.id
    return found


def _existing(session: Session, newsletter_id: int, urls: list[str]) -> dict[str, int]:
    if not urls:
        return {}
    rows = session.exec(
        select(Link.url, Link.id).where(
            col(Link.newsletter_id) == newsletter_id, col(Link.url).in_(urls)
        )
    ).all()
    return {url: link_id for url, link_id in rows if link_id is not None}


@dataclass(frozen=True)
class TrackedLinks:
    """Builds the signed URLs of one newsletter's recipients (see the module docstring)."""

    public_url: str
    signer: Signer
    newsletter_id: int
    link_ids: Mapping[str, int]
    anonymous: bool = False

    def pixel_url(self, delivery_id: int) -> str:
        if self.anonymous:
            token = self.signer.sign(OPEN_ANONYMOUS, self.newsletter_id)
        else:
            token = self.signer.sign(OPEN, delivery_id)
        return f"{self.public_url}/o/{token}.gif"

    def click_url(self, delivery_id: int, url: str) -> str:
        link_id = self.link_ids.get(url)
        if link_id is None:  # not a registered link: leave it untracked rather than broken
            return url
        if self.anonymous:
            token = self.signer.sign(CLICK_ANONYMOUS, self.newsletter_id, link_id)
        else:
            token = self.signer.sign(CLICK, delivery_id, link_id, self.newsletter_id)
        return f"{self.public_url}/c/{token}"

    @cached_property
    def _click_rests(self) -> dict[str, bytes]:
        """Each registered URL's token ids after the first, packed once per group."""
        if self.anonymous:
            return {url: pack((link_id,)) for url, link_id in self.link_ids.items()}
        return {url: pack((link_id, self.newsletter_id)) for url, link_id in self.link_ids.items()}

    def click_urls(self, delivery_id: int, urls: Sequence[str]) -> list[str]:
        """:meth:`click_url` of each URL, signed in one go (the per-recipient path)."""
        rests = self._click_rests
        tracked = [url for url in urls if url in rests]
        if self.anonymous:
            tokens = self.signer.sign_each(
                CLICK_ANONYMOUS, self.newsletter_id, [rests[url] for url in tracked]
            )
        else:
            tokens = self.signer.sign_each(CLICK, delivery_id, [rests[url] for url in tracked])
        signed = dict(zip(tracked, tokens, strict=True))
        base = f"{self.public_url}/c/"
        return [base + signed[url] if url in signed else url for url in urls]

    def unsubscribe_url(self, delivery_id: int) -> str:
        return f"{self.public_url}/u/{self.signer.sign(UNSUBSCRIBE, delivery_id)}"

    def view_url(self, delivery_id: int) -> str:
        return f"{self.public_url}/v/{self.signer.sign(VIEW, delivery_id)}"
