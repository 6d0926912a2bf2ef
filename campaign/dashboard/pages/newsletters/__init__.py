"""Newsletters: list with figures, create and edit, live counts, preview, test, schedule, pause,
resume and cancel. Each action is one call to :mod:`campaign.newsletters`.

One module per part of the pages; :data:`router` gathers their routes. The editor's and the
live counts' fixed paths (``/newsletters/new``, ``/newsletters/live``) come before the listing's
``/newsletters/{newsletter_id}``, which would take them otherwise.
"""

from __future__ import annotations

from fastapi import APIRouter

from campaign.dashboard.pages.newsletters import editor, listing, live, preview, sending

router = APIRouter()
for part in (editor, live, listing, preview, sending):
    router.include_router(part.router)
