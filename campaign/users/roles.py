"""What each role may do: the one place the dashboard and the CLI ask.

A viewer reads; an editor also changes content (writes, schedules, sends); an admin also
administers (erases a person's data, sees the failed sign-ins on every user).
"""

from __future__ import annotations

from campaign.errors import CampaignError
from campaign.models import Role

READ = "read"
EDIT = "edit"
ADMINISTER = "administer"
ACTIONS = (READ, EDIT, ADMINISTER)
# The lowest role allowed each action.
_LOWEST = {READ: Role.viewer, EDIT: Role.editor, ADMINISTER: Role.admin}
_RANK = {Role.viewer: 0, Role.editor: 1, Role.admin: 2}


def parse_role(role: str) -> Role:
    """The role named ``role`` (any case), or a message (field ``role``) listing the known."""
    try:
        return Role(role.strip().lower())
    except ValueError:
        known = ", ".join(item.value for item in Role)
        raise CampaignError.of("user.unknown_role", "role", role=role, known=known) from None


def may(role: str | None, action: str) -> bool:
    """Whether a user with ``role`` (None: nobody signed in) may do ``action``."""
    if action not in _LOWEST:
        raise ValueError(f"unknown action {action!r}; one of {ACTIONS}")
    if role is None:
        return False
    try:
        rank = _RANK[Role(role)]
    except ValueError:
        return False  # a role no longer known may do nothing
    return rank >= _RANK[_LOWEST[action]]
