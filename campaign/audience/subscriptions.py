"""What a subscriber's own clicks do: unsubscribe, resubscribe, subscribe, confirm.

These are the web service's writes; each runs in one transaction committed before the page
answers, and each change of status writes a consent log line saying how (``link`` for the signed
links of an email, ``form`` for the subscribe form; ``mailto`` when ``campaign bounces ingest``
reads a message to the List-Unsubscribe address) and from where.

Decisions (docs/reference/tracking.md):

- **Unsubscribing** from a newsletter's link sets the person's status to ``unsubscribed``: no
  newsletter reaches them any more, whatever the list (the safe reading of "unsubscribe" for a
  sender with several lists, and what the law and mailbox providers expect). Their list
  memberships are kept, so resubscribing brings back the same newsletters. It is idempotent:
  a second request changes nothing and logs nothing.
- **Resubscribing** from the page that confirms an unsubscription is the person's own click on
  their own signed link: it makes an ``unsubscribed`` person active again. A ``bounced`` or
  ``complained`` person is never reactivated by a link: their address does not work or they
  reported us as spam; an administrator decides.
- **Subscribing** through the public form never reveals whether an address is known: the same
  page follows every request. A new address becomes a ``pending`` subscriber on the chosen list
  and receives a confirmation email; a pending or unsubscribed one receives the confirmation
  email again (their own click on it is what reactivates an unsubscribed person); an active one
  not yet on the list receives it too (the list is added on confirmation); an active member of
  the list, a bounced or a complained address receive nothing. The form never changes what is
  stored about a known address.
- **The first name** typed in the form goes into the confirmation email sent to the address,
  which anyone may type: it is refused unless it is a name (letters, spaces, hyphens,
  apostrophes, the dot of an initial; at most :data:`MAX_FIRST_NAME` characters), so no one can
  put a link, an address or a paragraph of their own into our email. A stored name that would
  not pass is left out of the email.
- **Confirming** needs a ``POST`` from the page the email links to (link scanners follow GETs):
  ``pending`` and ``unsubscribed`` become ``active`` and join the list. A confirmation link acts
  once, and never after a later unsubscription: its token carries the moment it was issued, and
  the consent log says whether, since then, the link was used (a ``link`` line confirming,
  resubscribing or subscribing to its list) or the person unsubscribed (from everything or from
  its list). Such a link only says it was already used; a new request through the form gets a
  new one. No table is needed, and the person's own later choice always wins.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from campaign.addresses import normalise_email
from campaign.audience.lists import get_or_create_list
from campaign.audience.subscribers import (
    add_subscriber,
    change_status,
    log_consent,
    membership_of,
)
from campaign.models import (
    ConsentAction,
    ConsentEvent,
    Delivery,
    MailingList,
    Membership,
    Newsletter,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from campaign.tracking.tokens import Signer

ACTOR = "subscriber"
CONFIRM = "confirm"  # tokens issued before links were single-use: (person, list, day)
CONFIRM_ONCE = "confirm-once"  # (person, list, millisecond issued)
DAY = 86_400
MAX_FIRST_NAME = 60
_NAME_MARKS = frozenset(" -'’.")  # besides letters: compound names, d'Arc, initials (J.-P.)
_DOT_IN_A_WORD = re.compile(r"\.(?![ -]|$)")  # example.com: what mail clients make a link of


class Standing(StrEnum):
    """Where a person stands, as the pages tell it."""

    subscribed = "subscribed"  # receives newsletters (active or pending)
    unsubscribed = "unsubscribed"
    undeliverable = "undeliverable"  # bounced or complained: no link changes that
    gone = "gone"  # erased, or the delivery names nobody


@dataclass(frozen=True)
class DeliveryPerson:
    """A delivery's newsletter and person, as the unsubscribe page shows them."""

    delivery_id: int
    newsletter_id: int
    newsletter_title: str
    email: str
    first_name: str
    standing: Standing


def _standing(subscriber: Subscriber | None) -> Standing:
    if subscriber is None or subscriber.erased_at is not None or not subscriber.email:
        return Standing.gone
    if subscriber.status in (SubscriberStatus.bounced, SubscriberStatus.complained):
        return Standing.undeliverable
    if subscriber.status == SubscriberStatus.unsubscribed:
        return Standing.unsubscribed
    return Standing.subscribed


def _source(delivery: Delivery) -> str:
    return f"newsletter {delivery.newsletter_id}, delivery {delivery.id}"


def _load(session: Session, delivery_id: int) -> tuple[Delivery, Subscriber | None, str] | None:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        return None
    subscriber = session.get(Subscriber, delivery.subscriber_id) if delivery.subscriber_id else None
    newsletter = session.get(Newsletter, delivery.newsletter_id)
    return delivery, subscriber, newsletter.title if newsletter else ""


def _person(delivery: Delivery, subscriber: Subscriber | None, title: str) -> DeliveryPerson:
    standing = _standing(subscriber)
    shown = subscriber if standing != Standing.gone else None
    assert delivery.id is not None
    return DeliveryPerson(
        delivery_id=delivery.id,
        newsletter_id=delivery.newsletter_id,
        newsletter_title=title,
        email=(shown.email or "") if shown else "",
        first_name=shown.first_name if shown else "",
        standing=standing,
    )


def delivery_person(session: Session, delivery_id: int) -> DeliveryPerson | None:
    """Who a delivery went to and where they stand; None if the delivery does not exist."""
    loaded = _load(session, delivery_id)
    return _person(*loaded) if loaded else None


def unsubscribe_delivery(
    session: Session,
    delivery_id: int,
    *,
    detail: str = "",
    method: str = "link",
    commit: bool = True,
) -> DeliveryPerson | None:
    """Unsubscribe the person a delivery went to (idempotent); None if no such delivery.

    ``method`` is the consent log's: ``link`` for the web pages, ``mailto`` for a message to
    the List-Unsubscribe address (read by ``campaign bounces ingest``, which commits itself:
    ``commit=False``).
    """
    loaded = _load(session, delivery_id)
    if loaded is None:
        return None
    delivery, subscriber, title = loaded
    if subscriber is not None and _standing(subscriber) == Standing.subscribed:
        change_status(
            session,
            subscriber,
            SubscriberStatus.unsubscribed,
            ConsentAction.unsubscribed,
            method=method,
            actor=ACTOR,
            source=_source(delivery),
            detail=detail,
        )
        session.add(subscriber)
        if commit:
            session.commit()
    return _person(delivery, subscriber, title)


def resubscribe_delivery(session: Session, delivery_id: int) -> DeliveryPerson | None:
    """Undo an unsubscription from the same link; bounced and complained people stay so."""
    loaded = _load(session, delivery_id)
    if loaded is None:
        return None
    delivery, subscriber, title = loaded
    if subscriber is not None and _standing(subscriber) == Standing.unsubscribed:
        change_status(
            session,
            subscriber,
            SubscriberStatus.active,
            ConsentAction.resubscribed,
            method="link",
            actor=ACTOR,
            source=_source(delivery),
        )
        session.add(subscriber)
        session.commit()
    return _person(delivery, subscriber, title)


# --- the subscribe form --------------------------------------------------------------------------


class InvalidFirstName(ValueError):
    """A first name the subscribe form does not take (see :func:`clean_first_name`)."""


def clean_first_name(text: str) -> str:
    """The first name as typed, its spaces collapsed (control characters and line breaks
    included); :class:`InvalidFirstName` unless it is letters, spaces, hyphens, apostrophes and
    dots ending an initial, at most :data:`MAX_FIRST_NAME` characters. No link, address, digit,
    markup or invisible character passes, nor a dot inside a word (``example.com``): a mail
    client can make a link of nothing that passes."""
    name = " ".join(text.split())
    if len(name) > MAX_FIRST_NAME:
        raise InvalidFirstName(f"over {MAX_FIRST_NAME} characters")
    for char in name:
        if char not in _NAME_MARKS and unicodedata.category(char)[0] not in "LM":
            raise InvalidFirstName(f"{char!r} is not in a name")
    if _DOT_IN_A_WORD.search(name):
        raise InvalidFirstName("a dot inside a word")
    if name and not any(char.isalpha() for char in name):
        raise InvalidFirstName("no letter")
    return name


def _shown_name(name: str) -> str:
    """A stored first name as the confirmation email may show it ("" if it would not pass)."""
    try:
        return clean_first_name(name)
    except InvalidFirstName:
        return ""


@dataclass(frozen=True)
class SubscribeRequest:
    email: str
    first_name: str
    list_name: str
    ip_prefix: str
    form_url: str


@dataclass(frozen=True)
class Confirmation:
    """A confirmation email to send: to whom, for which list, with which link token."""

    subscriber_id: int
    email: str
    first_name: str
    list_name: str
    token: str


def confirm_token(signer: Signer, subscriber_id: int, list_id: int, now: float) -> str:
    """The token of a confirmation link: the person, the list, the moment it was issued (what
    makes it single-use: see :func:`link_used`)."""
    return signer.sign(CONFIRM_ONCE, subscriber_id, list_id, int(now * 1000))


def request_subscription(
    session: Session, signer: Signer, request: SubscribeRequest, *, now: float | None = None
) -> Confirmation | None:
    """Record a form request; the confirmation email to send, if any (see the module docstring).

    Raises :class:`~campaign.addresses.InvalidEmail` for an address that cannot be one
    and :class:`InvalidFirstName` for a first name that is not one; nothing is written then.
    """
    now = time.time() if now is None else now
    address = normalise_email(request.email)
    first_name = clean_first_name(request.first_name)
    mailing_list = get_or_create_list(session, request.list_name)
    assert mailing_list.id is not None
    subscriber = session.exec(select(Subscriber).where(Subscriber.email == address)).first()
    if subscriber is None:
        try:
            with session.begin_nested():
                subscriber, _ = add_subscriber(
                    session,
                    address,
                    list_names=[mailing_list.name],
                    profile={"first_name": first_name},
                    status=SubscriberStatus.pending,
                    actor=ACTOR,
                    method="form",
                    source=(
                        f"subscribe form {request.form_url}, list « {mailing_list.name} », "
                        f"from {request.ip_prefix or 'unknown network'}"
                    )[:300],
                )
        except IntegrityError:  # the same address sent twice at once: the other one won
            subscriber = session.exec(select(Subscriber).where(Subscriber.email == address)).one()
    session.commit()
    if subscriber.status in (SubscriberStatus.bounced, SubscriberStatus.complained):
        return None
    if subscriber.status == SubscriberStatus.active and _is_member(
        session, subscriber, mailing_list
    ):
        return None
    assert subscriber.id is not None
    return Confirmation(
        subscriber_id=subscriber.id,
        email=address,
        first_name=_shown_name(subscriber.first_name),
        list_name=mailing_list.name,
        token=confirm_token(signer, subscriber.id, mailing_list.id, now),
    )


def _is_member(session: Session, subscriber: Subscriber, mailing_list: MailingList) -> bool:
    membership = membership_of(session, subscriber, mailing_list)
    return membership is not None and membership.unsubscribed_at is None


class ConfirmOutcome(StrEnum):
    confirmed = "confirmed"  # pending (or already active) person now on the list
    resubscribed = "resubscribed"  # an unsubscribed person who asked again
    expired = "expired"
    used = "used"  # already used, or the person unsubscribed since: nothing changed
    refused = "refused"  # bounced, complained or erased: nothing changed


@dataclass(frozen=True)
class ConfirmTarget:
    subscriber_id: int
    list_id: int
    issued: float  # seconds since the epoch

    def expired(self, valid_days: int, now: float | None = None) -> bool:
        today = int((time.time() if now is None else now) // DAY)
        return today - int(self.issued // DAY) > valid_days


_MAX_ID = 2**31 - 1  # the database's integer ids


def read_confirm_token(signer: Signer, token: str) -> ConfirmTarget | None:
    """The person, list and time of issue of a confirmation link, or None.

    A token that verifies was signed here, but one with ids the database cannot hold or issued
    in the future was not issued by this service as it is: treat it as no link at all.
    """
    target = None
    ids = signer.verify(token, CONFIRM_ONCE, 3)
    if ids:
        target = ConfirmTarget(ids[0], ids[1], ids[2] / 1000)
    else:
        ids = signer.verify(token, CONFIRM, 3)  # an older link: issued at some time of its day
        target = ConfirmTarget(ids[0], ids[1], ids[2] * DAY) if ids else None
    if target is None or max(target.subscriber_id, target.list_id) > _MAX_ID:
        return None
    return target if target.issued <= time.time() + DAY else None


def link_used(session: Session, target: ConfirmTarget) -> bool:
    """Whether, since the link was issued, it was used or the person unsubscribed (from
    everything or from its list): then it must not act any more."""
    since = datetime.fromtimestamp(target.issued, UTC)
    on_its_list = col(ConsentEvent.list_id) == target.list_id
    later = session.exec(
        select(ConsentEvent.id)
        .where(ConsentEvent.subscriber_id == target.subscriber_id, col(ConsentEvent.at) > since)
        .where(
            or_(
                and_(
                    col(ConsentEvent.action) == ConsentAction.unsubscribed,
                    or_(col(ConsentEvent.list_id).is_(None), on_its_list),
                ),
                and_(
                    col(ConsentEvent.action).in_(
                        [
                            ConsentAction.confirmed,
                            ConsentAction.resubscribed,
                            ConsentAction.subscribed,
                        ]
                    ),
                    col(ConsentEvent.method) == "link",
                    on_its_list,
                ),
            )
        )
        .limit(1)
    ).first()
    return later is not None


def confirm_subscription(
    session: Session, target: ConfirmTarget, *, valid_days: int, now: float | None = None
) -> tuple[ConfirmOutcome, str]:
    """Activate the person of a confirmation link; the outcome and the list's name.

    Every change is logged for the link's list, which is what makes the link single-use."""
    if target.expired(valid_days, now):
        return ConfirmOutcome.expired, ""
    subscriber = session.get(Subscriber, target.subscriber_id)
    mailing_list = session.get(MailingList, target.list_id)
    list_name = mailing_list.name if mailing_list else ""
    standing = _standing(subscriber)
    if subscriber is None or standing in (Standing.gone, Standing.undeliverable):
        return ConfirmOutcome.refused, list_name
    if link_used(session, target):
        return ConfirmOutcome.used, list_name
    outcome = ConfirmOutcome.confirmed
    source = "confirmation email" + (f", list « {list_name} »" if list_name else "")
    if subscriber.status == SubscriberStatus.pending:
        change_status(
            session,
            subscriber,
            SubscriberStatus.active,
            ConsentAction.confirmed,
            method="link",
            actor=ACTOR,
            source=source,
            mailing_list=mailing_list,
        )
    elif subscriber.status == SubscriberStatus.unsubscribed:
        change_status(
            session,
            subscriber,
            SubscriberStatus.active,
            ConsentAction.resubscribed,
            method="link",
            actor=ACTOR,
            source=source,
            mailing_list=mailing_list,
        )
        outcome = ConfirmOutcome.resubscribed
    if mailing_list is not None:
        _join(session, subscriber, mailing_list, source)
    session.add(subscriber)
    session.commit()
    return outcome, list_name


def _join(session: Session, subscriber: Subscriber, mailing_list: MailingList, source: str) -> None:
    """Put the person on the list at their own request, even one they had left."""
    membership = membership_of(session, subscriber, mailing_list)
    if membership is not None and membership.unsubscribed_at is None:
        return
    if membership is None:
        assert subscriber.id is not None and mailing_list.id is not None  # both saved rows
        session.add(Membership(subscriber_id=subscriber.id, list_id=mailing_list.id))
    else:
        membership.unsubscribed_at = None
        membership.subscribed_at = utcnow()
        session.add(membership)
    log_consent(
        session,
        subscriber,
        ConsentAction.subscribed,
        method="link",
        actor=ACTOR,
        source=source,
        mailing_list=mailing_list,
    )
