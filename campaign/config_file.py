"""Finding and reading the settings file, without validating it: light enough for the bounce
pipe's hand-off (:mod:`campaign.cli.handoff`), which needs one setting and must start in a few
hundredths of a second. :mod:`campaign.config` validates what this reads."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from campaign.errors import CampaignError

ENV_PREFIX = "CAMPAIGN_"
CONFIG_ENV = "CAMPAIGN_CONFIG"
DEFAULT_CONFIG_FILE = "config.toml"
DEFAULT_BOUNCES_SOCKET = "bounces.sock"  # next to campaign.db, outbox/, media/ by default


class ConfigError(CampaignError):
    """A setting that cannot be used: names the key, the file and what to do."""


def find_config_file(explicit: str | Path | None = None) -> Path | None:
    """Which file to read: ``--config``, else ``CAMPAIGN_CONFIG``, else ``./config.toml``."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"Configuration file {path} does not exist.")
        return path
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV} names {path}, which does not exist.")
        return path
    local = Path(DEFAULT_CONFIG_FILE)
    return local if local.is_file() else None


def read_config_file(config_file: Path) -> dict[str, Any]:
    """The file's tables as they are written (ConfigError when it is not UTF-8 TOML)."""
    where = str(config_file)
    try:
        return tomllib.loads(config_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc}).") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 text ({exc}).") from exc


def raw_setting(
    dotted: str,
    default: str,
    explicit: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """One text setting as :func:`campaign.config.load_settings` would find it (environment
    over file over default), unvalidated. Raises ConfigError or OSError when the file cannot
    be read; the full settings then say what is wrong."""
    environ = os.environ if environ is None else environ
    from_env = environ.get(ENV_PREFIX + dotted.replace(".", "_").upper())
    if from_env is not None:
        return from_env
    config_file = find_config_file(explicit)
    node: Any = read_config_file(config_file) if config_file is not None else {}
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, str) else default
