"""The ASGI app: public routes for the links emails carry and the subscribe form.

:func:`create_app` builds it from the settings. Its lifespan starts the hit writer and any
*companion* (an object with ``start()`` and ``stop()``, such as the scheduler, run in the same
process) and, when the server stops (SIGTERM included), stops the companions and then writes
every hit still queued before the process ends.

Routes (``[web] public_url`` is their base in every email):

    GET|HEAD /o/TOKEN.gif               open pixel
    GET|HEAD /c/TOKEN                   tracked click (302 to the link's stored URL)
    GET      /u/TOKEN                   unsubscribe page (one button; never unsubscribes)
    POST     /u/TOKEN                   unsubscribe (also RFC 8058 one-click)
    POST     /u/TOKEN/resubscribe       undo the unsubscription
    GET      /v/TOKEN                   the email as that recipient received it
    GET|POST /inscription[?liste=NAME]  subscribe form (embeddable)
    GET|POST /confirmation/TOKEN        double opt-in confirmation
    GET|HEAD /e/ID.ics                  an event as an .ics file ("Ajouter à mon agenda")
    GET      /openapi.json              the OpenAPI description of the routes above
    /admin/…                            the team's dashboard (sign-in required)

Anything else, and any token that does not verify, gets the same plain 404 page.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from campaign.dashboard.app import create_dashboard
from campaign.db import open_database
from campaign.tracking.tokens import Signer, signer_for
from campaign.web import (
    asset_routes,
    ics_routes,
    media_routes,
    operations_routes,
    pages,
    subscribe,
    tracking_routes,
)
from campaign.web.openapi import OPENAPI_PATH, public_openapi
from campaign.web.service import WebService

log = logging.getLogger(__name__)


class Companion(Protocol):
    """A service run beside the web app in the same process (e.g. the scheduler)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def create_app(
    settings: Any,
    *,
    engine: Engine | None = None,
    signer: Signer | None = None,
    companions: Sequence[Companion] = (),
) -> FastAPI:
    """The web app of ``settings``. Opens (and upgrades) the database unless given ``engine``;
    raises :class:`~campaign.config.ConfigError` when there is no signing key."""
    signer = signer or signer_for(settings)
    engine = engine or open_database(settings.database.url)
    web = WebService(settings, engine, signer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        web.recorder.start()
        started: list[Companion] = []
        try:
            for companion in companions:
                companion.start()
                started.append(companion)
            yield
        finally:
            for companion in reversed(started):
                try:
                    companion.stop()
                except Exception:
                    log.exception("stopping %r failed", companion)
            web.recorder.close()

    app = FastAPI(
        title="campaign",
        lifespan=lifespan,
        docs_url=None,  # no Swagger or ReDoc page: they load scripts from a CDN
        redoc_url=None,
        openapi_url=OPENAPI_PATH,
    )
    app.openapi = lambda: public_openapi(app)  # type: ignore[method-assign]
    app.state.web = web
    app.include_router(tracking_routes.router)
    app.include_router(pages.router)
    app.include_router(subscribe.router)
    app.include_router(ics_routes.router)
    app.include_router(operations_routes.router)
    app.include_router(media_routes.router)
    app.include_router(asset_routes.router)
    app.mount("/admin", create_dashboard(settings, engine))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        if status == 404:
            return web.pages.not_found()
        response = web.pages.error(status)
        if status == 405:  # RFC 9110: a 405 names the methods the resource has
            response.headers["Allow"] = _allowed_methods(app, request)
        return response

    async def bad_request(request: Request, exc: Exception) -> Response:
        return web.pages.not_found()

    async def crash(request: Request, exc: Exception) -> Response:
        # The path's first segment only: the rest may be a person's token.
        where = "/" + request.url.path.lstrip("/").split("/", 1)[0]
        log.exception("error answering %s %s…", request.method, where)
        return web.pages.error(500)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, bad_request)
    app.add_exception_handler(Exception, crash)
    return app


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(app: FastAPI, request: Request) -> str:
    """The methods some route answers on the request's path (Starlette's 405 names only those
    of the first route, and GET, HEAD and POST of a path are routes of their own here)."""
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in app.router.routes
        )
    ]
    return ", ".join(allowed)
