"""The pages an email links to: unsubscribe (and resubscribe) and "view in the browser".

``GET /u/TOKEN`` only shows a page with one button: link scanners follow every GET, and a GET
that unsubscribed would unsubscribe people who never asked. ``POST /u/TOKEN`` unsubscribes,
whatever its body: the page's button, or a mail client's one-click request (RFC 8058: a form
field ``List-Unsubscribe=One-Click``, urlencoded or multipart/form-data as the RFC allows, no
cookie, no form token) which gets the same 200 page; the consent log says which it was. Both are
durable (committed) before the answer. A database that refuses the write (disk full, locked,
down) gets a 503 page saying nothing was recorded, with the button to try again: never a page
claiming it is done, never a bare server error.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, Path
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from campaign.audience.subscriptions import (
    DeliveryPerson,
    delivery_person,
    resubscribe_delivery,
    unsubscribe_delivery,
)
from campaign.errors import CampaignError
from campaign.tracking.links import UNSUBSCRIBE, VIEW
from campaign.web.openapi import NOT_FOUND, ONE_CLICK_BODY, TOKEN, page
from campaign.web.service import WebService
from campaign.web.templates import PAGE_HEADERS, csp

log = logging.getLogger(__name__)
router = APIRouter()

ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
RETRY = page(
    "The database refused the request (full, locked, down): nothing was recorded; try again."
)

# For the OpenAPI description (campaign.web.openapi); GET and HEAD are two routes so that each
# has its own operation there.
UNSUBSCRIBE_PAGE: dict = {
    "summary": "Unsubscribe page (one button; never unsubscribes)",
    "response_class": HTMLResponse,
    "responses": {200: page("The page with the button."), 404: NOT_FOUND, 503: RETRY},
}
VIEW_PAGE: dict = {
    "summary": "The email as its recipient received it",
    "response_class": HTMLResponse,
    "responses": {
        200: page("The email's HTML, personalised for its recipient."),
        404: NOT_FOUND,
        503: page("The newsletter cannot be rendered any more (logged)."),
    },
}


def _web(request: Request) -> WebService:
    return request.app.state.web


def _page(web: WebService, token: str, person: DeliveryPerson, done: str) -> Response:
    base = f"{web.settings.web.public_url}/u/{token}"
    return web.pages.render(
        "unsubscribe.html.j2",
        person=person,
        done=done,
        unsubscribe_url=base,
        resubscribe_url=f"{base}/resubscribe",
        subscribe_url=f"{web.settings.web.public_url}/inscription",
    )


def _try_again(
    web: WebService, token: str, action: str, exc: OperationalError, *, asked: bool = True
) -> Response:
    """The database refused the request (``asked``) or the page's reading: say nothing was
    recorded and offer the button again."""
    log.error("%s page: the database refused the request: %s", action, exc.orig)
    base = f"{web.settings.web.public_url}/u/{token}"
    return web.pages.render(
        "unsubscribe_retry.html.j2",
        status=503,
        action=action,
        asked=asked,
        form_url=f"{base}/resubscribe" if action == "resubscribe" else base,
    )


def _delivery(web: WebService, token: str) -> int | None:
    ids = web.signer.verify(token, UNSUBSCRIBE, 1)
    return ids[0] if ids else None


@router.get("/u/{token}", **UNSUBSCRIBE_PAGE)
@router.head("/u/{token}", **UNSUBSCRIBE_PAGE)
def unsubscribe_page(request: Request, token: str = Path(description=TOKEN)) -> Response:
    web = _web(request)
    delivery_id = _delivery(web, token)
    if delivery_id is None:
        return web.pages.not_found()
    try:
        with Session(web.engine) as session:
            person = delivery_person(session, delivery_id)
    except OperationalError as exc:  # the form still works once the database is back
        return _try_again(web, token, "unsubscribe", exc, asked=False)
    if person is None:
        return web.pages.not_found()
    return _page(web, token, person, done="")


@router.post(
    "/u/{token}",
    summary="Unsubscribe (the page's button, or RFC 8058 one-click)",
    response_class=HTMLResponse,
    responses={
        200: page("Unsubscribed (already done is the same)."),
        404: NOT_FOUND,
        503: RETRY,
    },
    openapi_extra={"requestBody": ONE_CLICK_BODY},
)
async def unsubscribe(request: Request, token: str = Path(description=TOKEN)) -> Response:
    web = _web(request)
    delivery_id = _delivery(web, token)
    if delivery_id is None:
        return web.pages.not_found()
    detail = "one-click (RFC 8058)" if await _one_click(request) else "unsubscribe page"
    try:
        person = await run_in_threadpool(_unsubscribe, web, delivery_id, detail)
    except OperationalError as exc:
        return _try_again(web, token, "unsubscribe", exc)
    if person is None:
        return web.pages.not_found()
    return _page(web, token, person, done="unsubscribe")


async def _one_click(request: Request) -> bool:
    """Whether the POST is RFC 8058's one-click request: its ``List-Unsubscribe`` field is
    ``One-Click``, read by the body's Content-Type (urlencoded or multipart/form-data). A body
    of no form type is read as urlencoded, as some senders omit the header. A body that cannot
    be parsed still unsubscribes: the POST is the request, the body only says from where."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type in _FORM_TYPES:
        try:
            # One field is all a one-click request has: no file, a few fields at most.
            form = await request.form(max_files=0, max_fields=20)
        except HTTPException:  # malformed or over those limits (Starlette's 400)
            return False
        try:
            values = [value for value in form.getlist(ONE_CLICK_FIELD) if isinstance(value, str)]
        finally:
            await form.close()
    else:
        body = (await request.body()).decode("utf-8", "replace")
        values = [value for name, value in parse_qsl(body) if name == ONE_CLICK_FIELD]
    return any(value.strip().lower() == ONE_CLICK_VALUE.lower() for value in values)


def _unsubscribe(web: WebService, delivery_id: int, detail: str) -> DeliveryPerson | None:
    with Session(web.engine) as session:
        return unsubscribe_delivery(session, delivery_id, detail=detail)


@router.post(
    "/u/{token}/resubscribe",
    summary="Undo the unsubscription",
    response_class=HTMLResponse,
    responses={200: page("Subscribed again."), 404: NOT_FOUND, 503: RETRY},
)
def resubscribe(request: Request, token: str = Path(description=TOKEN)) -> Response:
    web = _web(request)
    delivery_id = _delivery(web, token)
    if delivery_id is None:
        return web.pages.not_found()
    try:
        with Session(web.engine) as session:
            person = resubscribe_delivery(session, delivery_id)
    except OperationalError as exc:
        return _try_again(web, token, "resubscribe", exc)
    if person is None:
        return web.pages.not_found()
    return _page(web, token, person, done="resubscribe")


@router.get("/v/{token}", **VIEW_PAGE)
@router.head("/v/{token}", **VIEW_PAGE)
def view_in_browser(request: Request, token: str = Path(description=TOKEN)) -> Response:
    web = _web(request)
    ids = web.signer.verify(token, VIEW, 1)
    if ids is None:
        return web.pages.not_found()
    try:
        html = web.versions.html(ids[0])
    except CampaignError as exc:
        log.error("view in browser of delivery %d: %s", ids[0], exc)
        return web.pages.error(503)
    if html is None:
        return web.pages.not_found()
    # The email's own HTML: inline styles, images from anywhere (event pictures), no script.
    headers = {**PAGE_HEADERS, "Content-Security-Policy": csp(images="* data:")}
    headers["X-Frame-Options"] = "DENY"
    return HTMLResponse(html, headers=headers)
