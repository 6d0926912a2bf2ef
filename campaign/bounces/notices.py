"""Reading bounce and complaint notices: what failed, for whom, and how to find the delivery.

Three shapes of notice are understood, most reliable first:

- **Delivery status notifications** (RFC 3464, ``multipart/report;
  report-type=delivery-status``), written by Postfix, Exim, Gmail, Microsoft and most MTAs: one
  block per recipient with ``Action`` (failed, delayed, delivered…), ``Status`` (5.1.1) and the
  remote server's ``Diagnostic-Code``.
- **Complaint reports** (ARF, RFC 5965, ``report-type=feedback-report``), sent by mailbox
  providers' feedback loops when a person clicks "this is spam": ``Feedback-Type: abuse``.
- **Everything else that still is a bounce** (qmail, old Exchange, home-made autoresponders):
  :mod:`flufl.bounce`'s detectors (the ones GNU Mailman uses) find the failed addresses; the
  status code and the server's words are taken from the text when it has them.

A notice names its delivery in two ways, collected here for :mod:`campaign.bounces.ingest`: the
VERP token of the address it was sent back to (``bounces+TOKEN@domain``, found in the notice's
envelope headers, ``X-Postfix-Sender``, ``Original-Mail-From`` or the returned headers), and
the original ``Message-ID`` (a signed token, see :func:`campaign.newsletters.queue.message_id`) in
the returned message or its headers. The addresses a message was delivered to are kept apart
too (:attr:`BounceNotice.recipients`): a person's message to the mailto address of List-Unsubscribe
(``unsubscribe+TOKEN@domain``) is an unsubscribe request, not a notice.

Anyone can send a message to the bounce address, so reading must survive anything: a message
that the parsers cannot read raises :class:`UnreadableNotice` (its caller sets it aside and goes
on with the others), never another exception.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

from flufl.bounce import all_failures

from campaign.errors import CampaignError
from campaign.models import BounceKind

# flufl.bounce logs a traceback before re-raising a detector's crash; the crash is raised as
# an UnreadableNotice instead, so its log stays quiet (no traceback on a mail server's pipe).
_flufl_log = logging.getLogger("flufl.bounce")
_flufl_log.addHandler(logging.NullHandler())
_flufl_log.propagate = False

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY = re.compile(r"\b([45]\d\d)[ -]")
# Our Message-IDs are a signed token in lower-case base32 (checked when matching, not here).
_OUR_MESSAGE_ID = re.compile(rb"(?im)^(?:X-Original-)?Message-ID:\s*(<[a-z2-7]{16,120}@[^>\s]+>)")
# Headers of the notice itself that may hold the address it was sent back to.
_ENVELOPE_HEADERS = (
    "To",
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
    "Return-Path",
)
# Headers naming where the message itself was delivered (not where it came from).
_RECIPIENT_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")
# Statuses that blame the message or the sender (policy, spam, size), not the address.
_NOT_THE_ADDRESS = re.compile(r"^5\.(?:7|3|6)\.\d+$|^5\.2\.[23]$")


class UnreadableNotice(CampaignError):
    """A message the parsers could not read (malformed, hostile): set it aside, go on."""


@dataclass
class Failure:
    """One recipient a notice is about."""

    email: str
    kind: BounceKind
    status: str = ""  # enhanced status code, e.g. 5.1.1
    action: str = ""  # failed, delayed, abuse…
    diagnostic: str = ""

    @property
    def address_is_dead(self) -> bool:
        """Whether a hard bounce says the address itself is no good (the subscriber is then
        suppressed): any permanent failure except those blaming the message or the sender
        (5.7.x policy or spam, 5.3.x/5.6.x size or content, 5.2.2/5.2.3 full or too big)."""
        if self.kind != BounceKind.hard:
            return False
        codes = [".".join(code) for code in _ENHANCED.findall(self.diagnostic)]
        specific = [code for code in codes if code.startswith("5.")] or [self.status]
        return not _NOT_THE_ADDRESS.match(specific[0] or "")


@dataclass
class BounceNotice:
    """What a message said, once read."""

    kind: str  # dsn, arf, heuristic, none
    notice_id: str  # its own Message-ID, or a digest of its bytes
    failures: list[Failure] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)  # where it was sent back to (VERP)
    message_ids: list[str] = field(default_factory=list)  # our Message-IDs it quotes
    recipients: list[str] = field(default_factory=list)  # where it was delivered (mailto)
    subject: str = ""
    note: str = ""  # why it is ignored, for kind "none"


def _text(value: object) -> str:
    """One line of text, without NUL (which PostgreSQL refuses in text)."""
    return " ".join(str(value or "").replace("\x00", "").split())


def _address(value: str) -> str:
    """``rfc822; Nobody@Example.com`` -> ``nobody@example.com`` (at most 320 characters)."""
    value = value.split(";", 1)[1] if ";" in value else value
    return _text(value).strip("<>").strip().lower()[:320]


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a ``message/delivery-status`` or ``message/feedback-report`` part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    parser = HeaderParser(policy=email.policy.compat32)
    return [parser.parsestr(chunk) for chunk in re.split(r"\r?\n\r?\n", str(payload)) if chunk]


def _dsn_failures(part: Message) -> list[Failure]:
    failures = []
    blocks = _blocks(part)
    for block in blocks[1:] if len(blocks) > 1 else blocks:
        recipient = _address(
            str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
        )
        action = _text(block.get("Action")).lower()
        status = _text(block.get("Status"))
        diagnostic = _text(block.get("Diagnostic-Code"))
        if diagnostic.lower().startswith("smtp;"):
            diagnostic = diagnostic[5:].strip()
        if not recipient:
            continue
        if action == "failed" or (not action and status.startswith("5")):
            kind = BounceKind.hard
        elif action == "delayed" or status.startswith("4"):
            kind = BounceKind.soft
        else:  # delivered, relayed, expanded: good news, nothing to record
            continue
        failures.append(Failure(recipient, kind, status[:20], action[:20], diagnostic))
    return failures


def _returned_part(message: Message) -> list[str]:
    """Addresses in the envelope fields of the notice's blocks (X-Postfix-Sender…)."""
    found = []
    for part in message.walk():
        if part.get_content_type() in ("message/delivery-status", "message/feedback-report"):
            for block in _blocks(part):
                for name in ("X-Postfix-Sender", "Original-Mail-From"):
                    if block.get(name):
                        found.append(_address(str(block[name])))
    return found


def _heuristic_failures(message: Message, raw: str) -> list[Failure]:
    try:
        temporary, permanent = all_failures(message)
    except Exception as exc:  # any crash of a third-party detector on hostile input
        raise UnreadableNotice(
            f"the bounce detectors could not read it ({type(exc).__name__})"
        ) from exc
    codes = _ENHANCED.search(raw)
    reply = _REPLY.search(raw)
    failures = []
    for kind, addresses in ((BounceKind.hard, permanent), (BounceKind.soft, temporary)):
        for address in sorted(addresses):
            text = address.decode("utf-8", "replace") if isinstance(address, bytes) else address
            diagnostic = _diagnostic_near(raw, text) or (reply.group(0).strip() if reply else "")
            failures.append(
                Failure(
                    text.strip().lower(),
                    kind,
                    status=".".join(codes.groups()) if codes else "",
                    action="failed" if kind == BounceKind.hard else "delayed",
                    diagnostic=diagnostic,
                )
            )
    return failures


def _diagnostic_near(raw: str, address: str) -> str:
    """The lines following the failed address in a free-text bounce (its reason, usually)."""
    at = raw.lower().find(address.lower())
    if at < 0:
        return ""
    after = raw[at + len(address) :].lstrip(">: \n")
    paragraph = after.split("\n\n", 1)[0]
    return _text(paragraph)[:500]


def _notice_id(message: Message, data: bytes) -> str:
    """The notice's own Message-ID, or a digest of its bytes when it has none."""
    own = _text(message.get("Message-ID"))
    if own:
        return own[:300]
    return "sha256:" + hashlib.sha256(data).hexdigest()


def read_notice(data: bytes, *, extra_addresses: list[str] | None = None) -> BounceNotice:
    """Read one message (a bounce, a complaint, or anything else) from its bytes.

    ``extra_addresses`` are envelope recipients given by the delivering MTA (a pipe's
    ``$RECIPIENT``), looked at like the notice's own To and Delivered-To. Raises
    :class:`UnreadableNotice`, and nothing else, when the message cannot be read.
    """
    if not data.strip():
        raise UnreadableNotice("it is empty")
    if b":" not in data.split(b"\n", 1)[0]:
        raise UnreadableNotice("it is not an email message (it does not start with headers)")
    try:
        return _read(data, extra_addresses)
    except UnreadableNotice:
        raise
    except Exception as exc:  # the email package or our reading on input nobody planned for
        raise UnreadableNotice(f"it could not be read ({type(exc).__name__})") from exc


def _read(data: bytes, extra_addresses: list[str] | None) -> BounceNotice:
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    notice = BounceNotice(kind="none", notice_id=_notice_id(message, data))
    notice.subject = _text(message.get("Subject"))[:200]
    raw = data.decode("utf-8", "replace").replace("\r\n", "\n")
    notice.addresses = _envelope_addresses(message, extra_addresses)
    notice.recipients = _recipients(message, extra_addresses)
    notice.message_ids = _our_message_ids(data)
    report_type = (message.get_param("report-type") or "") if message.is_multipart() else ""
    parts = {part.get_content_type(): part for part in message.walk()}
    if "message/feedback-report" in parts or str(report_type).lower() == "feedback-report":
        _read_feedback(notice, parts.get("message/feedback-report"))
        return notice
    if "message/delivery-status" in parts:
        notice.kind = "dsn"
        notice.failures = _dsn_failures(parts["message/delivery-status"])
        if not notice.failures:
            notice.note = "delivery status notification with nothing failed or delayed"
        return notice
    failures = _heuristic_failures(message, raw)
    if failures:
        notice.kind, notice.failures = "heuristic", failures
        return notice
    notice.note = "not a bounce or complaint report"
    return notice


def _envelope_addresses(message: Message, extra_addresses: list[str] | None) -> list[str]:
    """The addresses the notice was sent to (envelope headers, the returned message's), once."""
    addresses = list(extra_addresses or [])
    for name in _ENVELOPE_HEADERS:
        for value in message.get_all(name) or []:
            addresses.append(_address(str(value)))
    addresses += _returned_part(message)
    return [address for address in dict.fromkeys(addresses) if address]


def _recipients(message: Message, extra_addresses: list[str] | None) -> list[str]:
    """The addresses of the notice's recipient headers, once each."""
    recipients = list(extra_addresses or [])
    for name in _RECIPIENT_HEADERS:
        values = [str(value) for value in message.get_all(name) or []]
        recipients += [address for _, address in getaddresses(values)]
    return [address for address in dict.fromkeys(_address(item) for item in recipients) if address]


def _our_message_ids(data: bytes) -> list[str]:
    """Our Message-IDs, in the returned message or headers (never the notice's own headers:
    a person's reply names ours in In-Reply-To, and a reply is no bounce)."""
    head_and_body = re.split(rb"\r?\n\r?\n", data, maxsplit=1)
    body = head_and_body[1] if len(head_and_body) > 1 else b""
    return list(
        dict.fromkeys(match.decode("ascii", "replace") for match in _OUR_MESSAGE_ID.findall(body))
    )


def _read_feedback(notice: BounceNotice, part: Message | None) -> None:
    """A feedback report (ARF): a complaint when its type is one, else nothing to record."""
    notice.kind = "arf"
    blocks = _blocks(part) if part is not None else []
    fields = blocks[0] if blocks else Message()
    feedback = _text(fields.get("Feedback-Type")).lower() or "abuse"
    recipient = _address(str(fields.get("Original-Rcpt-To") or ""))
    if feedback in ("abuse", "fraud", "virus"):  # not "auth-failure" (DMARC) or "not-spam"
        notice.failures.append(
            Failure(recipient, BounceKind.complaint, action=feedback[:20], diagnostic=feedback)
        )
    else:
        notice.kind, notice.note = "none", f"feedback report of type {feedback!r}"
