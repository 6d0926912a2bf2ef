"""The social section of the settings: networks, their accounts and X's prices."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from campaign.settings.base import Section


class XPrices(Section):
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


class XSettings(Section):
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


class NetworkSettings(Section):
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


class SocialAccount(Section):
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


class SocialSettings(Section):
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
