"""Subscribers: search and filter, a person's page (everything held, RGPD export and erase),
and importing a CSV or XLSX file with its report."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session

from campaign.audience import subscribers as audience
from campaign.audience.importer import import_subscribers
from campaign.dashboard import queries, web
from campaign.errors import CampaignError
from campaign.models import Subscriber, SubscriberStatus
from campaign.taxonomy import Taxonomy

router = APIRouter()


def _person(session: Session, subscriber_id: int) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.erased_at is not None or not subscriber.email:
        raise HTTPException(404)
    return subscriber


@router.get("/subscribers")
def index(
    request: Request,
    q: str = "",
    status: str = "",
    list_name: str = "",
    region: str = "",
    page: web.PageNumber = 1,
) -> Response:
    board = web.dashboard(request)
    web.check_choice(status, [item.value for item in SubscriberStatus], "status")
    with board.session() as session:
        found = queries.search_subscribers(
            session, text=q, status=status, list_name=list_name, region=region, page=page
        )
        lists = queries.lists(session)
    return web.render(
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


def _import_page(request: Request, report: object = None, error: str = "", status_code: int = 200):
    board = web.dashboard(request)
    with board.session() as session:
        lists = queries.lists(session)
    return web.render(
        request,
        "subscribers/import.html",
        status_code=status_code,
        lists=lists,
        report=report,
        error=error,
    )


@router.get("/subscribers/import")
def import_form(request: Request) -> Response:
    return _import_page(request)


def upload_name(filename: str | None) -> str:
    """The uploaded file's own name (it goes to the consent log and the report), made safe."""
    name = Path((filename or "").replace("\\", "/")).name
    name = re.sub(r"[^\w.\- ]", "_", name).strip(" .") or "import"
    return name[:120]


@router.post("/subscribers/import")
def import_file(
    request: Request,
    file: UploadFile = File(...),
    list_name: str = Form(""),
    dry_run: str = Form(""),
) -> Response:
    board = web.dashboard(request)
    settings = board.settings
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / upload_name(file.filename)
            with path.open("wb") as handle:
                while chunk := file.file.read(1024 * 1024):
                    handle.write(chunk)
            with board.session() as session:
                report = import_subscribers(
                    session,
                    path,
                    list_name=list_name.strip() or None,
                    dry_run=bool(dry_run),
                    actor=f"web:{request.state.user.email}",
                    taxonomy=Taxonomy.from_settings(settings),
                )
    except CampaignError as exc:
        return _import_page(request, error=str(exc), status_code=400)
    return _import_page(request, report=report)


def _person_page(
    request: Request, subscriber_id: int, error: str = "", status_code: int = 200
) -> Response:
    board = web.dashboard(request)
    with board.session() as session:
        subscriber = _person(session, subscriber_id)
        data = audience.describe_subscriber(session, subscriber.email or "")
    return web.render(
        request,
        "subscribers/person.html",
        status_code=status_code,
        subscriber=subscriber,
        data=data,
        error=error,
    )


@router.get("/subscribers/{subscriber_id}")
def person(request: Request, subscriber_id: web.Id) -> Response:
    return _person_page(request, subscriber_id)


@router.get("/subscribers/{subscriber_id}/export")
def export(request: Request, subscriber_id: web.Id) -> Response:
    """Everything held about the person, as a JSON file (RGPD right of access)."""
    board = web.dashboard(request)
    with board.session() as session:
        subscriber = _person(session, subscriber_id)
        data = audience.describe_subscriber(session, subscriber.email or "")
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="abonne-{subscriber_id}.json"',
        },
    )


@router.post("/subscribers/{subscriber_id}/erase", dependencies=[Depends(web.require_admin)])
def erase(request: Request, subscriber_id: web.Id, confirm: str = Form("")) -> Response:
    board = web.dashboard(request)
    if confirm != "oui":
        return _person_page(request, subscriber_id, "Tick the box to confirm the erasure.", 400)
    with board.session() as session:
        subscriber = _person(session, subscriber_id)
        audience.erase_subscriber(
            session, subscriber.email or "", actor=f"web:{request.state.user.email}"
        )
    return web.see_other(request, "/subscribers", "erased")
