"""The open pixel and the tracked click: answer at once, record in the background.

Neither route waits for the database: the hit goes to the recorder's queue
(:mod:`campaign.tracking.hits`), and the click's target comes from a cache of the link table
(read once per link). The redirect target is the stored URL of the link the signed token names,
checked to belong to the newsletter the token names (the delivery's, signed when it was sent;
the writer checks the delivery row too before recording); nothing in the request (query
string, headers) can change it.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from campaign.models import HitKind
from campaign.tracking.links import CLICK, CLICK_ANONYMOUS, OPEN, OPEN_ANONYMOUS
from campaign.web.openapi import CLICK_RESPONSES, PIXEL_RESPONSES, TOKEN
from campaign.web.service import WebService

router = APIRouter()

# A 1×1 transparent GIF (43 bytes).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
PIXEL_HEADERS = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0, private",
    "Pragma": "no-cache",
    "Expires": "0",
}
REDIRECT_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _web(request: Request) -> WebService:
    return request.app.state.web


# GET and HEAD are two routes so that each has its own operation in the OpenAPI description.
PIXEL_DOC: dict = {
    "summary": "Open pixel",
    "response_class": Response,
    "responses": PIXEL_RESPONSES,
}
CLICK_DOC: dict = {
    "summary": "Tracked click",
    "response_class": RedirectResponse,
    "status_code": 302,  # for the description: the route returns its own response
    "responses": CLICK_RESPONSES,
}


@router.get("/o/{token}.gif", **PIXEL_DOC)
@router.head("/o/{token}.gif", **PIXEL_DOC)
async def open_pixel(request: Request, token: str = Path(description=TOKEN)) -> Response:
    web = _web(request)
    ids = web.signer.verify(token, OPEN, 1)
    if ids is not None:
        web.record(request, HitKind.open, ids[0], None, None)
    else:
        ids = web.signer.verify(token, OPEN_ANONYMOUS, 1)
        if ids is None:
            return web.pages.not_found()
        web.record(request, HitKind.open, None, ids[0], None)
    return Response(PIXEL, media_type="image/gif", headers=PIXEL_HEADERS)


@router.get("/c/{token}", **CLICK_DOC)
@router.head("/c/{token}", **CLICK_DOC)
async def click(request: Request, token: str = Path(description=TOKEN)) -> Response:
    web = _web(request)
    delivery_id: int | None = None
    ids = web.signer.verify(token, CLICK, 3)
    if ids is not None:
        delivery_id, link_id, newsletter_id = ids
    else:
        ids = web.signer.verify(token, CLICK_ANONYMOUS, 2)
        if ids is None:
            return web.pages.not_found()
        newsletter_id, link_id = ids
    url = await web.targets.url(newsletter_id, link_id)
    if url is None:
        return web.pages.not_found()
    web.record(request, HitKind.click, delivery_id, newsletter_id, link_id)
    return RedirectResponse(url, status_code=302, headers=REDIRECT_HEADERS)
