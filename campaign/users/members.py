"""Dashboard users: add, list, change a password or a role, remove.

The first user is created from the command line (``campaign users add EMAIL --role admin``);
there is no sign-up page. Changing a password or removing a user ends their sessions at once.
Refusals are messages (``user.*``) each door words.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from campaign.addresses import InvalidEmail, normalise_email
from campaign.errors import CampaignError
from campaign.models import User, utcnow
from campaign.users.passwords import hash_password
from campaign.users.roles import parse_role
from campaign.users.sessions import end_sessions


def _address(email: str) -> str:
    try:
        return normalise_email(email)
    except InvalidEmail as exc:
        raise CampaignError.of(
            "user.bad_email", "email", email=email.strip(), reason=str(exc)
        ) from None


def find_user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def require_user(session: Session, email: str) -> User:
    """The user of ``email``, or a message (field ``email``) saying there is none."""
    user = find_user(session, email)
    if user is None:
        raise CampaignError.of("user.unknown", "email", email=email.strip())
    return user


def add_user(session: Session, email: str, *, role: str, password: str) -> User:
    """A new user; refuses an address already used, an unknown role and a weak password."""
    address = _address(email)
    if find_user(session, address) is not None:
        raise CampaignError.of("user.exists", "email", email=address)
    user = User(email=address, role=parse_role(role), password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.email))))


def set_password(session: Session, email: str, password: str) -> User:
    """A new password; every session of the user ends (they sign in again)."""
    user = require_user(session, email)
    user.password_hash = hash_password(password)
    user.updated_at = utcnow()
    session.add(user)
    end_sessions(session, user)
    session.flush()
    return user


def set_role(session: Session, email: str, role: str) -> User:
    user = require_user(session, email)
    user.role = parse_role(role)
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    return user


def remove_user(session: Session, email: str) -> None:
    """Delete the user and, with them, their sessions."""
    user = require_user(session, email)
    end_sessions(session, user)
    session.delete(user)
    session.flush()
