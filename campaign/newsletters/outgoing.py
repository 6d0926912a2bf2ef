"""The outgoing message of each claimed row: its group compiled for sending, its personalised
body and its signed addresses (Message-ID, VERP bounce address, mailto unsubscribe).

A group is compiled once per run (never per recipient); each message is personalised when the
transport takes it (:class:`BatchMessages`). See :mod:`.queue` for the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from campaign.mail.outbox import OutgoingMessage
from campaign.models import Newsletter
from campaign.newsletters.claims import Claimed
from campaign.newsletters.preview import compile_group, group_events
from campaign.newsletters.recipients import tracked_recipient
from campaign.newsletters.render import CompiledNewsletter
from campaign.tracking.links import TrackedLinks, register_links
from campaign.tracking.tokens import BOUNCE, MESSAGE_ID, UNSUBSCRIBE_MAIL, Signer

if TYPE_CHECKING:
    from campaign.config import Settings


def message_id(signer: Signer, delivery_id: int, newsletter_id: int, domain: str) -> str:
    """The Message-ID of a delivery: a signed token naming the row and its newsletter.

    Bounces quoting it name the row. Signed, it cannot be guessed: with ``<d42.n7@domain>``
    anyone could forge a bounce that suppresses a subscriber. Each install signs with its own
    key, so two installs sending from one domain never write the same Message-ID.
    """
    return f"<{signer.sign_address(MESSAGE_ID, delivery_id, newsletter_id)}@{domain}>"


@dataclass(frozen=True)
class SendingGroup:
    """One audience group compiled for sending: its newsletter, its signed links, and the
    headers every message of the group shares."""

    compiled: CompiledNewsletter
    links: TrackedLinks
    from_address: str = ""
    from_name: str = ""
    reply_to: str = ""
    domain: str = ""
    list_id: str = ""
    bounce_prefix: str = ""
    bounce_domain: str = ""  # of the bounce and the mailto unsubscribe addresses
    unsubscribe_prefix: str = ""


def compile_for_sending(
    session: Session, newsletter: Newsletter, settings: Settings, signer: Signer, group_key: str
) -> SendingGroup | None:
    """The group compiled with its events as of now; None for a group left out (no event)."""
    selection = group_events(session, newsletter, settings, group_key)
    if selection.skipped:
        return None
    compiled, _ = compile_group(session, newsletter, settings, group_key, selection=selection)
    assert newsletter.id is not None
    link_ids = register_links(session, newsletter.id, compiled.links)
    tracked = TrackedLinks(
        public_url=settings.web.public_url,
        signer=signer,
        newsletter_id=newsletter.id,
        link_ids=link_ids,
        anonymous=newsletter.anonymous_tracking or settings.tracking.anonymous,
    )
    address = newsletter.from_address or settings.mail.from_address
    domain = address.rpartition("@")[2] or "localhost"
    list_key = newsletter.list_ids[0] if newsletter.list_ids else newsletter.id
    return SendingGroup(
        compiled,
        tracked,
        from_address=address,
        from_name=newsletter.from_name or settings.mail.from_name,
        reply_to=settings.mail.reply_to,
        domain=domain,
        list_id=f"<list{list_key}.{domain}>",
        bounce_prefix=settings.mail.return_path_prefix,
        bounce_domain=settings.mail.return_path_domain or domain,
        unsubscribe_prefix=settings.mail.unsubscribe_prefix,
    )


def bounce_address(signer: Signer, delivery_id: int, prefix: str, domain: str) -> str:
    """The VERP envelope sender of a delivery: ``prefix+TOKEN@domain``, TOKEN naming the row.

    A bounce comes back to this address, so the address alone says which delivery failed even
    when the bounce quotes nothing of the original message.
    """
    return f"{prefix}+{signer.sign_address(BOUNCE, delivery_id)}@{domain}"


def unsubscribe_address(signer: Signer, delivery_id: int, prefix: str, domain: str) -> str:
    """The mailto address of a delivery's List-Unsubscribe: ``prefix+TOKEN@domain``.

    Mail clients without one-click send a message to it; ``campaign bounces ingest``, which the
    bounce address's domain already reaches, reads the token and unsubscribes the person as the
    one-click link does. The From mailbox, which nothing reads, is never the target.
    """
    return f"{prefix}+{signer.sign_address(UNSUBSCRIBE_MAIL, delivery_id)}@{domain}"


def _message(
    row: Claimed, subscriber: Any, newsletter_id: int, group: SendingGroup, signer: Signer
) -> OutgoingMessage:
    recipient = tracked_recipient(group.links, subscriber, row.id)
    subject, text, html_parts = group.compiled.personalise_chunks(recipient)
    unsubscribe = f"<{recipient.unsubscribe_url}>"
    if group.unsubscribe_prefix:
        address = unsubscribe_address(signer, row.id, group.unsubscribe_prefix, group.bounce_domain)
        unsubscribe += f", <mailto:{address}?subject=unsubscribe>"
    headers = {
        "List-Unsubscribe": unsubscribe,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": group.list_id,
    }
    envelope = ""
    if group.bounce_prefix:
        envelope = bounce_address(signer, row.id, group.bounce_prefix, group.bounce_domain)
    return OutgoingMessage(
        from_address=group.from_address,
        from_name=group.from_name,
        reply_to=group.reply_to,
        to=row.email,
        to_name=f"{subscriber.first_name} {subscriber.last_name}".strip(),
        subject=subject,
        text="",
        text_parts=tuple(text),
        html="",
        html_parts=tuple(html_parts),
        headers=headers,
        message_id=message_id(signer, row.id, newsletter_id, group.domain),
        envelope_from=envelope,
    )


class BatchMessages(Sequence[OutgoingMessage]):
    """A batch whose messages are personalised when the transport takes them.

    The SMTP transport's connections take messages one at a time in their own threads, so each
    message is built while the other connections wait for the server: building overlaps
    sending instead of preceding it.
    """

    def __init__(
        self, items: list[tuple[Claimed, Any, SendingGroup]], newsletter_id: int, signer: Signer
    ):
        self._items = items
        self._newsletter_id = newsletter_id
        self._signer = signer

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[number] for number in range(*index.indices(len(self)))]
        row, person, group = self._items[index]
        return _message(row, person, self._newsletter_id, group, self._signer)
