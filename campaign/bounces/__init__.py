"""Bounces and complaints that arrive after sending: read the notice, find the delivery, act.

:mod:`campaign.bounces.notices` reads a message (RFC 3464 delivery status notification, RFC 5965
complaint report, or a non-standard bounce); :mod:`campaign.bounces.ingest` matches it to its
delivery (VERP token first, Message-ID second) and applies it, idempotently.
"""

from campaign.bounces.ingest import IngestOutcome, ingest_notice, record_unreadable
from campaign.bounces.notices import BounceNotice, Failure, UnreadableNotice, read_notice

__all__ = [
    "BounceNotice",
    "Failure",
    "IngestOutcome",
    "UnreadableNotice",
    "ingest_notice",
    "read_notice",
    "record_unreadable",
]
