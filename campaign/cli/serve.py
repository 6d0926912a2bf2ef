"""``campaign serve``: the web app and the scheduler service in one long-running process."""

from __future__ import annotations

import logging
from collections.abc import Callable

import typer

from campaign.cli import common
from campaign.cli.common import err_console
from campaign.config import Settings
from campaign.errors import CampaignError


def web_runner(settings: Settings, host: str, port: int) -> Callable[[], None] | None:
    """A function serving the web app until SIGTERM/SIGINT, or None when this version has none.

    uvicorn installs its own signal handlers and returns once it has stopped; the scheduler is
    then stopped by :func:`campaign.scheduling.service.run_service`.
    """
    try:
        import uvicorn

        from campaign.web.app import create_app  # type: ignore[import-not-found]
    except ImportError:
        return None

    def run() -> None:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")

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
    host: str | None = typer.Option(None, "--host", help="Address to listen on ([web] host)."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on ([web] port)."),
    no_web: bool = typer.Option(False, "--no-web", help="Run the scheduler service only."),
    no_scheduler: bool = typer.Option(
        False, "--no-scheduler", help="Run the web app only (no scheduler, no send worker)."
    ),
) -> None:
    """Run the web app and the scheduler service until stopped (SIGTERM or Ctrl-C).

    Newsletters and posts go out at their time. With several machines on PostgreSQL, run it on
    each: one leads the scheduler, every one helps send.
    """
    from campaign.scheduling.service import run_service

    if no_web and no_scheduler:
        raise CampaignError("--no-web and --no-scheduler together leave nothing to run.")
    settings = common.settings()
    engine = common.engine()
    web = None
    if not no_web:
        web = web_runner(settings, host or settings.web.host, port or settings.web.port)
        if web is None:
            if no_scheduler:
                raise CampaignError("This version has no web app; run without --no-scheduler.")
            err_console.print("No web app in this version: running the scheduler service only.")
    _logging()
    run_service(settings, engine=engine, web=web, scheduler=not no_scheduler)
