"""``GET /e/ID.ics``: an event as an .ics file, the newsletters' "Ajouter à mon agenda".

The id is the event's database id, not signed: events are the public catalogue of the events
website (title, place, times, organiser), so reading one by guessing its id tells nothing that
is not published already, and a bare id keeps the URL the same in every email, preview and
test send. The click itself is tracked by the newsletter's redirect (``/c/TOKEN``) before it
reaches here; this route records nothing and sets no cookie, so the file can be cached by
anyone (an hour, revalidated with its ETag).

Only a canonical id is an event (digits, no leading zero, within a database integer): anything
else, and an id that names no event, gets the plain 404 page.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Path
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from campaign.events.ics import ICS_PATH, event_ics, filename
from campaign.models.events import Event
from campaign.web.service import WebService

router = APIRouter()

MAX_AGE = 3600  # an edited event reaches caches within the hour; the ETag saves the bytes
ID_PATTERN = r"^[1-9][0-9]{0,9}$"
MAX_ID = 2**31 - 1  # an INTEGER column: larger ids would be a database error, not a 404

_ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"
_HTML = {"text/html": {"schema": {"type": "string"}}}
_CACHE = {"Cache-Control": f"public, max-age={MAX_AGE}", "X-Content-Type-Options": "nosniff"}

# For the OpenAPI description; GET and HEAD are two routes so that each has its own operation.
ICS_ROUTE: dict[str, Any] = {
    "summary": "An event as an iCalendar file (RFC 5545), to add to one's calendar",
    "response_class": Response,
    "responses": {
        200: {
            "description": "One VEVENT; cacheable (public, one hour) with an ETag.",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        },
        304: {"description": "Unchanged since the ETag given in If-None-Match."},
        404: {
            "description": "The plain 404 page: no event has that id, or it is no id.",
            "content": _HTML,
        },
    },
}


def _web(request: Request) -> WebService:
    return request.app.state.web


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak comparison, RFC 9110 §13.1.2)."""
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


@router.get(ICS_PATH, **ICS_ROUTE)
@router.head(ICS_PATH, **ICS_ROUTE)
def event_file(
    request: Request,
    event_id: str = Path(
        description="The event's id (digits only, as the newsletter's link gives it).",
        pattern=ID_PATTERN,
    ),
) -> Response:
    web = _web(request)
    number = int(event_id)  # the pattern holds: digits only
    if number > MAX_ID:
        return web.pages.not_found()
    with Session(web.engine) as session:
        event = session.get(Event, number)
        if event is None:
            return web.pages.not_found()
        text = event_ics(
            event, public_url=web.settings.web.public_url, default_zone=web.settings.zone
        )
        name = filename(event)
    body = text.encode("utf-8")
    # From the text itself, which holds DTSTAMP (the event's updated_at): any change to what
    # the file says, the event's or the settings' (zone, public URL), gives a new tag.
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**_CACHE, "ETag": etag}
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(body, media_type=_ICS_MEDIA_TYPE, headers=headers)
