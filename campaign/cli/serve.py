"""``campaign serve``: the web service (tracking, unsubscribe, subscribe form) in the foreground."""

from __future__ import annotations

import typer

from campaign.cli import common
from campaign.cli.common import err_console


def serve(
    host: str | None = typer.Option(
        None, "--host", help="Address to listen on (default: \\[web] host)."
    ),
    port: int | None = typer.Option(
        None, "--port", help="Port to listen on (default: \\[web] port)."
    ),
) -> None:
    """Run the web service: open pixel, tracked clicks, unsubscribe, view, subscribe form.

    Stops cleanly on SIGTERM or Ctrl-C, after writing every recorded open and click.
    """
    from campaign.web.server import serve as run

    settings = common.settings()
    host = host or settings.web.host
    port = port or settings.web.port
    err_console.print(
        f"Serving on http://{host}:{port} — links in emails start with {settings.web.public_url}",
        highlight=False,
    )
    run(settings, host=host, port=port, engine=common.engine())
