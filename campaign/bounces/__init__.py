"""Bounces and complaints that arrive after sending: read the report, find the delivery, act.

:mod:`campaign.bounces.reports` reads a message (RFC 3464 delivery status notification, RFC 5965
complaint report, or a non-standard bounce); :mod:`campaign.bounces.ingest` matches it to its
delivery (VERP token first, Message-ID second) and applies it, idempotently.
"""

from campaign.bounces.ingest import IngestOutcome, ingest_report, record_unreadable
from campaign.bounces.reports import Failure, Report, UnreadableReport, read_report

__all__ = [
    "Failure",
    "IngestOutcome",
    "Report",
    "UnreadableReport",
    "ingest_report",
    "read_report",
    "record_unreadable",
]
