"""The general, database, events and scheduler sections of the settings."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from campaign.i18n import languages
from campaign.settings.base import SECRET_KEY_ENV, Section, is_zone


class GeneralSettings(Section):
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


class DatabaseSettings(Section):
    url: str = Field(
        "sqlite:///campaign.db",
        description=(
            "SQLAlchemy URL. SQLite for one machine; postgresql+psycopg://user@host/db for several."
        ),
    )


class EventsSettings(Section):
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
            if not is_zone(name):
                raise ValueError(
                    f"{name!r} (for {region!r}) is not a time zone name; use an IANA name such "
                    'as "Indian/Reunion" or "America/Cayenne"'
                )
        return value


class SchedulerSettings(Section):
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
