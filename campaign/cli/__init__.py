"""The ``campaign`` command: thin Typer commands over the library, one module per area.

Each command parses its arguments, calls one library function and prints the result. Errors a
user can cause are :class:`CampaignError` and are printed as one clear message, never a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError, StatementError

from campaign import __version__
from campaign.cli import common
from campaign.cli.bounces import app as bounces_app
from campaign.cli.common import console, err_console, styled
from campaign.cli.demo import demo
from campaign.cli.events import app as events_app
from campaign.cli.lists import app as lists_app
from campaign.cli.newsletters import app as newsletters_app
from campaign.cli.report import app as report_app
from campaign.cli.schedule import app as schedule_app
from campaign.cli.serve import serve
from campaign.cli.social import post_app, social_app
from campaign.cli.subscribers import app as subscribers_app
from campaign.cli.users import app as users_app
from campaign.config import (
    CONFIG_ENV,
    DEFAULT_CONFIG_FILE,
    SECRET_KEY_ENV,
    example_toml,
    load_settings,
    mask_url,
    masked,
    secret_key,
)
from campaign.db import database_error, describe, driver_message
from campaign.errors import CampaignError
from campaign.sender import SenderRefused

app = typer.Typer(
    name="campaign",
    help="Newsletters and timed X posts for the Mois de l'ESS and the Prix ESS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Show the settings in force, or the documented example file.")
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(lists_app, name="lists")
app.add_typer(events_app, name="events")
app.add_typer(newsletters_app, name="newsletter")
app.add_typer(bounces_app, name="bounces")
app.add_typer(post_app, name="post")
app.add_typer(social_app, name="social")
app.add_typer(report_app, name="report")
app.add_typer(config_app, name="config")
app.add_typer(schedule_app, name="schedule")
app.command()(serve)
app.command()(demo)
app.add_typer(users_app, name="users")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"campaign {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help=f"Settings file (default: ${CONFIG_ENV}, else ./{DEFAULT_CONFIG_FILE} if present).",
        show_default=False,
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and stop."
    ),
) -> None:
    common.reset()
    common.state.config_path = config


@app.command()
def init() -> None:
    """Create config.toml (from the example) and the database, ready to use.

    Safe to run again: it never overwrites an existing config.toml or database.
    """
    target = common.state.config_path or Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_FILE)
    if target.exists():
        console.print(f"Settings: {target} (kept as it is)")
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(example_toml(), encoding="utf-8")
        console.print(f"Settings: created {target} — edit it to configure mail and accounts.")
    common.state.config_path = target
    settings = common.settings()
    _, created = secret_key(settings, create=True)
    if created:
        err_console.print(
            styled(
                ("Warning:", "yellow"),
                f" {SECRET_KEY_ENV} is not set; a signing key was generated into "
                f"{settings.general.secret_key_file}. Keep that file private, or set "
                f"{SECRET_KEY_ENV} in production.",
            )
        )
    common.engine()
    console.print(f"Database: {describe(settings.database.url)} (up to date)")


@config_app.command("example")
def config_example() -> None:
    """Print config.toml's documented example: every setting with its default."""
    typer.echo(example_toml(), nl=False)


@config_app.command("show")
def config_show(json_output: bool = common.JsonOption) -> None:
    """Print the settings in force (secrets are never shown: only which variable holds them)."""
    settings = load_settings(common.state.config_path)
    data = masked(settings.model_dump(mode="json"))  # a URL's password is a secret too
    if json_output:
        common.print_json({"source": settings.source, "settings": data})
        return
    console.print(f"Read from: {settings.source or 'built-in defaults'}")
    console.print_json(data=data)


def _error(message: object) -> None:
    # Not wrapped by rich: the terminal wraps it, so a path or URL in it stays whole to copy.
    err_console.print(
        styled(("Error:", "bold red"), f" {message}"), highlight=False, soft_wrap=True
    )


def _detail(exc: BaseException) -> str:
    """What an unexpected error says, safe to print: a statement error's text embeds the SQL
    and its parameters (subscribers' personal data), so only the driver's first line is kept."""
    if isinstance(exc, StatementError):
        return driver_message(exc)
    lines = str(exc).strip().splitlines()
    return mask_url(lines[0]) if lines else ""


def sender_fix(exc: SenderRefused) -> str:
    """Where the command line's user changes what the sender check refused."""
    if exc.values.get("newsletter"):
        return "(campaign newsletter edit NUMBER --from-address ADDRESS)"
    return (
        f"([mail] {exc.field} in the config file, unless an admin set it in the dashboard's "
        "Réglages, which then applies)"
    )


def main() -> None:
    """Entry point: run the app and turn user errors into one clear message."""
    try:
        app()
    except SenderRefused as exc:
        _error(CampaignError(f"{exc} {sender_fix(exc)}"))
        sys.exit(1)
    except CampaignError as exc:
        _error(exc)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, details only on request
        url = common.database_url()
        known = url and isinstance(exc, SQLAlchemyError) and database_error(exc, url)
        if known:  # locked, unreachable, damaged, full: the user can act on it
            _error(known)
            sys.exit(1)
        if os.environ.get("CAMPAIGN_DEBUG"):
            raise
        err_console.print(
            styled(
                ("Unexpected error:", "bold red"),
                f" {type(exc).__name__}: {_detail(exc)}\n"
                "This is a bug in campaign. Run again with CAMPAIGN_DEBUG=1 for the details "
                "and report them.",
            ),
            highlight=False,
        )
        sys.exit(2)
    finally:
        common.reset()
