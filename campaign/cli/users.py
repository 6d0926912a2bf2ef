"""``campaign users …``: the dashboard's users (add, list, passwd, remove); the rules are the
:mod:`campaign.users` stage's, this door parses and prints."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.table import Table

from campaign.cli import common
from campaign.cli.common import JsonOption, console
from campaign.cli.common import local as local_time
from campaign.errors import CampaignError
from campaign.models import Role
from campaign.users import members
from campaign.users.passwords import check_password_strength

app = typer.Typer(help="Who may sign in to the dashboard (/admin), and with which role.")

PasswordStdin = typer.Option(
    False, "--password-stdin", help="Read the password from standard input (for scripts)."
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CampaignError("--password-stdin: standard input held no password.")
        check_password_strength(password)
        return password
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    check_password_strength(password)
    return password


@app.command()
def add(
    email: str = typer.Argument(..., help="The person's email address (their login)."),
    role: Role = typer.Option(
        ..., "--role", help="admin (everything), editor (content) or viewer (read only)."
    ),
    password_stdin: bool = PasswordStdin,
) -> None:
    """Create a dashboard user (the password is asked twice, or read with --password-stdin)."""
    password = _password(password_stdin)
    with common.session() as session:
        user = members.add_user(session, email, role=role, password=password)
        address, granted = user.email, user.role
    console.print(f"{address} can now sign in to /admin as {granted}.", highlight=False)


@app.command("list")
def list_(json_output: bool = JsonOption) -> None:
    """Every dashboard user with their role and last sign-in."""
    settings = common.settings()
    with common.session() as session:
        rows: list[dict[str, Any]] = [
            {
                "email": user.email,
                "role": user.role,
                "created_at": user.created_at,
                "last_login_at": user.last_login_at,
            }
            for user in members.list_users(session)
        ]
    if json_output:
        common.print_json(rows)
        return
    table = Table("Email", "Role", "Created", "Last sign-in")
    for row in rows:
        table.add_row(
            row["email"],
            row["role"],
            local_time(row["created_at"], settings),
            local_time(row["last_login_at"], settings) or "never",
        )
    console.print(table)


@app.command()
def passwd(
    email: str = typer.Argument(..., help="The user's email address."),
    role: Role | None = typer.Option(None, "--role", help="Also change the role."),
    password_stdin: bool = PasswordStdin,
) -> None:
    """Set a new password (signs the user out everywhere); optionally change the role."""
    with common.session() as session:
        members.require_user(session, email)
    password = _password(password_stdin)
    with common.session() as session:
        members.set_password(session, email, password)
        if role is not None:
            members.set_role(session, email, role)
    console.print(f"{email.strip()}: password changed; their sessions were ended.")


@app.command()
def remove(
    email: str = typer.Argument(..., help="The user's email address."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Remove a dashboard user (their sessions end at once)."""
    with common.session() as session:
        members.require_user(session, email)
    if not yes:
        typer.confirm(f"Remove the dashboard user {email.strip()}?", abort=True)
    with common.session() as session:
        members.remove_user(session, email)
    console.print(f"{email.strip()} removed.")
