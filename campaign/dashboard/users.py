"""Dashboard users: add, list, change a password, remove; passwords hashed with Argon2id.

The first user is created from the command line (``campaign users add EMAIL --role admin``);
there is no sign-up page. Changing a password or removing a user ends their sessions at once.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete
from sqlmodel import Session, col, select

from campaign.addresses import InvalidEmail, normalise_email
from campaign.errors import CampaignError
from campaign.models import Role, User, UserSession, utcnow

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Verified when the address is unknown, so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CampaignError(
            f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters "
            "(a few words make a good one)."
        )
    if password.strip() != password:
        raise CampaignError("The password starts or ends with a space; remove it.")


def _address(email: str) -> str:
    try:
        return normalise_email(email)
    except InvalidEmail as exc:
        raise CampaignError(f"{email.strip()!r} is not a valid email address ({exc}).") from None


def _role(role: str) -> Role:
    try:
        return Role(role.strip().lower())
    except ValueError:
        known = ", ".join(item.value for item in Role)
        raise CampaignError(f"Unknown role {role!r}; use one of {known}.") from None


def find_user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def require_user(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise CampaignError(
            f"No dashboard user {email.strip()!r}; `campaign users list` shows them."
        )
    return user


def add_user(session: Session, email: str, *, role: str, password: str) -> User:
    """A new user; refuses an address already used and a password too short."""
    address = _address(email)
    if find_user(session, address) is not None:
        raise CampaignError(
            f"{address} is already a dashboard user; `campaign users passwd {address}` "
            "changes the password."
        )
    user = User(email=address, role=_role(role), password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.email))))


def end_sessions(session: Session, user: User) -> int:
    """Sign the user out everywhere; the number of sessions ended."""
    result = session.execute(delete(UserSession).where(col(UserSession.user_id) == user.id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
    user.role = _role(role)
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


def verify_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is the user's; the same work is done for an unknown user."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and (
            user is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(user: User) -> bool:
    """Whether the stored hash uses older parameters than today's (rehashed at sign-in)."""
    try:
        return _hasher.check_needs_rehash(user.password_hash)
    except InvalidHashError:
        return False


def rehash(user: User, password: str) -> None:
    user.password_hash = _hasher.hash(password)
