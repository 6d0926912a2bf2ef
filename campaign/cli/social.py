"""``campaign post …`` (write, review, schedule, publish posts) and ``campaign social …``."""

from __future__ import annotations

import time as clock
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session, select

from campaign.cli import common
from campaign.cli.common import JsonOption, console, err_console, styled
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Event, Post, PostStatus, utcnow
from campaign.reports.queries import known_accounts
from campaign.social import TransportError
from campaign.social.accounts import check_accounts
from campaign.social.compose import MissingValue, event_context, render_post
from campaign.social.cost import describe, estimate, post_usage
from campaign.social.length import check_length, limit_for
from campaign.social.limits import account_limit
from campaign.social.metrics import account_named, record_followers, sync_metrics
from campaign.social.networks import network_of, transport_for
from campaign.social.planning import parse_times, plan_event_posts
from campaign.social.posts import (
    RetryLater,
    cancel_post,
    create_posts,
    edit_post,
    get_post,
    list_posts,
    publish_post,
    schedule_posts,
    thread_parts,
)

post_app = typer.Typer(
    help="Posts for X (@Mois_ESS, @Prix_ESS): write, plan from events, schedule, publish."
)
social_app = typer.Typer(help="Social accounts: check their credentials, measure them.")

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


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise CampaignError(f"{option}: {value!r} is not NAME=VALUE.")
        pairs[key.strip()] = text
    return pairs


def _images(paths: list[Path], alts: list[str]) -> list[dict[str, str]]:
    if len(paths) != len(alts):
        raise CampaignError(
            f"Give one --alt (a description for people who cannot see it) per --image: "
            f"{len(paths)} image(s), {len(alts)} description(s)."
        )
    return [{"path": str(path), "alt": alt} for path, alt in zip(paths, alts, strict=True)]


def _find_event(session: Session, ident: str) -> Event:
    event = session.exec(select(Event).where(Event.source_id == ident)).first()
    if event is None and ident.isdigit():
        event = session.get(Event, int(ident))
    if event is None:
        raise CampaignError(f"No event {ident!r} (see `campaign events list`).")
    return event


def _read_thread(path: Path) -> list[str]:
    try:
        return thread_parts(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignError(f"--thread: {path} does not exist.") from None
    except UnicodeDecodeError:
        raise CampaignError(f"--thread: {path} is not UTF-8 text.") from None


ImageOption = typer.Option(
    [], "--image", help="Image to attach (JPEG, PNG, WEBP, GIF); repeat for up to 4."
)
AltOption = typer.Option(
    [], "--alt", help="Description of each --image, in the same order (at most 1,000 characters)."
)
AtOption = typer.Option(
    None, "--at", help="Publication time, e.g. '2026-11-05 09:30' (configured zone)."
)
SplitOption = typer.Option(False, "--split", help="Cut a text too long for one post into a thread.")


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
    image: list[Path] = ImageOption,
    alt: list[str] = AltOption,
    at: str | None = AtOption,
    split: bool = SplitOption,
    draft: bool = typer.Option(False, "--draft", help="Keep it a draft even with --at."),
    json_output: bool = JsonOption,
) -> None:
    """Write a post (a draft, or scheduled with --at). Its length is checked the way its
    account's network counts; with several --account, one post per account, all checked first."""
    settings = common.settings()
    sources = [text, template, thread]
    if sum(source is not None for source in sources) != 1:
        raise CampaignError(
            "Give the post's text with exactly one of --text, --template, --thread."
        )
    if event is not None and template is None:
        raise CampaignError("--event fills a template: give --template too (e.g. evenement).")
    scheduled_at = parse_moment(at, "--at", settings)
    with common.session() as session:
        parts = None
        featured = _find_event(session, event) if event is not None else None
        if template is not None:
            context: dict[str, Any] = {}
            if featured is not None:
                context = event_context(featured, scheduled_at or utcnow(), settings.zone)
            context.update(_pairs(values, "--set"))
            try:
                text = render_post(template, context, settings)
            except MissingValue as exc:
                raise CampaignError(
                    f"{exc} Pass it with --set NAME=VALUE (or --event ID for an event's fields)."
                ) from None
        elif thread is not None:
            parts = _read_thread(thread)
        posts = create_posts(
            session,
            settings,
            accounts=accounts,
            text=text,
            parts=parts,
            scheduled_at=scheduled_at,
            split=split,
            images=_images(image, alt),
            event_ids=[featured.id] if featured is not None and featured.id else [],
            draft=True if draft else None,
            # Remembered so that a move writes it again for its new day (not with --set: the
            # values given by hand could not be given again).
            template=template if featured is not None and not values else "",
        )
        rows = [_row(post, settings) for post in posts]
    if json_output:
        common.print_json(rows[0] if len(rows) == 1 else rows)
        return
    for post in posts:
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
    post_id: int = typer.Argument(..., help="Post number (see `campaign post list`)."),
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
    post_id: int = typer.Argument(..., help="Post number (see `campaign post list`)."),
    text: str | None = typer.Option(None, "--text", "-t", help="New text."),
    thread: Path | None = typer.Option(None, "--thread", help="New thread, from a file."),
    at: str | None = AtOption,
    unschedule: bool = typer.Option(
        False, "--no-time", help="Remove the publication time (the post becomes a draft)."
    ),
    split: bool = SplitOption,
    image: list[Path] = ImageOption,
    alt: list[str] = AltOption,
    no_images: bool = typer.Option(False, "--no-images", help="Remove the images."),
    json_output: bool = JsonOption,
) -> None:
    """Change a post not yet published: only what is given changes; its status is kept."""
    settings = common.settings()
    if text is not None and thread is not None:
        raise CampaignError("Give either --text or --thread, not both.")
    changes: dict[str, Any] = {"text": text, "split": split}
    if thread is not None:
        changes["parts"] = _read_thread(thread)
    if at is not None and unschedule:
        raise CampaignError("Give either --at or --no-time, not both.")
    if at is not None:
        changes["scheduled_at"] = parse_moment(at, "--at", settings)
    elif unschedule:
        changes["scheduled_at"] = None
    if image or alt:
        changes["images"] = _images(image, alt)
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
    post_id: int = typer.Argument(..., help="Post number (see `campaign post list`)."),
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
    post_ids: list[int] = typer.Argument(None, help="Post numbers (see `campaign post list`)."),
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


def _wait_until(moment: datetime, reason: str, settings: Settings) -> None:
    """Wait in the foreground, saying so (only the command line waits; the library never)."""
    seconds = max(0, round((moment - utcnow()).total_seconds()))
    until = common.local(moment, settings, "%H:%M:%S")
    err_console.print(f"{reason}: waiting until {until} ({seconds} s), then trying again.")
    with err_console.status(f"Waiting until {until}…"):
        while (left := (moment - utcnow()).total_seconds()) > 0:
            clock.sleep(min(left, 1.0))


@post_app.command("publish")
def publish(
    post_id: int = typer.Argument(..., help="Post number (see `campaign post list`)."),
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
        for _attempt in range(3):
            try:
                post = publish_post(session, post_id, settings)
                break
            except (TransportError, RetryLater) as exc:
                retry_at = exc.retry_at
                permanent = isinstance(exc, TransportError) and exc.permanent
                reason = "X asked to wait (rate limit)"
                if retry_at is None and not permanent:  # a server error: the service tries again
                    retry_at = get_post(session, post_id).not_before
                    reason = "The network failed"
                wait = (retry_at - utcnow()).total_seconds() if retry_at else None
                if permanent or wait is None or wait > max_wait:
                    later = ""
                    if retry_at and not permanent:
                        later = (
                            f" It stays scheduled; run this again after "
                            f"{common.local(retry_at, settings, '%d/%m/%Y %H:%M:%S')} (or let "
                            "the scheduler do it)."
                        )
                    raise CampaignError(f"Post {post_id} not published: {exc}{later}") from None
                assert retry_at is not None
                _wait_until(retry_at, reason, settings)
        else:
            raise CampaignError(f"Post {post_id} not published: the network kept asking to wait.")
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
        rows = [
            {
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
            for planned in plan.planned
        ]
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
        "Review them (`campaign post show ID`, `campaign post edit ID`, `campaign post cancel "
        f"ID`), then `campaign post schedule --all-drafts{only}`."
    )


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
