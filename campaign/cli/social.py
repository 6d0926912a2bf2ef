"""``campaign post …`` (write, list, publish posts) and ``campaign social …`` (the accounts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from rich.table import Table

from campaign.cli import common
from campaign.cli.common import JsonOption, console
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Post, PostStatus
from campaign.social import TransportError
from campaign.social.length import check_length
from campaign.social.posts import create_post, list_posts, publish_post
from campaign.social.x import missing_credentials

post_app = typer.Typer(help="Posts for X (@Mois_ESS, @Prix_ESS): write, list, publish.")
social_app = typer.Typer(help="Social accounts: which are configured, which lack credentials.")


@social_app.callback()
def _social() -> None:
    """Social accounts: which are configured, which lack credentials."""
    # A callback keeps `social` a group even while it has a single command.


_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S")


def parse_moment(text: str | None, option: str, settings: Settings) -> datetime | None:
    """A date and time from the command line, in the configured zone unless it names one."""
    if text is None:
        return None
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
        for fmt in _FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if moment is None:
        raise CampaignError(
            f"{option}: {text!r} is not a date and time; write 2026-11-05 09:30 or "
            "05/11/2026 09:30 (time in the configured zone)."
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.zone)


def _row(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "account": post.account,
        "status": post.status,
        "scheduled_at": post.scheduled_at,
        "parts": post.parts,
        "lengths": [check_length(part)[0] for part in post.parts],
        "remote_ids": post.remote_ids,
        "dry_run": post.dry_run,
        "attempts": post.attempts,
        "last_error": post.last_error,
        "published_at": post.published_at,
    }


@post_app.command("create")
def create(
    account: str = typer.Option(..., "--account", "-a", help="Account name, e.g. mois_ess."),
    text: str = typer.Option(..., "--text", "-t", help="Text of the post."),
    at: str | None = typer.Option(
        None, "--at", help="Publication time, e.g. '2026-11-05 09:30' (configured zone)."
    ),
    split: bool = typer.Option(
        False, "--split", help="Cut a text too long for one post into a thread."
    ),
    json_output: bool = JsonOption,
) -> None:
    """Write a post (a draft, or scheduled with --at). Its length is checked the way X counts."""
    settings = common.settings()
    scheduled_at = parse_moment(at, "--at", settings)
    with common.session() as session:
        post = create_post(
            session, settings, account=account, text=text, scheduled_at=scheduled_at, split=split
        )
        row = _row(post)
    if json_output:
        common.print_json(row)
        return
    when = f" for {common.local(post.scheduled_at, settings)}" if post.scheduled_at else ""
    console.print(f"Post {post.id} created ({post.status}{when}), {len(post.parts)} part(s):")
    for number, (part, length) in enumerate(zip(post.parts, row["lengths"], strict=True), 1):
        console.print(f"  {number}. [{length}/280] {part}", highlight=False)


@post_app.command("list")
def list_(
    account: str | None = typer.Option(None, "--account", "-a", help="Only this account."),
    status: PostStatus | None = typer.Option(None, "--status", help="Only this status."),
    json_output: bool = JsonOption,
) -> None:
    """List posts in publication order."""
    settings = common.settings()
    with common.session() as session:
        posts = list_posts(session, account=account, status=status.value if status else None)
        rows = [_row(post) for post in posts]
    if json_output:
        common.print_json(rows)
        return
    table = Table("N°", "Account", "When", "Status", "Parts", "Text", "Error")
    for row in rows:
        status_text = row["status"] + (" (dry run)" if row["dry_run"] else "")
        first = row["parts"][0] if row["parts"] else ""
        table.add_row(
            str(row["id"]),
            row["account"],
            common.local(row["scheduled_at"], settings),
            status_text,
            str(len(row["parts"])),
            first[:60] + ("…" if len(first) > 60 else ""),
            row["last_error"][:80],
        )
    console.print(table)


@post_app.command("publish")
def publish(
    post_id: int = typer.Argument(..., help="Post number (see `campaign post list`)."),
    json_output: bool = JsonOption,
) -> None:
    """Publish a post now. A thread interrupted half-way resumes where it stopped."""
    settings = common.settings()
    with common.session() as session:
        try:
            post = publish_post(session, settings, post_id)
        except TransportError as exc:
            raise CampaignError(f"Post {post_id} not published: {exc}") from None
        row = _row(post)
    if json_output:
        common.print_json(row)
        return
    if post.dry_run:
        console.print(
            f"Post {post.id} recorded as published in dry run (no credentials for "
            f"{post.account!r}; see `campaign social accounts`): nothing was sent to X."
        )
    else:
        console.print(f"Post {post.id} published: {', '.join(post.remote_ids)}.")


@social_app.command("accounts")
def accounts(json_output: bool = JsonOption) -> None:
    """List the configured accounts and the credential variables each one still lacks."""
    settings = common.settings()
    rows = []
    for name, account in sorted(settings.social.accounts.items()):
        missing = missing_credentials(settings, account)
        rows.append(
            {
                "name": name,
                "network": account.network,
                "handle": account.handle,
                "mode": "dry run" if missing else "live",
                "missing": missing,
            }
        )
    if json_output:
        common.print_json(rows)
        return
    table = Table("Name", "Network", "Handle", "Mode", "Missing variables")
    for row in rows:
        table.add_row(
            row["name"],
            row["network"],
            "@" + row["handle"],
            row["mode"],
            "\n".join(row["missing"]) or "—",
        )
    console.print(table)
    if any(row["missing"] for row in rows):
        console.print(
            "Accounts with missing variables publish in dry run: posts are recorded, not sent."
        )
