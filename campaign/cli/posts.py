"""``campaign posts …``: write, review, schedule and publish posts, or plan them from events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from campaign.cli import common, post_input
from campaign.cli.common import JsonOption, console
from campaign.cli.post_publishing import publish_waiting
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.events.catalogue import find_event
from campaign.models import Event, Post, PostStatus
from campaign.social.cost import describe, estimate, post_usage
from campaign.social.length import check_length, limit_for
from campaign.social.limits import account_limit
from campaign.social.networks import network_of, transport_for
from campaign.social.planning import Plan, PlannedPost, parse_times, plan_event_posts
from campaign.social.posts import (
    cancel_post,
    create_posts,
    edit_post,
    get_post,
    list_posts,
    schedule_posts,
)

post_app = typer.Typer(
    help="Posts for X (@Mois_ESS, @Prix_ESS): write, plan from events, schedule, publish."
)


def _row(post: Post, settings: Settings | None = None) -> dict[str, Any]:
    network = network_of(common.settings(), post.account)
    row: dict[str, Any] = {
        "id": post.id,
        "account": post.account,
        "status": post.status,
        "scheduled_at": post.scheduled_at,
        "parts": post.parts,
        "network": network,
        "lengths": [check_length(part, network)[0] for part in post.parts],
        "images": post.images,
        "event_ids": post.event_ids,
        "remote_ids": post.remote_ids,
        "dry_run": post.dry_run,
        "attempts": post.attempts,
        "last_error": post.last_error,
        "not_before": post.not_before,
        "uncertain_since": post.uncertain_since,
        "published_at": post.published_at,
    }
    if settings is not None:
        network = network_of(settings, post.account)
        row["cost"] = estimate(post_usage(post, network), settings.social.x.prices).as_json()
    return row


def _print_parts(post: Post) -> None:
    """Each part with its length against the account's limit (its instance's, when known)."""
    settings = common.settings()
    network = network_of(settings, post.account)
    with common.session() as session:
        limit = limit_for(network, account_limit(session, settings, post.account))
    for number, part in enumerate(post.parts, 1):
        length = check_length(part, network)[0]
        console.print(f"  {number}. [{length}/{limit}] {part}", highlight=False, markup=False)


@post_app.command("create")
def create(
    accounts: list[str] = typer.Option(
        ...,
        "--account",
        "-a",
        help="Account name, e.g. mois_ess; repeat it for one post on each of several accounts.",
    ),
    text: str | None = typer.Option(None, "--text", "-t", help="Text of the post."),
    template: str | None = typer.Option(
        None, "--template", help="Template of templates/posts/ (e.g. evenement, prix-vote)."
    ),
    values: list[str] = typer.Option(
        [], "--set", help="A value for the template: NAME=VALUE (repeatable)."
    ),
    event: str | None = typer.Option(
        None, "--event", help="Event (its id on the events website) for the template."
    ),
    thread: Path | None = typer.Option(
        None, "--thread", help="File of a thread: parts separated by '---' lines, else paragraphs."
    ),
    image: list[Path] = post_input.ImageOption,
    alt: list[str] = post_input.AltOption,
    at: str | None = post_input.AtOption,
    split: bool = post_input.SplitOption,
    draft: bool = typer.Option(False, "--draft", help="Keep it a draft even with --at."),
    json_output: bool = JsonOption,
) -> None:
    """Write a post (a draft, or scheduled with --at). Its length is checked the way its
    account's network counts; with several --account, one post per account, all checked first."""
    settings = common.settings()
    _check_sources(text, template, thread, event)
    scheduled_at = post_input.parse_moment(at, "--at", settings)
    with common.session() as session:
        parts = None
        featured = find_event(session, event) if event is not None else None
        if template is not None:
            text = post_input.template_text(template, values, featured, scheduled_at, settings)
        elif thread is not None:
            parts = post_input.read_thread(thread)
        posts = create_posts(
            session,
            settings,
            accounts=accounts,
            text=text,
            parts=parts,
            scheduled_at=scheduled_at,
            split=split,
            images=post_input.images(image, alt),
            event_ids=[featured.id] if featured is not None and featured.id else [],
            draft=True if draft else None,
            template=template or "",
            filled_by_hand=bool(values),
        )
        rows = [_row(post, settings) for post in posts]
    if json_output:
        common.print_json(rows[0] if len(rows) == 1 else rows)
        return
    for post in posts:
        _print_created(post, settings)


def _check_sources(
    text: str | None, template: str | None, thread: Path | None, event: str | None
) -> None:
    """``create`` takes its text from exactly one place; ``--event`` only fills a template."""
    if sum(source is not None for source in (text, template, thread)) != 1:
        raise CampaignError(
            "Give the post's text with exactly one of --text, --template, --thread."
        )
    if event is not None and template is None:
        raise CampaignError("--event fills a template: give --template too (e.g. evenement).")


def _print_created(post: Post, settings: Settings) -> None:
    when = f" for {common.local(post.scheduled_at, settings)}" if post.scheduled_at else ""
    console.print(
        f"Post {post.id} created on {post.account} ({post.status}{when}), "
        f"{len(post.parts)} part(s):"
    )
    _print_parts(post)
    if post.images:
        console.print(f"  with {len(post.images)} image(s) on the first part.")


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
            str(len(row["parts"])) + (f" +{len(row['images'])} img" if row["images"] else ""),
            first[:60] + ("…" if len(first) > 60 else ""),
            row["last_error"][:80],
        )
    console.print(table)


@post_app.command("show")
def show(
    post_id: int = typer.Argument(..., help="Post number (see `campaign posts list`)."),
    json_output: bool = JsonOption,
) -> None:
    """Everything about one post: texts and their lengths, images, events, X ids, last error."""
    settings = common.settings()
    with common.session() as session:
        post = get_post(session, post_id)
        row = _row(post, settings)
        events = [session.get(Event, event_id) for event_id in post.event_ids]
        row["events"] = [
            {"id": e.id, "source_id": e.source_id, "title": e.title} for e in events if e
        ]
    if json_output:
        common.print_json(row)
        return
    when = common.local(post.scheduled_at, settings) or "no time yet"
    dry = " (dry run)" if post.dry_run else ""
    console.print(f"Post {post.id} — {post.account} — {post.status}{dry} — {when}", markup=False)
    _print_parts(post)
    for number, image in enumerate(post.images, 1):
        console.print(f"  image {number}: {image['path']} — {image['alt']}", markup=False)
    for event in row["events"]:
        console.print(f"  event: {event['source_id']} {event['title']}", markup=False)
    if post.remote_ids:
        console.print(f"  X ids: {', '.join(post.remote_ids)}")
    if post.not_before:
        again = common.local(post.not_before, settings, "%d/%m/%Y %H:%M:%S")
        console.print(f"  X asked to wait: tried again after {again}")
    if post.uncertain_since:
        console.print("  an attempt got no answer: the next one looks for the post on X first")
    if post.last_error:
        console.print(f"  last error: {post.last_error}", markup=False)
    if post.status not in (PostStatus.published, PostStatus.cancelled):
        cost = estimate(
            post_usage(post, network_of(settings, post.account)), settings.social.x.prices
        )
        console.print(f"  {describe(cost, settings.social.x.prices)}", markup=False)


@post_app.command("edit")
def edit(
    post_id: int = typer.Argument(..., help="Post number (see `campaign posts list`)."),
    text: str | None = typer.Option(None, "--text", "-t", help="New text."),
    thread: Path | None = typer.Option(None, "--thread", help="New thread, from a file."),
    at: str | None = post_input.AtOption,
    unschedule: bool = typer.Option(
        False, "--no-time", help="Remove the publication time (the post becomes a draft)."
    ),
    split: bool = post_input.SplitOption,
    image: list[Path] = post_input.ImageOption,
    alt: list[str] = post_input.AltOption,
    no_images: bool = typer.Option(False, "--no-images", help="Remove the images."),
    json_output: bool = JsonOption,
) -> None:
    """Change a post not yet published: only what is given changes; its status is kept."""
    settings = common.settings()
    if text is not None and thread is not None:
        raise CampaignError("Give either --text or --thread, not both.")
    changes: dict[str, Any] = {"text": text, "split": split}
    if thread is not None:
        changes["parts"] = post_input.read_thread(thread)
    if at is not None and unschedule:
        raise CampaignError("Give either --at or --no-time, not both.")
    if at is not None:
        changes["scheduled_at"] = post_input.parse_moment(at, "--at", settings)
    elif unschedule:
        changes["scheduled_at"] = None
    if image or alt:
        changes["images"] = post_input.images(image, alt)
    elif no_images:
        changes["images"] = []
    with common.session() as session:
        post = edit_post(session, settings, post_id, **changes)
        row = _row(post, settings)
    if json_output:
        common.print_json(row)
        return
    when = f" for {common.local(post.scheduled_at, settings)}" if post.scheduled_at else ""
    console.print(f"Post {post.id} changed ({post.status}{when}):")
    _print_parts(post)


@post_app.command("cancel")
def cancel(
    post_id: int = typer.Argument(..., help="Post number (see `campaign posts list`)."),
    json_output: bool = JsonOption,
) -> None:
    """Make sure a post is never published (what is already on X stays there)."""
    with common.session() as session:
        post = cancel_post(session, post_id)
        row = _row(post)
    if json_output:
        common.print_json(row)
        return
    partly = " Its parts already on X stay there." if post.remote_ids else ""
    console.print(f"Post {post.id} cancelled: it will not be published.{partly}")


@post_app.command("schedule")
def schedule(
    post_ids: list[int] = typer.Argument(None, help="Post numbers (see `campaign posts list`)."),
    all_drafts: bool = typer.Option(False, "--all-drafts", help="Every draft (with a time)."),
    account: str | None = typer.Option(
        None, "--account", "-a", help="With --all-drafts: only this account's."
    ),
    json_output: bool = JsonOption,
) -> None:
    """Schedule reviewed drafts, checked again, and show what publishing them will cost on X."""
    settings = common.settings()
    with common.session() as session:
        result = schedule_posts(
            session, settings, post_ids or [], all_drafts=all_drafts, account=account
        )
        rows = [_row(post) for post in result.scheduled]
    assert result.estimate is not None
    if json_output:
        common.print_json(
            {
                "scheduled": rows,
                "refused": [{"id": i, "reason": str(reason)} for i, reason in result.refused],
                "estimate": result.estimate.as_json(),
                "dry_run_accounts": result.dry_run_accounts,
            }
        )
        return
    for row in rows:
        when = common.local(row["scheduled_at"], settings)
        console.print(f"Post {row['id']} scheduled for {when} ({row['account']}).")
    for post_id, reason in result.refused:
        console.print(f"Post {post_id} not scheduled: {reason}", markup=False)
    console.print(f"{len(rows)} post(s) scheduled, {len(result.refused)} not.")
    console.print(describe(result.estimate, settings.social.x.prices), markup=False)
    if result.dry_run_accounts:
        console.print(
            f"Accounts in dry run ({', '.join(result.dry_run_accounts)}): nothing is sent or "
            "billed until their credentials are set (`campaign social accounts`)."
        )


@post_app.command("publish")
def publish(
    post_id: int = typer.Argument(..., help="Post number (see `campaign posts list`)."),
    max_wait: int = typer.Option(
        300,
        "--max-wait",
        help="When X asks to wait (rate limit), wait here up to this many seconds, then retry.",
    ),
    json_output: bool = JsonOption,
) -> None:
    """Publish a post now. A thread interrupted half-way resumes where it stopped."""
    settings = common.settings()
    with common.session() as session:
        post = publish_waiting(session, post_id, max_wait, settings)
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


@post_app.command("plan-events")
def plan_events(
    accounts: list[str] = typer.Option(
        ...,
        "--account",
        "-a",
        help="Account name, e.g. mois_ess; repeat it for one draft per account for each event.",
    ),
    date_from: str = typer.Option(..., "--from", help="First day, e.g. 2026-11-01 (local)."),
    date_to: str = typer.Option(..., "--to", help="Last day, included."),
    times: str = typer.Option(
        ..., "--times", help="Local times of the day's posts, e.g. 09:00,12:30,17:30."
    ),
    per_day: int | None = typer.Option(
        None, "--per-day", help="Posts a day, at the first N times (default: one per time)."
    ),
    theme_of_the_day: bool = typer.Option(
        False, "--theme-of-the-day", help="Give each day one theme and feature its events."
    ),
    template: str = typer.Option(
        "evenement", "--template", help="Post template of templates/posts/."
    ),
    json_output: bool = JsonOption,
) -> None:
    """Create draft posts featuring each day's events, varied, none featured twice."""
    settings = common.settings()
    first = common.parse_day(date_from, "--from")
    last = common.parse_day(date_to, "--to")
    assert first is not None and last is not None
    with common.session() as session:
        plan = plan_event_posts(
            session,
            settings,
            accounts=accounts,
            date_from=first,
            date_to=last,
            times=parse_times(times),
            per_day=per_day,
            theme_of_the_day=theme_of_the_day,
            template=template,
        )
        rows = [_planned_row(planned) for planned in plan.planned]
    assert plan.estimate is not None
    if json_output:
        common.print_json(
            {
                "posts": rows,
                "notes": [str(note) for note in plan.notes],
                "estimate": plan.estimate.as_json(),
                "dry_run": plan.dry_run,
            }
        )
        return
    _print_plan(rows, plan, accounts, settings)


def _planned_row(planned: PlannedPost) -> dict[str, Any]:
    return {
        **_row(planned.post),
        "event": {
            "id": planned.event.id,
            "source_id": planned.event.source_id,
            "title": planned.event.title,
            "city": planned.event.city,
            "region": planned.event.region,
            "theme": planned.event.theme,
        },
        "shortened": planned.shortened,
    }


def _print_plan(
    rows: list[dict[str, Any]], plan: Plan, accounts: list[str], settings: Settings
) -> None:
    """The planned drafts as a table, the planner's notes, the cost, and what to do next."""
    assert plan.estimate is not None
    names = ", ".join(dict.fromkeys(accounts))
    table = Table("N°", "Account", "When", "Event", "City", "Region", "Theme", "Length")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["account"],
            common.local(row["scheduled_at"], settings, "%a %d/%m %H:%M"),
            row["event"]["title"][:50],
            row["event"]["city"],
            row["event"]["region"],
            row["event"]["theme"],
            f"{row['lengths'][0]}/{limit_for(row['network'])}",
        )
    console.print(table)
    for note in plan.notes:
        console.print(f"Note: {note}", markup=False)
    console.print(f"{len(rows)} draft post(s) created for {names}.")
    console.print(describe(plan.estimate, settings.social.x.prices), markup=False)
    for name in dict.fromkeys(accounts):
        if transport_for(settings, name).dry_run:
            console.print(
                f"{name} is in dry run: nothing is sent or billed until its credentials are set."
            )
    only = f" --account {accounts[0]}" if len(set(accounts)) == 1 else ""
    console.print(
        "Review them (`campaign posts show ID`, `campaign posts edit ID`, `campaign posts cancel "
        f"ID`), then `campaign posts schedule --all-drafts{only}`."
    )
