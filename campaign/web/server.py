"""Running the web service under uvicorn, with companions in the same process.

``campaign serve`` calls :func:`serve`. Companions (the scheduler of a later stage) are handed
to the app's lifespan, so they start once the app is ready and stop, like the hit writer, when
uvicorn shuts down gracefully on SIGTERM or Ctrl-C, before the process exits.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

import uvicorn
from sqlalchemy import Engine

from campaign.errors import CampaignError
from campaign.web.app import Companion, create_app


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    # uvicorn handles SIGTERM itself while serving (graceful shutdown, hits flushed), then
    # raises it again once done: end with status 0 then rather than "killed by a signal".
    raise SystemExit(0)


def uvicorn_config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's settings for the service.

    ``proxy_headers`` is off: the client's address is read by the app itself, trusting
    ``X-Forwarded-For`` only as far as ``[web] trusted_proxy_depth`` says. No access log: every
    pixel would write a line, and the lines would carry people's tokens and addresses.
    """
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_level=options.pop("log_level", "info"),
        timeout_graceful_shutdown=options.pop("timeout_graceful_shutdown", 30),
        **options,
    )


def serve(
    settings: Any,
    *,
    host: str,
    port: int,
    engine: Engine | None = None,
    companions: Sequence[Companion] = (),
) -> None:
    """Serve until SIGTERM or Ctrl-C; every recorded hit is written before returning.

    Raises :class:`CampaignError` (exit status 1) when hits could not be written before
    stopping (the database kept refusing them for ``[tracking] stop_timeout`` seconds): a
    supervisor must see that opens and clicks were lost, not a clean stop.
    """
    app = create_app(settings, engine=engine, companions=companions)
    server = uvicorn.Server(uvicorn_config(app, host, port))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    # Everything loaded so far (SQLAlchemy, templates, settings) lives as long as the process:
    # keep it out of the garbage collector's full passes, which would walk it again and again.
    gc.collect()
    gc.freeze()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_quietly) if in_main else None
    try:
        server.run()  # a SIGTERM ends it with _exit_quietly's SystemExit(0)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        _check_hits_written(app)
    if not server.started:
        raise SystemExit(1)


def _check_hits_written(app: Any) -> None:
    recorder = app.state.web.recorder
    if recorder.waiting:
        raise CampaignError(
            f"{recorder.waiting} recorded opens and clicks could not be written to the database "
            f"before stopping ({recorder.last_error or 'no reason given'}); they are lost. "
            "Free the database (disk space, locks) before starting again."
        )
