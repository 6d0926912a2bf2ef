"""``GET /healthz`` and ``GET /metrics``: for whoever runs the service, never for the public.

They answer a request bearing the token named by ``[web] operations_token_env`` or, while no
token is set, one made on this machine straight to the service (a loopback address and no
proxy header). Anyone else gets the ordinary 404 page, as for a path that does not exist.
"""

from __future__ import annotations

import hmac
import os
from ipaddress import ip_address

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from campaign.operations import check_health

router = APIRouter(include_in_schema=False)

_PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
_NO_STORE = {"Cache-Control": "no-store"}


def allowed(request: Request) -> bool:
    """Whether ``request`` may read the service's health and metrics."""
    settings = request.app.state.web.settings
    token = os.environ.get(settings.web.operations_token_env, "")
    if token:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if any(header in request.headers for header in _PROXY_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/healthz")
async def healthz(request: Request) -> Response:
    web = request.app.state.web
    if not allowed(request):
        return web.pages.not_found()
    health = await run_in_threadpool(check_health, web.engine, web.recorder)
    return JSONResponse(health.as_json(), status_code=200 if health.ok else 503, headers=_NO_STORE)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    web = request.app.state.web
    if not allowed(request):
        return web.pages.not_found()
    body = await run_in_threadpool(web.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers=_NO_STORE)
