"""``campaign users …``: the first admin comes from the command line; passwords are hashed."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from campaign.db import open_database
from campaign.models import User, UserSession
from campaign.users.logins import attempt_login
from campaign.users.members import add_user
from campaign.users.passwords import verify_password
from campaign.users.sessions import open_session, signed_in

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)

PASSWORD = "correct cheval agrafe"


def _users(database_url: str) -> list[User]:
    engine = open_database(database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(User)))
    finally:
        engine.dispose()


def test_users_add_reads_the_password_from_stdin_and_stores_only_an_argon2_hash(
    cli, database_url: str
) -> None:
    result = cli(
        "users",
        "add",
        "Anne@Example.org",
        "--role",
        "admin",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.stderr
    assert "anne@example.org can now sign in to /admin as admin" in result.stdout
    (user,) = _users(database_url)
    assert user.email == "anne@example.org" and user.role == "admin"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert verify_password(user, PASSWORD) and not verify_password(user, PASSWORD + "!")


def test_users_add_prompts_twice_without_password_stdin(cli, database_url: str) -> None:
    result = cli(
        "users", "add", "b@example.org", "--role", "editor", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.stderr
    assert [u.role for u in _users(database_url)] == ["editor"]


def test_users_add_refuses_short_passwords_unknown_roles_and_duplicates(cli) -> None:
    short = cli(
        "users", "add", "c@example.org", "--role", "viewer", "--password-stdin", input="court\n"
    )
    assert short.exit_code == 1 and "too short" in short.stderr and "Traceback" not in short.stderr
    role = cli(
        "users", "add", "c@example.org", "--role", "boss", "--password-stdin", input=PASSWORD
    )
    assert role.exit_code != 0 and "boss" in role.stderr
    assert (
        cli(
            "users", "add", "c@example.org", "--role", "viewer", "--password-stdin", input=PASSWORD
        ).exit_code
        == 0
    )
    again = cli(
        "users", "add", "C@example.org", "--role", "viewer", "--password-stdin", input=PASSWORD
    )
    assert again.exit_code == 1 and "already a dashboard user" in again.stderr
    bad = cli(
        "users", "add", "not-an-address", "--role", "viewer", "--password-stdin", input=PASSWORD
    )
    assert bad.exit_code == 1 and "not a valid email address" in bad.stderr


def test_users_list_passwd_and_remove(cli, database_url: str) -> None:
    for email, role in (("a@example.org", "admin"), ("v@example.org", "viewer")):
        cli("users", "add", email, "--role", role, "--password-stdin", input=PASSWORD)
    listed = json.loads(cli("users", "list", "--json").stdout)
    assert [(row["email"], row["role"], row["last_login_at"]) for row in listed] == [
        ("a@example.org", "admin", None),
        ("v@example.org", "viewer", None),
    ]
    assert "v@example.org" in cli("users", "list").stdout

    engine = open_database(database_url)
    try:
        with Session(engine) as session:
            viewer = session.exec(select(User).where(User.email == "v@example.org")).one()
            token = open_session(session, viewer, hours=1)
            session.commit()
        changed = cli(
            "users",
            "passwd",
            "v@example.org",
            "--role",
            "editor",
            "--password-stdin",
            input="un autre mot de passe\n",
        )
        assert changed.exit_code == 0, changed.stderr
        with Session(engine) as session:
            assert signed_in(session, token) is None  # the old session ended
            viewer = session.exec(select(User).where(User.email == "v@example.org")).one()
            assert viewer.role == "editor"
            assert verify_password(viewer, "un autre mot de passe")
            token = open_session(session, viewer, hours=1)
            session.commit()
        assert cli("users", "remove", "v@example.org", "--yes").exit_code == 0
        with Session(engine) as session:
            assert session.exec(select(UserSession)).all() == []
        assert [u.email for u in _users(database_url)] == ["a@example.org"]
        missing = cli("users", "remove", "v@example.org", "--yes")
        assert missing.exit_code == 1 and "No dashboard user" in missing.stderr
    finally:
        engine.dispose()


def test_attempts_are_counted_per_account_and_address_and_per_address(session: Session) -> None:
    add_user(session, "a@example.org", role="admin", password=PASSWORD)
    session.commit()
    limits = {"max_per_account": 3, "max_per_ip": 10, "slow_after": 5}
    for _ in range(3):
        result = attempt_login(session, "a@example.org", "faux", ip="10.0.0.1", **limits)
        assert result.user is None and result.refused == "" and not result.slowed
    locked = attempt_login(session, "a@example.org", PASSWORD, ip="10.0.0.1", **limits)
    assert locked.user is None and locked.refused == "rate-account"
    # From another address the account is not locked: 4 failures so far, under the ceiling.
    fine = attempt_login(session, "A@example.org ", PASSWORD, ip="10.0.0.2", **limits)
    assert fine.user is not None and fine.user.email == "a@example.org" and not fine.slowed
    attempt_login(session, "a@example.org", "faux", ip="10.0.0.3", **limits)
    # 5 failures from all addresses: still checked, and let in, only slowed.
    slowed = attempt_login(session, "a@example.org", PASSWORD, ip="10.0.0.2", **limits)
    assert slowed.user is not None and slowed.refused == "" and slowed.slowed
    for number in range(10):
        attempt_login(session, f"n{number}@example.org", "faux", ip="10.0.0.9", **limits)
    assert attempt_login(session, "a@example.org", PASSWORD, ip="10.0.0.9", **limits).refused == (
        "rate-ip"
    )
