"""Events: browse and filter the catalogue; import the events website's export."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from campaign.dashboard import pagekit, queries
from campaign.dashboard.uploads import upload_name
from campaign.errors import CampaignError
from campaign.events.catalogue import EventQuery
from campaign.events.catalogue import find_events as find
from campaign.events.importer import import_events
from campaign.taxonomy import Taxonomy

router = APIRouter()
PAGE = 100


@router.get("/events")
def index(
    request: Request,
    date_from: str = "",
    date_to: str = "",
    region: str = "",
    theme: str = "",
    event_type: str = "",
    page: pagekit.PageNumber = 1,
) -> Response:
    board = pagekit.dashboard(request)
    settings = board.settings
    taxonomy = Taxonomy.from_settings(settings)
    error: str | CampaignError = ""
    events: list = []
    try:
        query = EventQuery.from_cli(
            date_from=pagekit.query_day(date_from, "date_from"),
            date_to=pagekit.query_day(date_to, "date_to"),
            regions=[region] if region else [],
            themes=[theme] if theme else [],
            types=[event_type] if event_type else [],
            limit=page * PAGE + 1,
            taxonomy=taxonomy,
            zone=settings.zone,
        )
        with board.session() as session:
            events = find(session, query)
            types = queries.event_types(session)
    except CampaignError as exc:
        error = exc
        with board.session() as session:
            types = queries.event_types(session)
    more = len(events) > page * PAGE
    return pagekit.render(
        request,
        "events/list.html",
        events=events[(page - 1) * PAGE : page * PAGE],
        more=more,
        page=page,
        date_from=date_from,
        date_to=date_to,
        region=region,
        theme=theme,
        event_type=event_type,
        regions=taxonomy.regions,
        themes=taxonomy.themes,
        types=types,
        error=error,
    )


def _import_page(
    request: Request, report: object = None, error: str | CampaignError = "", status_code: int = 200
) -> Response:
    return pagekit.render(
        request, "events/import.html", status_code=status_code, report=report, error=error
    )


@router.get("/events/import")
def import_form(request: Request) -> Response:
    return _import_page(request)


@router.post("/events/import")
def import_file(
    request: Request, file: UploadFile = File(...), dry_run: str = Form("")
) -> Response:
    board = pagekit.dashboard(request)
    settings = board.settings
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / upload_name(file.filename)
            with path.open("wb") as handle:
                while chunk := file.file.read(1024 * 1024):
                    handle.write(chunk)
            with board.session() as session:
                report = import_events(
                    session,
                    path,
                    dry_run=bool(dry_run),
                    taxonomy=Taxonomy.from_settings(settings),
                    zone=settings.zone,
                )
    except CampaignError as exc:
        return _import_page(request, error=exc, status_code=400)
    return _import_page(request, report=report)
