"""Signing in: sessions kept as rows, CSRF tokens, and the rate limit on login attempts.

The cookie holds 256 random bits; the row holds their SHA-256, the session's CSRF token and when
it expires. Looking a session up is one indexed query; ending one (sign-out, password change,
user removed) is deleting its row. Failed attempts are counted per IP address and per account
over :data:`WINDOW`, in the database, so several web processes share one limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from campaign.dashboard.users import find_user, needs_rehash, rehash, verify_password
from campaign.models import LoginAttempt, User, UserSession, utcnow

WINDOW = timedelta(minutes=15)
KEEP_ATTEMPTS = timedelta(days=1)
TOUCH_EVERY = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a submitted token with the expected one."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


@dataclass(frozen=True)
class SignedIn:
    """Who is behind a request: the user and the session's CSRF token."""

    user_id: int
    email: str
    role: str
    csrf_token: str
    session_id: int


def open_session(
    session: Session, user: User, *, hours: int, ip: str = "", user_agent: str = ""
) -> str:
    """Start a session for ``user``; returns the token to put in the cookie."""
    token = new_token()
    now = utcnow()
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,  # type: ignore[arg-type]
            csrf_token=new_token(),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
            ip=ip[:50],
            user_agent=user_agent[:300],
        )
    )
    user.last_login_at = now
    session.add(user)
    session.flush()
    return token


def signed_in(session: Session, token: str | None, now: datetime | None = None) -> SignedIn | None:
    """The session of a cookie's token, or None when unknown or expired (expired rows go)."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    row = session.exec(
        select(UserSession, User)
        .join(User, col(User.id) == UserSession.user_id)
        .where(UserSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        return None
    user_session, user = row
    if user_session.expires_at <= now:
        session.delete(user_session)
        session.flush()
        return None
    if now - user_session.last_seen_at > TOUCH_EVERY:
        user_session.last_seen_at = now
        session.add(user_session)
        session.flush()
    return SignedIn(
        user_id=user.id,  # type: ignore[arg-type]
        email=user.email,
        role=user.role,
        csrf_token=user_session.csrf_token,
        session_id=user_session.id,  # type: ignore[arg-type]
    )


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(UserSession).where(col(UserSession.token_hash) == token_hash(token)))


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    refused: str = ""  # "rate-ip", "rate-account" or "" (then user None means wrong credentials)


def _failures(session: Session, since: datetime, **where: str) -> int:
    statement = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(col(LoginAttempt.at) >= since, col(LoginAttempt.success).is_(False))
    )
    for name, value in where.items():
        statement = statement.where(getattr(LoginAttempt, name) == value)
    return int(session.exec(statement).one())


def attempt_login(
    session: Session,
    email: str,
    password: str,
    *,
    ip: str,
    max_per_account: int,
    max_per_ip: int,
    now: datetime | None = None,
) -> LoginResult:
    """Check the credentials unless the IP or the account has failed too often lately.

    Every attempt is recorded; a refused one (rate limit) is recorded as a failure too, so
    someone hammering the form stays locked out until they stop for :data:`WINDOW`.
    """
    now = now or utcnow()
    address = email.strip().lower()[:320]
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) < now - KEEP_ATTEMPTS))
    since = now - WINDOW
    refused = ""
    if _failures(session, since, ip=ip) >= max_per_ip:
        refused = "rate-ip"
    elif address and _failures(session, since, email=address) >= max_per_account:
        refused = "rate-account"
    user = None
    if not refused:
        candidate = find_user(session, address) if address else None
        if verify_password(candidate, password):
            user = candidate
            if needs_rehash(candidate):  # type: ignore[arg-type]
                rehash(candidate, password)  # type: ignore[arg-type]
    session.add(LoginAttempt(at=now, ip=ip[:50], email=address, success=user is not None))
    session.flush()
    return LoginResult(user=user, refused=refused)
