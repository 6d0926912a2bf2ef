"""Search, filter and export the subscribers."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from campaign.audience import subscribers as audience
from campaign.audience.lists import find_list
from campaign.dashboard import pagekit, queries
from campaign.dashboard.pages.subscribers.shared import ADMIN
from campaign.models import SubscriberStatus
from campaign.taxonomy import Taxonomy

router = APIRouter()

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/subscribers")
def index(
    request: Request,
    q: str = "",
    status: str = "",
    list_name: str = "",
    region: str = "",
    page: pagekit.PageNumber = 1,
) -> Response:
    board = pagekit.dashboard(request)
    pagekit.check_choice(status, [item.value for item in SubscriberStatus], "status")
    with board.session() as session:
        found = queries.search_subscribers(
            session, text=q, status=status, list_name=list_name, region=region, page=page
        )
        lists = queries.lists(session)
    return pagekit.render(
        request,
        "subscribers/list.html",
        found=found,
        q=q,
        status=status,
        list_name=list_name,
        region=region,
        lists=lists,
        regions=Taxonomy.from_settings(board.settings).regions,
        statuses=[item.value for item in SubscriberStatus],
    )


@router.get("/subscribers/export", dependencies=ADMIN)
def export_list(
    request: Request,
    format: str = "csv",
    q: str = "",
    status: str = "",
    list_name: str = "",
    region: str = "",
) -> Response:
    """The people the list page shows with these filters, as a file for Excel: a CSV in UTF-8
    with a BOM and semicolons (as ``subscribers export`` writes it), or an XLSX workbook."""
    board = pagekit.dashboard(request)
    pagekit.check_choice(format, EXPORT_TYPES, "format")
    pagekit.check_choice(status, [item.value for item in SubscriberStatus], "status")
    with tempfile.TemporaryDirectory() as folder, board.session() as session:
        if list_name and find_list(session, list_name) is None:
            raise pagekit.BadQuery(["list_name"])
        path = Path(folder) / f"abonnes.{format}"
        audience.export_subscribers(
            session,
            path,
            status=status or None,
            list_name=list_name or None,
            region=region or None,
            text=q,
        )
        body = path.read_bytes()
    return Response(
        body,
        media_type=EXPORT_TYPES[format],
        headers={"content-disposition": f'attachment; filename="abonnes.{format}"'},
    )
