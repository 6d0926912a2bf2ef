"""The team's dashboard accounts: users with a role, their sign-in sessions and login attempts.

Sessions are rows, not self-contained cookies, so that signing out, changing a password or
removing a user ends the sessions at once (a signed cookie stays valid until it expires). The
cookie carries a random token; only its SHA-256 is stored, so a copy of the database does not
let anyone sign in. Login attempts are rows too, so the rate limit holds across several web
processes behind one load balancer (docs/architecture.md: web processes are stateless).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from campaign.models.base import UTCDateTime, utcnow


class Role(StrEnum):
    """What a user may do: a viewer reads, an editor changes content, an admin everything."""

    viewer = "viewer"
    editor = "editor"
    admin = "admin"


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    # Stored lower-cased: one account per address whatever the case typed.
    email: str = Field(sa_column=Column(String(320), unique=True, nullable=False))
    password_hash: str = Field(max_length=500)
    role: str = Field(default=Role.viewer, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """One signed-in browser. ``token_hash``: SHA-256 of the cookie's token (hex)."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    # Sent in every form and checked on every POST (the per-session CSRF token).
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ip: str = Field(default="", max_length=50)
    user_agent: str = Field(default="", max_length=300)


class LoginAttempt(SQLModel, table=True):
    """One sign-in attempt, kept a day for the per-IP and per-account rate limits."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_ip", "ip", "at"),
        Index("ix_login_attempt_email", "email", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ip: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=320)
    success: bool = Field(default=False)
