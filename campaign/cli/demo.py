"""``campaign demo``: the product on its embedded defaults, from the shipped samples."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from campaign.cli import common
from campaign.cli.common import console, err_console, styled
from campaign.cli.events import list_ as list_events
from campaign.cli.import_summary import print_import_summary
from campaign.cli.lists import print_lists
from campaign.config import Settings, mask_url


def demo(
    samples: Path | None = typer.Option(
        None,
        "--samples",
        help="Folder of sample files (default: ./samples, else the shipped ones).",
    ),
    play: bool = typer.Option(
        True,
        "--play/--no-play",
        help="Play the sample campaign calendar from now: send to the outbox, post in dry run.",
    ),
    gap: float = typer.Option(
        2.0, "--gap", min=0.1, help="Seconds between two entries of the replayed calendar."
    ),
) -> None:
    """Try the product on its built-in defaults: set up, import the samples, play a campaign.

    Imports the sample subscribers and events, previews a newsletter, then replays the sample
    calendar of the Mois de l'ESS from now (one entry every two seconds, newsletters to one
    region's subscribers): the service sends the newsletters to the outbox and publishes the
    posts in dry run, then stops. Safe to run again: nothing is imported or sent twice.
    """
    from campaign.cli import init
    from campaign.demo import DEMO_LIST, find_samples, run_demo

    folder = find_samples(samples)
    init()
    settings = common.settings()
    result = run_demo(common.engine(), settings, folder, common.actor())
    for summary, noun in zip(
        result.summaries, ("subscribers", "subscribers", "events"), strict=True
    ):
        print_import_summary(summary, noun, max_shown=5)
    console.rule("Lists")
    print_lists()
    console.rule("The first events of the Mois")
    list_events(
        date_from=None,
        date_to=None,
        region=[],
        theme=[],
        event_type=[],
        limit=8,
        json_output=False,
    )
    console.rule("A newsletter")
    console.print(
        styled(
            f"Newsletter {result.newsletter_id} (draft) features each reader's regional events of "
            f"the first week. What {result.preview_for} would receive: ",
            (str(result.preview_file.resolve()), "bold"),
            " (open it in a browser).",
        )
    )
    if play:
        _play_demo_calendar(settings, gap)
    console.print(
        styled(
            "\nNext: ",
            (f"campaign subscribers list --list {DEMO_LIST!r}", "bold"),
            ", ",
            (f"campaign newsletters preview {result.newsletter_id} --text", "bold"),
            ", ",
            ("campaign schedule list", "bold"),
            ", ",
            ("campaign report newsletters", "bold"),
            ", ",
            ("campaign users add you@example.org --role admin", "bold"),
            " then ",
            ("campaign serve", "bold"),
            f" and open {mask_url(settings.web.public_url)}/admin, ",
            ("campaign --help", "bold"),
            ".",
        )
    )


def _play_demo_calendar(settings: Settings, gap: float) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from campaign.demo import DEMO_REGION, play_calendar

    console.rule("The campaign calendar, played from now")
    console.print(
        "The sample calendar (schedules/mois-ess-2026.toml) replayed from now, one entry every "
        f"{gap:g} seconds, its newsletters addressed to the subscribers of {DEMO_REGION} only. "
        "The service (scheduler, send worker, web app) sends and posts them; Ctrl-C stops it, "
        "and the next run carries on.",
        highlight=False,
    )
    with Progress(
        TextColumn("Playing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def show(state: Any) -> None:
            messages = sum(state.sent.values())
            bar.update(
                task,
                total=state.total or None,
                completed=state.done,
                description=f"{messages} messages in the outbox",
            )

        state = play_calendar(common.engine(), settings, gap=timedelta(seconds=gap), progress=show)
    if not state.replayed:
        console.print("Already played by an earlier demo; this is what went out then.")
    table = Table("When (local)", "What", "Status", title="What went out")
    zone = settings.zone
    # (when, what, newsletter or post, is a newsletter): everything played has its time
    rows: list[tuple[Any, str, Any, bool]] = [
        (n.scheduled_at, f"Newsletter {n.id}: {n.title}", n, True) for n in state.newsletters
    ]
    rows += [
        (p.scheduled_at, f"Post {p.id} on {p.account}: {p.text}", p, False) for p in state.posts
    ]
    for at, what, row, is_newsletter in sorted(rows, key=lambda item: item[0]):
        if is_newsletter:
            status = f"{row.status}, {state.sent.get(row.id, 0)} messages"
        else:
            status = f"{row.status}{' (dry run)' if row.dry_run else ''}"
        when = at.astimezone(zone).strftime("%d/%m %H:%M:%S") if at else ""
        table.add_row(when, what[:90], status)
    console.print(table)
    if state.done < state.total:
        err_console.print(
            styled(
                ("Warning:", "yellow"),
                f" {state.total - state.done} entries had not gone out when the demo stopped; "
                "`campaign serve` finishes them.",
            )
        )
    outbox = Path(settings.mail.outbox_dir).resolve()
    console.print(
        f"Messages: {outbox} (a maildir: open it with any mail client, e.g. "
        f"`mutt -f {outbox}`). Posts were published in dry run: nothing left this machine "
        "(set an account's credentials to post on X, see docs/admin/networks.md). "
        + (
            f"The web app answered on {state.web_url} while playing (open pixel, clicks, "
            "unsubscribe, view in browser, /admin)."
            if state.web_url
            else f"The web app could not listen on port {settings.web.port} (in use?)."
        ),
        highlight=False,
    )
