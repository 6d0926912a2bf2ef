"""The sections of the web service: its address, tracking, the subscribe form, the dashboard
and the bounces socket."""

from __future__ import annotations

from pydantic import Field, field_validator

from campaign.config_file import DEFAULT_BOUNCES_SOCKET
from campaign.settings.base import Section


class WebSettings(Section):
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


class TrackingSettings(Section):
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


class SubscribeSettings(Section):
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


class DashboardSettings(Section):
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


class BouncesSettings(Section):
    socket: str = Field(
        DEFAULT_BOUNCES_SOCKET,
        description=(
            "Unix socket on which `campaign serve` takes the bounces that `campaign bounces "
            "ingest` (the mail server's pipe) hands it, owner-only; the pipe ingests a message "
            "itself when nothing answers there. Empty: no socket, every pipe run ingests alone."
        ),
    )
