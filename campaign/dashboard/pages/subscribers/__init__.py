"""Subscribers: search, filter and export, a person's page (everything held, RGPD export and
erase), adding and correcting a person, unsubscribing and resubscribing them, and importing a
CSV or XLSX file with its report.

What changes people is for admins, and what cannot be undone by the page itself (an
unsubscription, a resubscription against an earlier refusal) goes through a confirmation page
that says what will happen, posted again with ``confirm=oui``.

One module per part of the pages; :data:`router` gathers their routes, the fixed paths
(``/subscribers/export``, ``/subscribers/new``, ``/subscribers/import``) before the person's
page ``/subscribers/{subscriber_id}``, which would take them otherwise.
"""

from __future__ import annotations

from fastapi import APIRouter

from campaign.dashboard.pages.subscribers import consent, editing, importing, listing, person

router = APIRouter()
for part in (listing, editing, consent, importing, person):
    router.include_router(part.router)
