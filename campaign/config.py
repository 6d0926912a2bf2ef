"""Settings: built-in defaults, then a TOML file, then ``CAMPAIGN_*`` environment variables.

Every setting is declared once, with its default and a help text, in the sections of
:mod:`campaign.settings` assembled here; ``config.example.toml`` is generated from these
declarations (``campaign config example``) and a test keeps the two in
step, so a setting cannot exist without being documented.

Secrets never live in the TOML file: the file names the environment variable that holds each
one (``password_env = "CAMPAIGN_SMTP_PASSWORD"``), and the value is read from the environment
only when it is needed.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError

from campaign.config_file import CONFIG_ENV as CONFIG_ENV
from campaign.config_file import DEFAULT_CONFIG_FILE as DEFAULT_CONFIG_FILE
from campaign.config_file import ENV_PREFIX as ENV_PREFIX
from campaign.config_file import ConfigError as ConfigError
from campaign.config_file import find_config_file as find_config_file
from campaign.config_file import read_config_file
from campaign.settings.base import SECRET_KEY_ENV as SECRET_KEY_ENV
from campaign.settings.base import Section
from campaign.settings.general import DatabaseSettings as DatabaseSettings
from campaign.settings.general import EventsSettings as EventsSettings
from campaign.settings.general import GeneralSettings as GeneralSettings
from campaign.settings.general import SchedulerSettings as SchedulerSettings
from campaign.settings.mail import DkimSettings as DkimSettings
from campaign.settings.mail import MailSettings as MailSettings
from campaign.settings.mail import SmtpSettings as SmtpSettings
from campaign.settings.social import NETWORK_KEYS as NETWORK_KEYS
from campaign.settings.social import LinkedInSettings as LinkedInSettings
from campaign.settings.social import Network as Network
from campaign.settings.social import NetworkSettings as NetworkSettings
from campaign.settings.social import SocialAccount as SocialAccount
from campaign.settings.social import SocialSettings as SocialSettings
from campaign.settings.social import XPrices as XPrices
from campaign.settings.social import XSettings as XSettings
from campaign.settings.web import BouncesSettings as BouncesSettings
from campaign.settings.web import DashboardSettings as DashboardSettings
from campaign.settings.web import SubscribeSettings as SubscribeSettings
from campaign.settings.web import TrackingSettings as TrackingSettings
from campaign.settings.web import WebSettings as WebSettings

# The password of a URL (scheme://user:PASSWORD@host): everything up to the last @ of the URL,
# so a password with an unescaped @ or / is hidden whole (at worst more than the password is).
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/\s]*):[^\s]*@")
# Credentials some drivers also read from the query string (postgresql://host/db?password=…).
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&](?:password|passwd|pwd|secret|token|access_token|api_key|key)=)[^&#\s]*",
    re.IGNORECASE,
)

# Keys people are tempted to write in the file; each gets a pointed message.
_SECRET_KEYS = {
    "password": "password_env",
    "secret_key": f"the {SECRET_KEY_ENV} environment variable",
    "consumer_key": "consumer_key_env",
    "consumer_secret": "consumer_secret_env",
    "access_token": "access_token_env",
    "access_token_secret": "access_token_secret_env",
    "app_password": "app_password_env",
}


class Settings(Section):
    """All settings. ``source`` is the file they were read from, if any."""

    general: GeneralSettings = Field(default_factory=GeneralSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    subscribe: SubscribeSettings = Field(default_factory=SubscribeSettings)
    social: SocialSettings = Field(default_factory=SocialSettings)
    events: EventsSettings = Field(default_factory=EventsSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    bounces: BouncesSettings = Field(default_factory=BouncesSettings)
    source: str | None = Field(None, exclude=True)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.general.timezone)

    def secret(self, env_name: str) -> str | None:
        """The secret held by environment variable ``env_name`` (None when unset or empty)."""
        return os.environ.get(env_name) or None


def mask_url(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``: safe to show or log.

    Settings such as ``[database] url`` may hold a password (postgresql+psycopg://user:pw@host);
    whatever prints or logs a setting or a message naming a URL goes through this first.
    """
    text = _URL_PASSWORD.sub(r"\g<head>:***@", text)
    return _QUERY_SECRET.sub(r"\g<head>***", text)


def masked(data: Any) -> Any:
    """``data`` (settings as JSON-ready dicts and lists) with every URL's password masked."""
    if isinstance(data, str):
        return mask_url(data)
    if isinstance(data, Mapping):
        return {key: masked(value) for key, value in data.items()}
    if isinstance(data, list):
        return [masked(item) for item in data]
    return data


# --- loading -----------------------------------------------------------------------------------


def load_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read settings in precedence order: defaults < file < environment."""
    environ = os.environ if environ is None else environ
    config_file = find_config_file(path)
    data: dict[str, Any] = {}
    where = "built-in defaults"
    if config_file is not None:
        where = str(config_file)
        data = read_config_file(config_file)
        _refuse_secrets(data, where)
    for dotted, value in _environment_overrides(environ).items():
        _set_dotted(data, dotted, value)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, where, environ)) from None
    settings.source = str(config_file) if config_file else None
    return settings


def _refuse_secrets(data: Mapping[str, Any], where: str, prefix: str = "") -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _refuse_secrets(value, where, f"{dotted}.")
        elif key in _SECRET_KEYS:
            raise ConfigError(
                f"{where}: '{dotted}' holds a secret. Secrets are read only from the environment: "
                f"remove it and use {_SECRET_KEYS[key]} instead."
            )


def _scalar_paths(model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    """Every overridable setting: dotted path -> annotation (nested sections recursed)."""
    paths: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths.update(_scalar_paths(annotation, f"{prefix}{name}."))
        elif get_origin(annotation) is dict:
            continue  # named sections such as social.accounts.NAME come from the file only
        else:
            paths[f"{prefix}{name}"] = annotation
    return paths


def env_name(dotted: str) -> str:
    """``mail.smtp.host`` -> ``CAMPAIGN_MAIL_SMTP_HOST``."""
    return ENV_PREFIX + dotted.replace(".", "_").upper()


def _environment_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for dotted, annotation in _scalar_paths(Settings).items():
        raw = environ.get(env_name(dotted))
        if raw is None:
            continue
        if get_origin(annotation) is list:
            overrides[dotted] = [item.strip() for item in raw.split(",") if item.strip()]
        else:
            overrides[dotted] = raw
    return overrides


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _explain(exc: ValidationError, where: str, environ: Mapping[str, str]) -> str:
    lines = []
    known = _scalar_paths(Settings)
    for error in exc.errors():
        dotted = ".".join(str(part) for part in error["loc"])
        origin = where
        if dotted in known and env_name(dotted) in environ:
            origin = f"environment variable {env_name(dotted)}"
        if error["type"] == "extra_forbidden":
            lines.append(f"{origin}: unknown setting '{dotted}' (see config.example.toml).")
        else:
            got = error.get("input")
            lines.append(f"{origin}: '{dotted}' {error['msg'].lower()} (got {got!r}).")
    return "Invalid configuration:\n  " + "\n  ".join(lines)


# --- the signing key ---------------------------------------------------------------------------


def secret_key(settings: Settings, *, create: bool = False) -> tuple[str, bool]:
    """The signing key and whether it was generated just now.

    ``CAMPAIGN_SECRET_KEY`` wins; otherwise the key file named by ``general.secret_key_file``;
    otherwise, with ``create``, a new random key written to that file (mode 0600).
    """
    from_env = os.environ.get(SECRET_KEY_ENV)
    if from_env:
        if len(from_env) < 32:
            raise ConfigError(f"{SECRET_KEY_ENV} is too short: use at least 32 random characters.")
        return from_env, False
    path = Path(settings.general.secret_key_file)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip(), False
    if not create:
        raise ConfigError(
            f"No signing key: set {SECRET_KEY_ENV} or run `campaign init` to generate {path}."
        )
    key = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key, True


# --- the documented example --------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _choices(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return " One of: " + ", ".join(str(arg) for arg in get_args(annotation)) + "."
    return ""


def _section_lines(model: BaseModel, header: str) -> list[str]:
    lines = [f"[{header}]"]
    nested: list[tuple[str, BaseModel]] = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            nested.append((f"{header}.{name}", value))
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                nested.append((f"{header}.{name}.{key}", item))
            continue
        if not getattr(model, "shown", lambda _name: True)(name):
            continue  # a key of another network (social accounts)
        lines.append(f"# {field.description}{_choices(field.annotation)}")
        dotted = f"{header}.{name}"
        if dotted in _scalar_paths(Settings):
            lines.append(f"# Environment: {env_name(dotted)}")
        lines.append(f"{name} = {_toml_value(value)}")
    lines = [*lines, ""] if len(lines) > 1 else []  # a section of sections needs no header
    for sub_header, sub_model in nested:
        lines.extend(_section_lines(sub_model, sub_header))
    return lines


def example_toml() -> str:
    """The text of ``config.example.toml``: every setting, commented, with its default."""
    defaults = Settings()
    lines = [
        "# campaign settings. Copy to config.toml (or run `campaign init`) and edit.",
        "# Precedence: built-in defaults < this file < CAMPAIGN_* environment variables.",
        "# Secrets never go in this file: each *_env key names the environment variable",
        f"# that holds one. The signing key is read from {SECRET_KEY_ENV}.",
        "",
    ]
    for name in type(defaults).model_fields:
        value = getattr(defaults, name)
        if isinstance(value, BaseModel):
            lines.extend(_section_lines(value, name))
    return "\n".join(lines).rstrip() + "\n"
