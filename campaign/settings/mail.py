"""The mail section of the settings: sender, SMTP relay, DKIM signing, retries."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from campaign.addresses import InvalidEmail, sender_address
from campaign.settings.base import Section, sender


class SmtpSettings(Section):
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


class DkimSettings(Section):
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


class MailSettings(Section):
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
        return sender(value)

    @field_validator("reply_to")
    @classmethod
    def _reply_to(cls, value: str) -> str:
        return sender(value) if value.strip() else ""

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
