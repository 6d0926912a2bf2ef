"""Reports: the yearly report's newsletter table and the social figures, as far as they can be
counted today. SEAM(#8 reports): the reports stage's tables, charts and downloads replace
:func:`campaign.dashboard.stages.newsletter_figures` and ``social_figures`` here."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import col, select

from campaign.dashboard import stages, web
from campaign.models import Newsletter

router = APIRouter()


@router.get("/reports")
def index(request: Request) -> Response:
    board = web.dashboard(request)
    with board.session() as session:
        sent = list(
            session.exec(
                select(Newsletter)
                .where(col(Newsletter.sent_at).is_not(None))
                .order_by(col(Newsletter.sent_at))
            )
        )
        figures = stages.newsletter_figures(session, [n.id for n in sent])  # type: ignore[misc]
        rows = [figures[n.id] for n in sent if n.id in figures]
        social = stages.social_figures(session, board.settings)
        totals = stages.delivery_totals(session)
    return web.render(request, "reports.html", rows=rows, social=social, totals=totals)
