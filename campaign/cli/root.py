"""The root of the ``campaign`` command (Typer): its groups, ``init``, ``config`` and the
error handling of :func:`run`, which :func:`campaign.cli.main` calls."""

from __future__ import annotations

import os
import sys
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

import typer
import typer.main
from typer.core import TyperGroup
from typer.models import CommandInfo

from campaign import __version__
from campaign.cli import HIDDEN_ALIASES, LAZY_COMMANDS, common
from campaign.cli.common import console, err_console, styled
from campaign.config_file import CONFIG_ENV, DEFAULT_CONFIG_FILE
from campaign.errors import CampaignError, TemporaryError

if TYPE_CHECKING:
    from campaign.sender import SenderRefused


class LazyGroup(TyperGroup):
    """The root command: its groups are loaded from :data:`LAZY_COMMANDS` on first use."""

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        known = {*LAZY_COMMANDS, *HIDDEN_ALIASES}
        return [*LAZY_COMMANDS, *(name for name in self.commands if name not in known)]

    def get_command(self, ctx: typer.Context, cmd_name: str):  # type: ignore[no-untyped-def,override]
        lazy = cmd_name in LAZY_COMMANDS or cmd_name in HIDDEN_ALIASES
        if lazy and cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name)
        return super().get_command(ctx, cmd_name)


def load_command(name: str):  # type: ignore[no-untyped-def]
    """The click command for ``name``, importing its module now; an old name of a group
    (:data:`HIDDEN_ALIASES`) is that group, hidden from --help."""
    command = _load(HIDDEN_ALIASES.get(name, name))
    command.name = name
    command.hidden = name in HIDDEN_ALIASES
    return command


def _load(name: str):  # type: ignore[no-untyped-def]
    module, _, attribute = LAZY_COMMANDS[name].partition(":")
    target = getattr(import_module(module), attribute)
    if not isinstance(target, typer.Typer):  # a function: its command (typed as click's)
        command = typer.main.get_command_from_info(
            CommandInfo(name=name, callback=target),
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
        )
    else:
        command = typer.main.get_group(target)  # a group even when it holds one command
    return command


app = typer.Typer(
    name="campaign",
    help="Newsletters and timed X posts for the Mois de l'ESS and the Prix ESS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
)
config_app = typer.Typer(help="Show the settings in force, or the documented example file.")
app.add_typer(config_app, name="config")


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
    from campaign.config import SECRET_KEY_ENV, example_toml, secret_key

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
    from campaign.db import describe

    console.print(f"Database: {describe(settings.database.url)} (up to date)")


@config_app.command("example")
def config_example() -> None:
    """Print config.toml's documented example: every setting with its default."""
    from campaign.config import example_toml

    typer.echo(example_toml(), nl=False)


@config_app.command("show")
def config_show(json_output: bool = common.JsonOption) -> None:
    """Print the settings in force (secrets are never shown: only which variable holds them)."""
    from campaign.config import load_settings, masked

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
    from sqlalchemy.exc import StatementError

    from campaign.config import mask_url
    from campaign.db import driver_message

    if isinstance(exc, StatementError):
        return driver_message(exc)
    lines = str(exc).strip().splitlines()
    return mask_url(lines[0]) if lines else ""


def sender_fix(exc: SenderRefused) -> str:
    """Where the command line's user changes what the sender check refused."""
    if exc.values.get("newsletter"):
        return "(campaign newsletters edit NUMBER --from-address ADDRESS)"
    return (
        f"([mail] {exc.field} in the config file, unless an admin set it in the dashboard's "
        "Réglages, which then applies)"
    )


def run() -> None:
    """Run the app and turn user errors into one clear message."""
    try:
        app()
    except CampaignError as exc:
        sender = sys.modules.get("campaign.sender")  # loaded by then if it refused the sender
        if sender is not None and isinstance(exc, sender.SenderRefused):
            _error(CampaignError(f"{exc} {sender_fix(exc)}"))
            sys.exit(1)
        _error(exc)
        sys.exit(75 if isinstance(exc, TemporaryError) else 1)  # 75: EX_TEMPFAIL
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, details only on request
        from sqlalchemy.exc import SQLAlchemyError

        from campaign.db import database_error

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
