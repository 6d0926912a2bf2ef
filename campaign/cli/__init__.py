"""The ``campaign`` command: thin Typer commands over the library, one module per area.

Each command parses its arguments, calls one library function and prints the result. Errors a
user can cause are :class:`CampaignError` and are printed as one clear message, never a traceback.

This package's own module stays light: :func:`main` first offers the bounce pipe's message to
the running service (:mod:`campaign.cli.handoff`), which needs neither Typer nor the database
libraries; the command line itself is :mod:`campaign.cli.root`, imported only after that.
"""

from __future__ import annotations

import sys
from typing import Any

# Each command group is imported only when it is run (or listed by --help): a command starts
# with the libraries it needs, not with FastAPI, the dashboard, MJML and X's text rules.
LAZY_COMMANDS: dict[str, str] = {
    "serve": "campaign.cli.serve:serve",
    "demo": "campaign.cli.demo:demo",
    "doctor": "campaign.cli.doctor:doctor",
    "backup": "campaign.cli.backup:backup",
    "restore": "campaign.cli.backup:restore",
    "subscribers": "campaign.cli.subscribers:app",
    "lists": "campaign.cli.lists:app",
    "events": "campaign.cli.events:app",
    "newsletters": "campaign.cli.newsletters:app",
    "bounces": "campaign.cli.bounces:app",
    "posts": "campaign.cli.posts:post_app",
    "social": "campaign.cli.social:social_app",
    "report": "campaign.cli.report:app",
    "schedule": "campaign.cli.schedule:app",
    "users": "campaign.cli.users:app",
}

# One rule for the groups' names: a group over a kind of record the campaign keeps many of is
# named by its plural (subscribers, lists, events, newsletters, bounces, posts, users); a group
# over one whole thing keeps its name (config, schedule, social, report). The names they had
# before the rule still work, hidden from --help, so that scripts keep running.
HIDDEN_ALIASES: dict[str, str] = {
    "newsletter": "newsletters",
    "post": "posts",
}

# Names of campaign.cli.root that callers take from here (``from campaign.cli import app``).
_ROOT_NAMES = {"app", "config_app", "init", "load_command", "LazyGroup", "sender_fix"}


def __getattr__(name: str) -> Any:
    if name in _ROOT_NAMES:
        from campaign.cli import root

        return getattr(root, name)
    raise AttributeError(f"module 'campaign.cli' has no attribute {name!r}")


def main() -> None:
    """Entry point: the bounce pipe's hand-off when the service takes it, else the command."""
    from campaign.cli.handoff import hand_over

    status = hand_over(sys.argv[1:])
    if status is not None:
        sys.exit(status)
    from campaign.cli.root import run

    run()
