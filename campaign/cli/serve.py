"""``campaign serve``: the web app and the scheduler service in one long-running process."""

from __future__ import annotations

import logging
from collections.abc import Callable

import typer
from sqlalchemy import Engine

from campaign.cli import common
from campaign.cli.common import err_console
from campaign.config import Settings, mask_url
from campaign.errors import CampaignError


def web_runner(settings: Settings, engine: Engine, host: str, port: int) -> Callable[[], None]:
    """A function serving the web app until SIGTERM/SIGINT.

    uvicorn handles the signals itself and returns once every recorded hit is written; the
    scheduler is then stopped by :func:`campaign.scheduling.service.run_service`.
    """
    from campaign.web.server import serve as serve_web

    def run() -> None:
        err_console.print(
            f"Serving on http://{host}:{port} — links in emails start with "
            f"{mask_url(settings.web.public_url)}",
            highlight=False,
            soft_wrap=True,  # a log line: the URL stays whole
        )
        serve_web(settings, host=host, port=port, engine=engine)

    return run


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Its "run time was missed" and "running job" lines: ours say the same with the row's name.
    logging.getLogger("apscheduler.executors").setLevel(logging.ERROR)


def serve(
    host: str | None = typer.Option(
        None, "--host", help="Address to listen on (default: \\[web] host)."
    ),
    port: int | None = typer.Option(
        None, "--port", help="Port to listen on (default: \\[web] port)."
    ),
    no_web: bool = typer.Option(False, "--no-web", help="Run the scheduler service only."),
    no_scheduler: bool = typer.Option(
        False, "--no-scheduler", help="Run the web app only (no scheduler, no send worker)."
    ),
) -> None:
    """Run the web app and the scheduler service until stopped (SIGTERM or Ctrl-C).

    The web app serves the open pixel, tracked clicks, unsubscribe, view and subscribe pages;
    the scheduler sends newsletters and publishes posts at their time; bounces that `campaign
    bounces ingest` hands over are taken on \\[bounces] socket. With several machines on
    PostgreSQL, run it on each: one leads the scheduler, every one helps send. A stop writes
    every recorded open and click and leaves any send in progress resumable.
    """
    from campaign.cli.bounce_service import BounceListener
    from campaign.scheduling.service import catch_stop_signals, run_service

    if no_web and no_scheduler:
        raise CampaignError("--no-web and --no-scheduler together leave nothing to run.")
    settings = common.settings()
    engine = common.engine()
    web = None
    if not no_web:
        web = web_runner(settings, engine, host or settings.web.host, port or settings.web.port)
    _logging()
    # Before anything answers: a stop asked during start-up stops it gracefully once started
    # (uvicorn, when it runs, takes the signals over).
    asked = catch_stop_signals()
    bounces = BounceListener(settings, engine)  # the mail server's pipe hands bounces here
    bounces.start()
    try:
        run_service(settings, engine=engine, web=web, scheduler=not no_scheduler, asked=asked)
    finally:
        bounces.stop()
