"""Settings: built-in defaults, then a TOML file, then ``CAMPAIGN_*`` environment variables.

Every setting is declared once here, with its default and a help text; ``config.example.toml``
is generated from these declarations (``campaign config example``) and a test keeps the two in
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
from datetime import date
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from campaign.addresses import InvalidEmail, sender_address
from campaign.config_file import CONFIG_ENV as CONFIG_ENV
from campaign.config_file import DEFAULT_BOUNCES_SOCKET, read_config_file
from campaign.config_file import DEFAULT_CONFIG_FILE as DEFAULT_CONFIG_FILE
from campaign.config_file import ENV_PREFIX as ENV_PREFIX
from campaign.config_file import ConfigError as ConfigError
from campaign.config_file import find_config_file as find_config_file
from campaign.i18n import languages

SECRET_KEY_ENV = "CAMPAIGN_SECRET_KEY"

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


def _sender(value: str) -> str:
    """A sender address setting, checked as messages will need it (ValueError: the reason)."""
    try:
        return sender_address(value)
    except InvalidEmail as exc:
        raise ValueError(str(exc)) from None


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class GeneralSettings(_Section):
    timezone: str = Field(
        "Europe/Paris",
        description="Time zone in which dates are written and shown (stored in UTC).",
    )
    language: str = Field(
        "fr",
        description=(
            'Language of public-facing text (emails, pages) and of the dashboard: "fr" or '
            '"en" (a language with a catalogue in campaign/locale).'
        ),
    )
    templates_dir: str = Field(
        "templates",
        description=(
            "Folder of your own templates, used when it exists: a file there replaces the "
            "shipped template of the same path (e.g. newsletters/mois-ess/email.mjml.j2); "
            "every other template comes from the package."
        ),
    )
    secret_key_file: str = Field(
        "campaign.secret",
        description=(
            f"Where `campaign init` keeps a generated signing key when {SECRET_KEY_ENV} is "
            "unset. In production set the environment variable instead."
        ),
    )

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        known = languages()
        if value.replace("-", "_").split("_")[0].lower() not in known:
            raise ValueError(f"unknown language {value!r}: use one of {', '.join(known)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. 'Europe/Paris')") from exc
        return value


class DatabaseSettings(_Section):
    url: str = Field(
        "sqlite:///campaign.db",
        description=(
            "SQLAlchemy URL. SQLite for one machine; postgresql+psycopg://user@host/db for several."
        ),
    )


class SmtpSettings(_Section):
    host: str = Field("localhost", description="SMTP relay host name.")
    port: int = Field(587, description="SMTP port (587 with starttls, 465 with tls, 25 with none).")
    security: Literal["none", "starttls", "tls"] = Field(
        "starttls", description="Connection security: none, starttls or tls."
    )
    username: str = Field("", description="Login name; empty for no login.")
    password_env: str = Field(
        "CAMPAIGN_SMTP_PASSWORD", description="Environment variable holding the SMTP password."
    )
    connections: int = Field(4, ge=1, le=64, description="Concurrent SMTP connections.")
    messages_per_connection: int = Field(
        500, ge=1, description="Messages sent on one connection before reconnecting."
    )
    rate_per_second: float = Field(
        0, ge=0, description="Highest messages per second (0: no limit)."
    )
    rate_per_hour: int = Field(0, ge=0, description="Highest messages per hour (0: no limit).")
    timeout: float = Field(30, gt=0, description="Seconds to wait for the server before failing.")
    helo_name: str = Field(
        "",
        pattern=r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])?$",
        description=(
            "Host name given in EHLO/HELO (receivers check that it resolves to the sending "
            "address); empty: the machine's fully qualified name."
        ),
    )


class DkimSettings(_Section):
    key_file: str = Field(
        "",
        description=(
            "PEM file of a 2048-bit RSA key to DKIM-sign messages with; empty: no signing here "
            "(the usual choice: let the relay or MTA sign)."
        ),
    )
    selector: str = Field(
        "campaign", description="DKIM selector (the DNS name selector._domainkey)."
    )
    domain: str = Field("", description="DKIM signing domain (d=); empty: the sender's domain.")


def _retry_minutes() -> list[float]:
    return [1, 5, 15, 60]  # whole minutes, written so in the example file


class MailSettings(_Section):
    transport: Literal["outbox", "smtp"] = Field(
        "outbox",
        description="outbox writes every message to a local maildir folder; smtp sends them.",
    )
    outbox_dir: str = Field("outbox", description="Maildir folder used by the outbox transport.")
    from_address: str = Field("lemois@example.org", description="Sender address of newsletters.")
    from_name: str = Field("Le Mois de l'ESS", description="Sender name of newsletters.")
    reply_to: str = Field(
        "", description="Reply-To address of every message; empty: the From address."
    )
    postal_address: str = Field(
        "CNCRESS, 00 rue de l'Exemple, 75000 Paris",
        description="Sender's postal address, printed in the legal footer of every email.",
    )
    return_path_domain: str = Field(
        "", description="Domain of the VERP bounce address; empty to use the sender's domain."
    )
    return_path_prefix: str = Field(
        "bounces",
        pattern=r"^[A-Za-z0-9._-]*$",
        description=(
            "Local part before the + of the VERP bounce address (bounces+TOKEN@domain); "
            "empty: no VERP, the envelope sender is the From address."
        ),
    )
    unsubscribe_prefix: str = Field(
        "unsubscribe",
        pattern=r"^[A-Za-z0-9._-]*$",
        description=(
            "Local part before the + of the mailto address of List-Unsubscribe "
            "(unsubscribe+TOKEN@domain, same domain as the bounce address), read by `campaign "
            "bounces ingest` like bounces; empty: List-Unsubscribe carries no mailto."
        ),
    )
    batch_size: int = Field(
        100, ge=1, le=10000, description="Deliveries claimed and committed together."
    )
    claim_timeout: float = Field(
        900,
        ge=0,
        description=(
            "Seconds after which a delivery claimed by a sender that died (kill, crash) is taken "
            "again by the next send; it may then be mailed twice."
        ),
    )
    max_attempts: int = Field(
        5, ge=1, description="Tries of a temporarily refused (4xx) message before it is failed."
    )
    retry_minutes: list[float] = Field(
        default_factory=_retry_minutes,
        description="Wait before each new try of a deferred message (the last value repeats).",
    )
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    dkim: DkimSettings = Field(default_factory=DkimSettings)

    # Checked here, not when the first message is composed: a sender address no message can
    # carry would otherwise fail every recipient of a send one by one.
    @field_validator("from_address")
    @classmethod
    def _from(cls, value: str) -> str:
        return _sender(value)

    @field_validator("reply_to")
    @classmethod
    def _reply_to(cls, value: str) -> str:
        return _sender(value) if value.strip() else ""

    @field_validator("return_path_domain")
    @classmethod
    def _bounce_domain(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        try:
            return sender_address(f"bounces@{value}").rpartition("@")[2]
        except InvalidEmail:
            raise ValueError(f"{value!r} is not a mail domain (e.g. 'lemois-ess.org')") from None


class WebSettings(_Section):
    host: str = Field("127.0.0.1", description="Address the web service listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web service listens on.")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description=(
            "Public base URL of the web service: every link in emails starts with it. Sending "
            "over SMTP needs an https URL on a public host name."
        ),
    )
    allow_insecure_links: bool = Field(
        False,
        description=(
            "Send over SMTP even though public_url is not https on a public host (links no "
            "recipient can open): only for a test relay, on purpose."
        ),
    )

    trusted_proxy_depth: int = Field(
        0,
        ge=0,
        le=10,
        description=(
            "Reverse proxies in front of the service whose X-Forwarded-For is trusted (0: none, "
            "the connection's address is the client's). Set it to the number of proxies that "
            "append to the header, never more."
        ),
    )
    operations_token_env: str = Field(
        "CAMPAIGN_OPERATIONS_TOKEN",
        description=(
            "Environment variable holding the token that GET /healthz and GET /metrics ask for "
            "(Authorization: Bearer TOKEN). While it is unset they answer only requests made "
            "on this machine without a proxy (loopback, no X-Forwarded-For); anyone else gets "
            "a 404."
        ),
    )

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class XPrices(_Section):
    """What X bills per request (pay-per-use credits), for the estimates shown before scheduling.

    Defaults are X's public price list when checked (2026); the developer console is
    authoritative: update these when X changes them.
    """

    currency: str = Field("USD", description="Currency of the prices below (shown as is).")
    post: float = Field(0.015, ge=0, description="Creating a post (each part of a thread).")
    post_with_url: float = Field(
        0.200, ge=0, description="Creating a post whose text contains a link."
    )
    media_upload: float = Field(0.0, ge=0, description="Uploading one image (no listed charge).")
    media_metadata: float = Field(0.005, ge=0, description="Setting one image's alt text.")
    post_read: float = Field(
        0.005, ge=0, description="Reading one post (metrics, mentions, recent posts)."
    )
    user_read: float = Field(0.010, ge=0, description="Reading one account (get_me).")


class TrackingSettings(_Section):
    anonymous: bool = Field(
        False,
        description=(
            "Count opens and clicks per newsletter and link only, never per person, for every "
            "newsletter (a newsletter's own --anonymous-tracking does it for that one)."
        ),
    )
    open_machine_seconds: float = Field(
        5, ge=0, description="An open this soon after its delivery is a machine's, not a reader's."
    )
    click_bot_seconds: float = Field(
        10, ge=0, description="A click this soon after its delivery is a link scanner's."
    )
    burst_seconds: float = Field(
        10,
        gt=0,
        description=(
            "Window of the burst rule: one delivery clicking every link (or burst_links of them) "
            "within it is a scanner. Clicks are written to the database after this delay."
        ),
    )
    burst_links: int = Field(
        4, ge=2, description="Different links clicked within burst_seconds that make a burst."
    )
    apple_ranges_file: str = Field(
        "",
        description=(
            "Apple's relay address ranges (Mail Privacy Protection): a file of CIDR prefixes, "
            "one a line, such as Apple's published egress-ip-ranges.csv; empty: the built-in list."
        ),
    )
    flush_seconds: float = Field(
        0.5, gt=0, le=60, description="How often recorded hits are written to the database."
    )
    stop_timeout: float = Field(
        30,
        ge=0,
        description=(
            "Seconds a stopping service keeps trying to write the hits still in memory when the "
            "database refuses them (locked, disk full); then it exits with status 1."
        ),
    )


class SubscribeSettings(_Section):
    lists: list[str] = Field(
        default_factory=lambda: ["Newsletter nationale"],
        description=(
            "Lists the public subscribe form may add people to (?liste=NAME picks one); the "
            "first is the default."
        ),
    )
    rate_limit: int = Field(
        5, ge=1, description="Subscribe requests one IP address may make per rate_window_minutes."
    )
    rate_window_minutes: float = Field(10, gt=0, description="Window of the rate limit.")
    form_max_age_hours: float = Field(
        24, gt=0, description="A subscribe form older than this is refused (shown again)."
    )
    confirm_days: int = Field(
        7, ge=1, description="Days the link of a confirmation email stays valid."
    )
    frame_ancestors: list[str] = Field(
        default_factory=list,
        description=(
            "Sites allowed to embed the subscribe form in an iframe, e.g. "
            '["https://www.lemois-ess.org"]; empty: any site.'
        ),
    )

    @field_validator("lists")
    @classmethod
    def _some_list(cls, value: list[str]) -> list[str]:
        names = [name.strip() for name in value if name.strip()]
        if not names:
            raise ValueError("needs at least one list name for the subscribe form")
        return names


class XSettings(_Section):
    api_base_url: str = Field(
        "https://api.x.com", description="Base URL of the X API (tests point it elsewhere)."
    )
    timeout: float = Field(
        30, gt=0, description="Seconds to wait for an answer from X before trying again."
    )
    retries: int = Field(
        3, ge=0, le=10, description="Retries of a request after a server error or a timeout."
    )
    prices: XPrices = Field(default_factory=XPrices)


class NetworkSettings(_Section):
    """How long to wait for a network other than X, and how often to try a request again."""

    timeout: float = Field(
        30, gt=0, description="Seconds to wait for an answer before trying again."
    )
    retries: int = Field(
        3, ge=0, le=10, description="Retries of a request after a server error or a timeout."
    )


class LinkedInSettings(NetworkSettings):
    """LinkedIn's API address and the version of it the requests ask for."""

    api_base_url: str = Field(
        "https://api.linkedin.com",
        description="Base URL of LinkedIn's REST API (tests point it elsewhere).",
    )
    version: str = Field(
        "202605",
        pattern=r"^20[0-9]{2}(0[1-9]|1[0-2])$",
        description=(
            "LinkedIn-Version header (YYYYMM): the API version asked for. LinkedIn keeps each "
            "version for about a year; move to a newer one when it is announced as sunset."
        ),
    )


Network = Literal["x", "mastodon", "bluesky", "linkedin"]
# Which keys of an account section each network reads (the others are left out of the
# documented example for that account, and refused when given for the wrong network).
NETWORK_KEYS: dict[str, tuple[str, ...]] = {
    "x": ("consumer_key_env", "consumer_secret_env", "access_token_env", "access_token_secret_env"),
    "mastodon": ("instance_url", "access_token_env", "visibility"),
    "bluesky": ("service_url", "app_password_env"),
    "linkedin": ("organization_id", "access_token_env", "token_expires"),
}


class SocialAccount(_Section):
    network: Network = Field("x", description="Social network of the account.")
    handle: str = Field(
        ...,
        description=(
            "Account handle, e.g. Mois_ESS (X), moisess (Mastodon), moisess.bsky.social "
            "(Bluesky), the page's public name in its address, e.g. mois-ess (LinkedIn)."
        ),
    )
    consumer_key_env: str = Field("", description="Environment variable of the consumer key.")
    consumer_secret_env: str = Field("", description="Environment variable of the consumer secret.")
    access_token_env: str = Field("", description="Environment variable of the access token.")
    access_token_secret_env: str = Field(
        "", description="Environment variable of the access token secret."
    )
    instance_url: str = Field(
        "", description="Mastodon: address of the account's instance, e.g. https://mastodon.social."
    )
    visibility: Literal["public", "unlisted", "private"] = Field(
        "public", description="Mastodon: who sees the posts."
    )
    service_url: str = Field(
        "https://bsky.social",
        description="Bluesky: address of the account's server (PDS).",
    )
    app_password_env: str = Field(
        "", description="Bluesky: environment variable of the app password."
    )
    organization_id: str = Field(
        "",
        description=(
            "LinkedIn: number of the organization page the posts are published as (the digits "
            "of urn:li:organization:12345678)."
        ),
    )
    token_expires: date | None = Field(
        None,
        description=(
            "LinkedIn: day the access token expires (60 days after it was made), e.g. "
            '"2027-01-31": warnings start 7 days before.'
        ),
    )

    @model_validator(mode="after")
    def _keys_of_its_network(self) -> SocialAccount:
        given = self.model_fields_set - {"network", "handle"}
        foreign = sorted(key for key in given if key not in NETWORK_KEYS[self.network])
        if foreign:
            raise ValueError(
                f"{', '.join(foreign)} {'does' if len(foreign) == 1 else 'do'} not apply to a "
                f"{self.network} account (it reads: {', '.join(NETWORK_KEYS[self.network])})"
            )
        if self.network == "mastodon" and not self.instance_url.startswith(("https://", "http://")):
            raise ValueError("a mastodon account needs instance_url, e.g. https://mastodon.social")
        if self.network == "bluesky" and not self.service_url.startswith(("https://", "http://")):
            raise ValueError("service_url must be an address, e.g. https://bsky.social")
        if self.network == "linkedin" and not self.organization_id.isdigit():
            raise ValueError(
                "a linkedin account needs organization_id, the digits of its page's "
                'urn:li:organization:NUMBER, e.g. organization_id = "12345678"'
            )
        return self

    def shown(self, key: str) -> bool:
        """Whether ``key`` belongs in this account's section of the documented example."""
        return key in ("network", "handle") or key in NETWORK_KEYS[self.network]


def _default_accounts() -> dict[str, SocialAccount]:
    return {
        "mois_ess": SocialAccount(
            handle="Mois_ESS",
            consumer_key_env="CAMPAIGN_X_MOIS_ESS_CONSUMER_KEY",
            consumer_secret_env="CAMPAIGN_X_MOIS_ESS_CONSUMER_SECRET",
            access_token_env="CAMPAIGN_X_MOIS_ESS_ACCESS_TOKEN",
            access_token_secret_env="CAMPAIGN_X_MOIS_ESS_ACCESS_TOKEN_SECRET",
        ),
        "prix_ess": SocialAccount(
            handle="Prix_ESS",
            consumer_key_env="CAMPAIGN_X_PRIX_ESS_CONSUMER_KEY",
            consumer_secret_env="CAMPAIGN_X_PRIX_ESS_CONSUMER_SECRET",
            access_token_env="CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN",
            access_token_secret_env="CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN_SECRET",
        ),
    }


class SocialSettings(_Section):
    publish_retries: int = Field(
        4,
        ge=0,
        le=20,
        description=(
            "Times the service tries a post again by itself after a network's server error or "
            "time-out, before marking it failed."
        ),
    )
    retry_backoff_minutes: float = Field(
        2,
        gt=0,
        description="Wait before the first of those tries; each next wait is twice as long.",
    )
    claim_timeout_minutes: float = Field(
        10,
        gt=0,
        description=(
            "A post left being published this long by a process that stopped is taken up again."
        ),
    )
    x: XSettings = Field(default_factory=XSettings)
    mastodon: NetworkSettings = Field(default_factory=NetworkSettings)
    bluesky: NetworkSettings = Field(default_factory=NetworkSettings)
    linkedin: LinkedInSettings = Field(default_factory=LinkedInSettings)
    accounts: dict[str, SocialAccount] = Field(default_factory=_default_accounts)


class EventsSettings(_Section):
    regions: list[str] = Field(
        default_factory=list,
        description="Regions events and subscribers are sorted into; empty: the 18 of 2016.",
    )
    themes: list[str] = Field(
        default_factory=list,
        description="Daily themes of the Mois; empty: the built-in list.",
    )
    zones: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Time zone (IANA name) of regions whose clocks differ from [general] timezone, "
            'added to the built-in overseas ones: { "Polynésie française" = "Pacific/Tahiti" }.'
        ),
    )

    @field_validator("zones")
    @classmethod
    def _known_zones(cls, value: dict[str, str]) -> dict[str, str]:
        for region, name in value.items():
            if not _is_zone(name):
                raise ValueError(
                    f"{name!r} (for {region!r}) is not a time zone name; use an IANA name such "
                    'as "Indian/Reunion" or "America/Cayenne"'
                )
        return value


class SchedulerSettings(_Section):
    misfire_grace: int = Field(
        900,
        ge=1,
        description=(
            "Seconds a newsletter or post may still go out after its time when the service was "
            "down; later than that it is marked missed (shown, never sent late without notice)."
        ),
    )
    workers: int = Field(
        4, ge=1, le=64, description="Jobs run at the same time (sends and posts due together)."
    )
    poll_interval: float = Field(
        2.0,
        gt=0,
        description="Seconds between two reads of the scheduled newsletters and posts by the "
        "scheduler (how soon a change made by `schedule sync` or by hand is armed).",
    )
    send_interval: float = Field(
        5.0,
        gt=0,
        description="Seconds between two looks of the send worker for newsletters left sending.",
    )
    leader_retry: float = Field(
        2.0,
        gt=0,
        description="Seconds between two attempts of a standby process to take over the scheduler.",
    )
    calendars: str = Field(
        "schedules", description="Folder of the campaign calendars (*.toml) read by `schedule`."
    )


class DashboardSettings(_Section):
    session_hours: int = Field(
        12, ge=1, le=24 * 30, description="Hours a dashboard sign-in lasts before asking again."
    )
    max_failed_logins: int = Field(
        5,
        ge=1,
        description=(
            "Failed sign-ins allowed per account from one IP address in 15 minutes, then refused "
            "from that address."
        ),
    )
    max_failed_logins_per_ip: int = Field(
        20,
        ge=1,
        description=(
            "Failed sign-ins allowed per IP address in 15 minutes; past as many on one account "
            "from all addresses, attempts on it are slowed."
        ),
    )
    media_dir: str = Field(
        "media",
        description="Folder of post images (uploads, copies of the CLI's and calendars'); "
        "the only one the dashboard shows them from.",
    )
    upload_max_mb: int = Field(
        20, ge=1, description="Largest file the dashboard accepts (imports, images), in MB."
    )
    import_dir: str = Field(
        "imports",
        description="Folder where a file uploaded for an import waits (owner-only) between the "
        "dry run and the import; deleted once imported, or an hour after it was uploaded.",
    )


class BouncesSettings(_Section):
    socket: str = Field(
        DEFAULT_BOUNCES_SOCKET,
        description=(
            "Unix socket on which `campaign serve` takes the bounces that `campaign bounces "
            "ingest` (the mail server's pipe) hands it, owner-only; the pipe ingests a message "
            "itself when nothing answers there. Empty: no socket, every pipe run ingests alone."
        ),
    )


class Settings(_Section):
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
