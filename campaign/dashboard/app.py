"""The dashboard as a FastAPI sub-application, mounted at ``/admin`` by the web service.

``create_dashboard(settings, engine)`` returns the app; the public web app mounts it with
``app.mount("/admin", create_dashboard(settings, engine))``. Every route but the sign-in page
depends on :func:`campaign.dashboard.pagekit.guard`; pages live in :mod:`campaign.dashboard.pages`,
one module per area, each a thin door onto the library.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campaign.config import Settings
from campaign.dashboard import pagekit, uploads
from campaign.dashboard.pages import (
    calendar,
    events,
    lists,
    login,
    newsletters,
    posts,
    reports,
    settings_view,
    subscribers,
)
from campaign.i18n import N_, gettext_in
from campaign.resources import configured_templates, template_tree
from campaign.users import passwords

# Pages may only load what the dashboard serves itself: nothing from the internet.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


class _Limits:
    """Security headers on every answer; bodies over the upload limit refused before reading."""

    def __init__(self, app: ASGIApp, max_bytes: int, language: str = "fr") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.language = language  # [general] language: the refusals' words

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in pagekit.SAFE_METHODS:
            length = dict(scope.get("headers") or []).get(b"content-length", b"")
            if not length.isdigit():
                said = gettext_in(self.language, N_("Length required."))
                answer = PlainTextResponse(said, status_code=411)
            elif int(length) > self.max_bytes:
                said = gettext_in(self.language, N_("File too large."))
                answer = PlainTextResponse(said, status_code=413)
            else:
                answer = None
            if answer is not None:
                await answer(scope, receive, send)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {name.lower() for name, _ in headers}
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"SAMEORIGIN",
                    b"referrer-policy": b"same-origin",
                    b"cache-control": b"no-store",
                }
                headers += [(name, value) for name, value in extra.items() if name not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _sweep_uploads(request: Request) -> None:
    """Import files kept past their hour go, whatever page is visited (see uploads)."""
    uploads.sweep_now_and_then(pagekit.dashboard(request).settings.dashboard.import_dir)


def create_dashboard(
    settings: Settings, engine: Engine, *, templates_dir: Path | str | None = None
) -> FastAPI:
    """The dashboard app for these settings and this database (already migrated).

    Templates come from ``templates_dir`` (else ``[general] templates_dir``) file by file over
    the shipped ones."""
    own = Path(templates_dir) if templates_dir else configured_templates(settings)
    tree = template_tree(own, settings)
    passwords.prepare_checks()
    app = FastAPI(
        title="campaign dashboard",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(pagekit.check_query), Depends(_sweep_uploads)],
    )
    app.state.dashboard = pagekit.Dashboard(
        settings=settings,
        engine=engine,
        env=pagekit.make_environment(tree, settings.general.language),
        templates_dir=own,
    )
    app.mount("/static", StaticFiles(directory=pagekit.STATIC), name="static")
    app.include_router(login.router)
    guarded = [Depends(pagekit.guard)]
    for module in (
        calendar,
        newsletters,
        posts,
        subscribers,
        lists,
        events,
        reports,
        settings_view,
    ):
        app.include_router(module.router, dependencies=guarded)
    app.include_router(login.signed_in_router, dependencies=[Depends(pagekit.guard_session)])

    @app.exception_handler(pagekit.NeedsLogin)
    async def _to_login(request: Request, exc: pagekit.NeedsLogin) -> RedirectResponse:
        target = f"{pagekit.base_path(request)}/login"
        if exc.next_path:
            target += f"?next={pagekit.quote(exc.next_path, safe='')}"
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(pagekit.Refused)
    async def _refused(request: Request, exc: pagekit.Refused) -> HTMLResponse:
        return pagekit.render(request, "refused.html", status_code=403, reason=exc.reason)

    @app.exception_handler(pagekit.BadQuery)
    async def _bad_query(request: Request, exc: pagekit.BadQuery) -> HTMLResponse:
        return pagekit.render(request, "bad_request.html", status_code=400, names=exc.names)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> HTMLResponse:
        # An id, a page number or a choice no page of the dashboard makes: a crafted address,
        # or a form sent by hand. FastAPI's own answer would be JSON for developers.
        names = sorted({str(error["loc"][-1]) for error in exc.errors() if error.get("loc")})
        return pagekit.render(request, "bad_request.html", status_code=400, names=names)

    @app.exception_handler(404)
    async def _not_found(request: Request, exc: Exception) -> HTMLResponse:
        return pagekit.render(request, "not_found.html", status_code=404)

    app.add_middleware(
        _Limits,
        max_bytes=settings.dashboard.upload_max_mb * 1024 * 1024,
        language=settings.general.language,
    )
    return app
