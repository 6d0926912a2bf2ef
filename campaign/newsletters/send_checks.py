"""The checks a newsletter passes before it is planned or sent, made here for every door (the
dashboard's buttons, the command line, the queue itself): the same refusals, the same codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session

from campaign.addresses import InvalidEmail, sender_address
from campaign.errors import CampaignError
from campaign.models import Newsletter
from campaign.newsletters import allowed
from campaign.sender import check_real_send, refuse_placeholders, with_sender
from campaign.tracking.links import check_public_url

if TYPE_CHECKING:
    from campaign.config import Settings

__all__ = ["check_plannable", "check_sendable", "check_sender"]


def check_sender(newsletter: Newsletter, settings: Settings) -> None:
    """Refuse a send whose sender addresses no message could carry, naming the one to fix,
    and a real (SMTP) send from the sample identity (:func:`~campaign.sender.refuse_placeholders`,
    whose :class:`~campaign.sender.SenderRefused` carries a code and field). ``settings``: with
    the identity in force (:func:`~campaign.sender.with_sender`).

    Settings and newsletters are checked when written; this catches what was stored before
    those checks existed (or changed by hand). Without it, every recipient would be failed one
    by one and the newsletter marked sent.
    """
    number = newsletter.id
    mail = settings.mail
    # (the setting at fault, "" for the newsletter's own address; the address)
    if newsletter.from_address:
        fields = [("", newsletter.from_address)]
    else:
        fields = [("from_address", mail.from_address)]
    if mail.reply_to:
        fields.append(("reply_to", mail.reply_to))
    for setting, address in fields:
        try:
            sender_address(address)
        except InvalidEmail as exc:
            raise CampaignError.of(
                "newsletter.bad_setting_sender" if setting else "newsletter.bad_own_sender",
                "from_address",
                id=number,
                setting=setting,
                address=address,
                reason=str(exc).rstrip("."),
            ) from None
    domain = mail.return_path_domain or newsletter.from_address or mail.from_address
    domain = domain.rpartition("@")[2]
    for what, setting in (("bounce", "return_path_prefix"), ("unsubscribe", "unsubscribe_prefix")):
        prefix = getattr(mail, setting)
        if not prefix:
            continue
        address = f"{prefix}+token@{domain}"
        try:
            sender_address(address)
        except InvalidEmail as exc:
            raise CampaignError.of(
                f"newsletter.bad_{what}_address",
                id=number,
                setting=setting,
                address=address,
                reason=str(exc).rstrip("."),
            ) from None
    if mail.transport == "smtp":
        # Real mail only: the outbox may keep the sample identity, nothing leaves the machine.
        refuse_placeholders(mail, f"Newsletter {number}", newsletter.from_address)


def check_sendable(session: Session, newsletter: Newsletter, settings: Settings) -> None:
    """Refuse sending ``newsletter`` now: a status that may not be sent, a sender no message
    could carry (with the identity in force, stored or the file's), links no recipient could
    open; asked before the send is confirmed, and again when it is made."""
    allowed.check(newsletter, allowed.SEND)
    settings = with_sender(session, settings)
    check_sender(newsletter, settings)
    check_public_url(settings, f"Newsletter {newsletter.id}")


def check_plannable(session: Session, newsletter: Newsletter, settings: Settings) -> None:
    """Refuse planning ``newsletter``: over SMTP, the sample identity
    (:func:`~campaign.sender.check_real_send`)."""
    check_real_send(session, settings, newsletter.from_address, f"Newsletter {newsletter.id}")
