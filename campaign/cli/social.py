"""``campaign social …``: check the social accounts' credentials, measure them, type a
follower count by hand. (``campaign posts …`` is :mod:`campaign.cli.posts`.)"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from campaign.cli import common
from campaign.cli.common import JsonOption, console, err_console, styled
from campaign.models import utcnow
from campaign.reports.queries import known_accounts
from campaign.social.accounts import check_accounts
from campaign.social.metrics import account_named, record_followers, sync_metrics

social_app = typer.Typer(help="Social accounts: check their credentials, measure them.")


@social_app.command("accounts")
def accounts(
    offline: bool = typer.Option(
        False, "--offline", help="Do not ask the networks; only say which variables are missing."
    ),
    json_output: bool = JsonOption,
) -> None:
    """List the configured accounts and check each one's credentials with its network."""
    settings = common.settings()
    checks = check_accounts(settings, offline=offline)
    if json_output:
        common.print_json([{**check.__dict__, "detail": str(check.detail)} for check in checks])
        return
    table = Table("Name", "Network", "Handle", "Mode")
    table.add_column("Credentials", overflow="fold")  # variable names must be read whole
    for check in checks:
        verdict = {True: ("OK ", "green"), False: ("REFUSED ", "red"), None: ("", "")}[check.ok]
        detail = str(check.detail)
        if check.missing:
            detail = "missing:\n" + "\n".join(check.missing)
        table.add_row(
            check.name, check.network, "@" + check.handle, check.mode, styled(verdict, detail)
        )
    console.print(table)
    for check in checks:
        if check.warning:  # a LinkedIn token ending soon, or ended
            style = "red" if check.token == "expired" else "yellow"
            console.print(f"[{style}]{escape(check.warning)}[/]")
    if any(check.missing for check in checks):
        console.print(
            "Accounts with missing variables publish in dry run: posts are recorded, not sent."
        )


@social_app.command("sync-metrics")
def sync_metrics_command(
    account: str | None = typer.Option(None, "--account", "-a", help="Only this account."),
    json_output: bool = JsonOption,
) -> None:
    """Store the accounts' followers, posts and mentions and each published post's figures."""
    settings = common.settings()
    with common.session() as session:
        results = sync_metrics(session, settings, account)
        rows: list[dict[str, Any]] = []
        for result in results:
            snapshot = result.snapshot
            rows.append(
                {
                    "account": result.account,
                    "handle": result.handle,
                    "status": result.status,
                    "message": result.message,
                    "followers": snapshot.followers if snapshot else None,
                    "posts": snapshot.posts if snapshot else None,
                    "mentions_since_last": snapshot.mentions_since_last if snapshot else None,
                    "posts_measured": result.posts_measured,
                    "mentions_kept": result.mentions_kept,
                    "posts_missing": result.posts_missing,
                    "cost": result.cost.as_json() if result.cost else None,
                }
            )
    if json_output:
        common.print_json(rows)
    else:
        for row in rows:
            name = f"{row['account']} (@{row['handle']})"
            if row["status"] == "synced":
                console.print(
                    f"{name}: {row['followers']} followers, {row['posts']} posts, "
                    f"{row['mentions_since_last']} new mention(s); {row['posts_measured']} "
                    f"post(s) measured; X credits used: about {row['cost']['amount']:.3f} "
                    f"{row['cost']['currency']}."
                    + (
                        f" {row['mentions_kept']} mention(s) or repost(s) kept with their "
                        "authors (report social --table influencers)."
                        if row["mentions_kept"]
                        else ""
                    )
                    + (f" ({row['message']})" if row["message"] else ""),
                    markup=False,
                )
            elif row["status"] in ("dry run", "not measured"):
                console.print(f"{name}: {row['message']}.", markup=False)
            else:
                err_console.print(f"{name}: failed: {row['message']}", markup=False)
    if any(row["status"] == "failed" for row in rows):
        raise typer.Exit(1)


@social_app.command("followers")
def followers(
    account: str = typer.Argument(..., help="Account name or handle, e.g. mois_ess or @Mois_ESS."),
    count: int = typer.Argument(..., help="Followers shown on the account's page that day."),
    on: str | None = typer.Option(
        None, "--on", help="The day it was read: 2016-12-31 or 31/12/2016 (default: today)."
    ),
    json_output: bool = JsonOption,
) -> None:
    """Record a follower count typed by hand, for an account whose figures X charges for.

    The reports use it like a measured one (followers at the start and end of the period, new
    followers per day) and say it was typed. Typing the same day again corrects it.
    """
    settings = common.settings()
    day = common.parse_day(on, "--on") if on is not None else None
    with common.session() as session:
        name = account_named(settings, known_accounts(session), account)
        today = utcnow().astimezone(settings.zone).date()
        done = record_followers(session, name, count, day or today, settings.zone, today=today)
    row = {
        "account": name,
        "day": (day or today).isoformat(),
        "followers": done.snapshot.followers,
        "replaced": done.replaced,
    }
    if json_output:
        common.print_json(row)
        return
    message = f"{name}: {row['followers']} followers on {row['day']}, typed by hand"
    if done.replaced is not None:
        message += f" (was {done.replaced})"
    console.print(message + ".", markup=False)
