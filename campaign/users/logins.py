"""Signing in: checking the credentials, within the limits on failed attempts.

Failed attempts are counted over :data:`WINDOW`, in the database, so several web processes
share one limit:

- per IP address, all users together: past the limit that address is refused;
- per user *and* address: past the limit the user is refused from that address only.
  Counting per user alone would let anyone who knows an address keep its owner out;
- per user, all addresses together: past the ceiling attempts on it are only slowed down
  (:attr:`LoginResult.slowed`), never refused, so the owner still gets in; a warning is logged
  and admins see it on the settings page (:func:`login_pressure`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func
from sqlalchemy import select as core_select  # sqlmodel's select takes at most 4 columns
from sqlmodel import Session, col, select

from campaign.config import DashboardSettings
from campaign.models import LoginAttempt, User, utcnow
from campaign.users.members import find_user
from campaign.users.passwords import needs_rehash, rehash, verify_password

WINDOW = timedelta(minutes=15)
KEEP_ATTEMPTS = timedelta(days=1)
SLOW_DOWN_SECONDS = 3.0  # how late an attempt on an account over its ceiling is answered

log = logging.getLogger(__name__)


def slow_after(limits: DashboardSettings) -> int:
    """The per-account ceiling: more failures than one address may make on all accounts.

    Past it the account is being guessed at from several addresses, or hammered from one that
    its own limit already refuses: slowing every attempt on it costs its owner a few seconds.
    """
    return max(limits.max_failed_logins_per_ip, limits.max_failed_logins + 1)


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    # "rate-ip" (this address), "rate-account" (this account from this address) or ""
    # (then user None means wrong credentials)
    refused: str = ""
    # The account failed too often from all addresses together: answer it late (only slower)
    slowed: bool = False


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
    slow_after: int,
    now: datetime | None = None,
) -> LoginResult:
    """Check the credentials unless this IP, or this account from this IP, failed too often.

    ``max_per_account`` counts the failures on the account from ``ip`` only; ``slow_after``
    those on the account from every address, past which the attempt is checked but
    ``slowed``. Every attempt is recorded; a refused one (rate limit) is recorded as a failure
    too, so someone hammering the form stays locked out until they stop for :data:`WINDOW`.
    """
    now = now or utcnow()
    ip = ip[:50]
    address = email.strip().lower()[:320]
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) < now - KEEP_ATTEMPTS))
    since = now - WINDOW
    refused = ""
    pair = account = 0
    if _failures(session, since, ip=ip) >= max_per_ip:
        refused = "rate-ip"
    elif address:
        pair = _failures(session, since, email=address, ip=ip)
        if pair >= max_per_account:
            refused = "rate-account"
    if address:
        account = _failures(session, since, email=address)
    user = None if refused else _signed_in(session, address, password)
    session.add(LoginAttempt(at=now, ip=ip, email=address, success=user is not None))
    session.flush()
    if user is None and address:
        _warn_of_failures(
            address,
            ip,
            locked=not refused and pair + 1 == max_per_account,
            max_per_account=max_per_account,
            slowed=account + 1 == slow_after,
            slow_after=slow_after,
        )
    return LoginResult(user=user, refused=refused, slowed=not refused and account >= slow_after)


def _signed_in(session: Session, address: str, password: str) -> User | None:
    """The user whose email and password these are (the hash renewed when outdated), else None."""
    candidate = find_user(session, address) if address else None
    if not verify_password(candidate, password):
        return None
    assert candidate is not None  # verify_password is never true without a user
    if needs_rehash(candidate):
        rehash(candidate, password)
    return candidate


def _warn_of_failures(
    address: str,
    ip: str,
    *,
    locked: bool,
    max_per_account: int,
    slowed: bool,
    slow_after: int,
) -> None:
    """Log a failed sign-in that has just locked ``address`` out from ``ip``, or slowed it."""
    minutes = WINDOW.seconds // 60
    if locked:
        log.warning(
            "Dashboard sign-in: %d failures on %s from %s in %d minutes; refused from that "
            "address until it stops for %d minutes.",
            max_per_account,
            address,
            ip,
            minutes,
            minutes,
        )
    if slowed:
        log.warning(
            "Dashboard sign-in: %d failures on %s from all addresses in %d minutes; attempts on "
            "it are now answered late, never refused (the dashboard's settings page lists them).",
            slow_after,
            address,
            minutes,
        )


@dataclass(frozen=True)
class Pressure:
    """Failed sign-ins on one dashboard account, for the admins' settings page."""

    email: str
    failures: int  # over KEEP_ATTEMPTS
    addresses: int  # distinct addresses they came from
    last_at: datetime
    recent: int  # over WINDOW
    locked_addresses: int  # addresses refused on it now
    slowed: bool  # attempts on it answered late now


def login_pressure(
    session: Session, *, max_per_account: int, slow_after: int, now: datetime | None = None
) -> list[Pressure]:
    """Dashboard accounts with failed sign-ins over the last day, most failed first."""
    now = now or utcnow()
    since = now - WINDOW
    recent = func.sum(case((col(LoginAttempt.at) >= since, 1), else_=0))
    rows = session.execute(
        core_select(
            col(LoginAttempt.email),
            col(LoginAttempt.ip),
            func.count(),
            func.max(LoginAttempt.at),
            recent,
        )
        .where(col(LoginAttempt.success).is_(False), col(LoginAttempt.at) >= now - KEEP_ATTEMPTS)
        .where(col(LoginAttempt.email).in_(select(User.email)))
        .group_by(col(LoginAttempt.email), col(LoginAttempt.ip))
    ).all()
    by_account: dict[str, list[tuple[int, datetime, int]]] = {}
    for email, _ip, count, last_at, in_window in rows:
        by_account.setdefault(email, []).append((int(count), last_at, int(in_window or 0)))
    found = [
        Pressure(
            email=email,
            failures=sum(count for count, _, _ in pairs),
            addresses=len(pairs),
            last_at=max(last for _, last, _ in pairs),
            recent=sum(window for _, _, window in pairs),
            locked_addresses=sum(window >= max_per_account for _, _, window in pairs),
            slowed=sum(window for _, _, window in pairs) >= slow_after,
        )
        for email, pairs in by_account.items()
    ]
    return sorted(found, key=lambda item: (-item.recent, -item.failures, item.email))
