"""Sessions kept as rows: their tokens, CSRF tokens, expiry and revocation.

The cookie holds 256 random bits; the row holds their SHA-256, the session's CSRF token and when
it expires. Looking a session up is one indexed query; ending one (sign-out, password change,
user removed) is deleting its row. Signing in, with its limits, is :mod:`campaign.users.logins`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from campaign.models import User, UserSession, utcnow

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
    """Start a session for ``user`` (a stored one); returns the token to put in the cookie."""
    assert user.id is not None, "a session is started for a stored user only"
    token = new_token()
    now = utcnow()
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
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
    # Both read from the database just now: stored rows, their ids set.
    assert user.id is not None and user_session.id is not None
    if user_session.expires_at <= now:
        session.delete(user_session)
        session.flush()
        return None
    if now - user_session.last_seen_at > TOUCH_EVERY:
        user_session.last_seen_at = now
        session.add(user_session)
        session.flush()
    return SignedIn(
        user_id=user.id,
        email=user.email,
        role=user.role,
        csrf_token=user_session.csrf_token,
        session_id=user_session.id,
    )


def close_session(session: Session, token: str | None) -> None:
    """Sign out: the session of ``token`` ends."""
    if token:
        session.execute(delete(UserSession).where(col(UserSession.token_hash) == token_hash(token)))


def end_sessions(session: Session, user: User) -> int:
    """Sign the user out everywhere; the number of sessions ended."""
    result = session.execute(delete(UserSession).where(col(UserSession.user_id) == user.id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
