"""Signing in and out.

The sign-in form has no session yet, so its CSRF protection is a double-submit token: a random
value in a cookie and in the form, which must match (a forged cross-site form cannot read the
cookie). Attempts are rate-limited per IP, per account from one IP, and slowed per account
(:mod:`campaign.users.logins`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from campaign.dashboard import pagekit
from campaign.tracking.network import request_client
from campaign.users.logins import LoginResult, attempt_login, slow_after
from campaign.users.sessions import close_session, new_token, open_session, same_token

router = APIRouter()
signed_in_router = APIRouter()


def _client_ip(request: Request) -> str:
    # The public routes' own reading: behind a reverse proxy the connection's peer is the
    # proxy, and counting it would let one person lock every account for everyone.
    depth = pagekit.dashboard(request).settings.web.trusted_proxy_depth
    return request_client(request, depth)


def _login_page(
    request: Request, next_path: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    token = new_token()
    response = pagekit.render(
        request,
        "login.html",
        status_code=status_code,
        next_path=pagekit.safe_next(next_path, pagekit.base_path(request)),
        login_csrf=token,
        **{"error": "", "email": "", **context},
    )
    board = pagekit.dashboard(request)
    response.set_cookie(
        pagekit.LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        secure=board.secure_cookies,
        samesite="lax",
        path=f"{pagekit.base_path(request)}/login",
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> Response:
    return _login_page(request, next)


@router.post("/login")
async def login(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
    next: str = Form(""),
) -> Response:
    board = pagekit.dashboard(request)
    if not same_token(csrf, request.cookies.get(pagekit.LOGIN_CSRF_COOKIE, "")):
        return _login_page(request, next, 403, error="csrf", email=email)
    limits = board.settings.dashboard
    ip = _client_ip(request)

    def check() -> tuple[LoginResult, str | None]:
        with board.session() as session:
            result = attempt_login(
                session,
                email,
                password,
                ip=ip,
                max_per_account=limits.max_failed_logins,
                max_per_ip=limits.max_failed_logins_per_ip,
                slow_after=slow_after(limits),
            )
            token = None
            if result.user is not None:
                token = open_session(
                    session,
                    result.user,
                    hours=limits.session_hours,
                    ip=ip,
                    user_agent=request.headers.get("user-agent", ""),
                )
        return result, token

    result, token = await run_in_threadpool(check)
    if result.slowed:
        # Waiting here holds no thread and no database connection: many slowed attempts at
        # once cost the service little, and the account's owner is only kept waiting.
        await asyncio.sleep(board.slow_down)
    if token is None:
        error = "rate" if result.refused else "wrong"
        return _login_page(request, next, 429 if result.refused else 401, error=error, email=email)
    response = RedirectResponse(
        pagekit.safe_next(next, pagekit.base_path(request)), status_code=303
    )
    response.set_cookie(
        pagekit.COOKIE,
        token,
        httponly=True,
        secure=board.secure_cookies,
        samesite="lax",
        path=pagekit.base_path(request) or "/",
        max_age=limits.session_hours * 3600,
    )
    response.delete_cookie(pagekit.LOGIN_CSRF_COOKIE, path=f"{pagekit.base_path(request)}/login")
    return response


@signed_in_router.post("/logout")
def logout(request: Request) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        close_session(session, request.cookies.get(pagekit.COOKIE))
    response = RedirectResponse(f"{pagekit.base_path(request)}/login", status_code=303)
    response.delete_cookie(pagekit.COOKIE, path=pagekit.base_path(request) or "/")
    return response
