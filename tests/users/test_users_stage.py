"""The ``users`` stage: what each role may do, and its refusals as messages each door words."""

from __future__ import annotations

import argon2
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST, get_default_parameters
from sqlmodel import Session

from campaign.errors import CampaignError
from campaign.models import Role, User
from campaign.users import passwords, roles
from campaign.users.members import add_user, remove_user, set_password, set_role
from campaign.users.passwords import check_password_strength
from campaign.wording import pages

PASSWORD = "correct cheval agrafe"

# role → (read, edit, administer)
MAY = {
    "viewer": (True, False, False),
    "editor": (True, True, False),
    "admin": (True, True, True),
    "retired": (False, False, False),  # a role no longer known may do nothing
    None: (False, False, False),  # nobody signed in
}


@pytest.mark.parametrize("role", list(MAY))
def test_what_each_role_may_do(role: str | None) -> None:
    assert tuple(roles.may(role, action) for action in roles.ACTIONS) == MAY[role]


def test_an_unknown_action_is_a_bug_not_a_refusal() -> None:
    with pytest.raises(ValueError):
        roles.may("admin", "fly")


def _code(error: pytest.ExceptionInfo[CampaignError]) -> tuple[str, str]:
    message = error.value.messages[0]
    return message.code, message.field


def test_weak_passwords_are_refused_as_messages() -> None:
    with pytest.raises(CampaignError) as short:
        check_password_strength("short")
    assert _code(short) == ("user.password_too_short", "password")
    assert str(short.value).startswith("The password is too short: use at least 10 characters")
    assert "10 caractères" in pages.word(short.value.messages[0], "fr")
    with pytest.raises(CampaignError) as spaced:
        check_password_strength(" " + PASSWORD)
    assert _code(spaced) == ("user.password_spaces", "password")


def test_users_refusals_name_the_field_and_keep_the_cli_words(session: Session) -> None:
    add_user(session, "anne@example.org", role="admin", password=PASSWORD)
    with pytest.raises(CampaignError) as twice:
        add_user(session, "Anne@Example.org", role="editor", password=PASSWORD)
    assert _code(twice) == ("user.exists", "email")
    assert "`campaign users passwd anne@example.org`" in str(twice.value)
    with pytest.raises(CampaignError) as bad:
        add_user(session, "not an address", role="editor", password=PASSWORD)
    assert _code(bad) == ("user.bad_email", "email")
    with pytest.raises(CampaignError) as role:
        add_user(session, "bob@example.org", role="boss", password=PASSWORD)
    assert _code(role) == ("user.unknown_role", "role")
    assert str(role.value) == "Unknown role 'boss'; use one of viewer, editor, admin."
    for change in (
        lambda: set_password(session, "nobody@example.org", PASSWORD),
        lambda: set_role(session, "nobody@example.org", "admin"),
        lambda: remove_user(session, "nobody@example.org"),
    ):
        with pytest.raises(CampaignError) as unknown:
            change()
        assert _code(unknown) == ("user.unknown", "email")
    assert set_role(session, "ANNE@example.org", " Editor ").role == Role.editor


@pytest.mark.real_password_hashing
def test_passwords_are_stored_with_argon2s_recommended_parameters() -> None:
    """The product hashes with Argon2id at the library's recommended cost (RFC 9106's low-memory
    choice), which the other tests trade for argon2's cheapest profile; a stored hash made with
    other parameters is rehashed at the next sign-in."""
    stored = passwords.hash_password(PASSWORD)
    assert argon2.extract_parameters(stored) == get_default_parameters()
    user = User(email="a@example.org", role=Role.editor, password_hash=stored)
    assert passwords.verify_password(user, PASSWORD)
    assert not passwords.needs_rehash(user)
    user.password_hash = PasswordHasher.from_parameters(CHEAPEST).hash(PASSWORD)
    assert passwords.needs_rehash(user)
