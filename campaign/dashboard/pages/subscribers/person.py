"""A person's page: everything held, the RGPD export and erasure."""

from __future__ import annotations

import json
from datetime import datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from campaign.audience import subscribers as audience
from campaign.dashboard import pagekit
from campaign.dashboard.pages.subscribers.shared import list_memberships, person_or_404
from campaign.errors import CampaignError

router = APIRouter()


def person_page(
    request: Request, subscriber_id: int, error: str | CampaignError = "", status_code: int = 200
) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        subscriber = person_or_404(session, subscriber_id)
        data = audience.describe_subscriber(session, subscriber.email or "")
        undo_all = audience.resubscription(session, subscriber).undo
    # The log's times in [general] timezone, as people read them (stored in UTC).
    consent = [
        {**line, "at": datetime.fromisoformat(line["at"]) if line["at"] else None}
        for line in data["consent_log"]
    ]
    return pagekit.render(
        request,
        "subscribers/person.html",
        status_code=status_code,
        subscriber=subscriber,
        data=data,
        consent=consent,
        zone=board.settings.general.timezone,
        current=[m["list"] for m in data["memberships"] if m["unsubscribed_at"] is None],
        left=[m["list"] for m in data["memberships"] if m["unsubscribed_at"] is not None],
        undo_all=undo_all,
        error=error,
    )


@router.get("/subscribers/{subscriber_id}")
def person(request: Request, subscriber_id: pagekit.Id) -> Response:
    return person_page(request, subscriber_id)


@router.get("/subscribers/{subscriber_id}/export")
def export(request: Request, subscriber_id: pagekit.Id) -> Response:
    """Everything held about the person, as a JSON file (RGPD right of access)."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        subscriber = person_or_404(session, subscriber_id)
        data = audience.describe_subscriber(session, subscriber.email or "")
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="abonne-{subscriber_id}.json"',
        },
    )


@router.post("/subscribers/{subscriber_id}/erase", dependencies=[Depends(pagekit.require_admin)])
def erase(request: Request, subscriber_id: pagekit.Id, confirm: str = Form("")) -> Response:
    """Erase the person's data: asked first on a page naming the person and their lists."""
    board = pagekit.dashboard(request)
    if not pagekit.confirmed(confirm):
        with board.session() as session:
            subscriber = person_or_404(session, subscriber_id)
            memberships = list_memberships(session, subscriber)
        return pagekit.confirm_page(
            request,
            pagekit.Confirmation(
                action=f"/subscribers/{subscriber_id}/erase",
                back=f"/subscribers/{subscriber_id}",
                template="subscribers/confirm_erase.html",
                context={
                    "subscriber": subscriber,
                    "current": [m["list"] for m in memberships if not m["left"]],
                },
            ),
        )
    with board.session() as session:
        subscriber = person_or_404(session, subscriber_id)
        audience.erase_subscriber(
            session, subscriber.email or "", actor=f"web:{request.state.user.email}"
        )
    return pagekit.see_other(request, "/subscribers", "erased")
