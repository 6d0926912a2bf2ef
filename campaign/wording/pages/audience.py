"""The pages' words for the messages of the audience: lists and imports of subscribers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from campaign.i18n import N_, gettext_in
from campaign.wording import PageShape

SENTENCES: dict[str, str] = {
    # lists
    "list.unknown": N_(
        "There is no list called “{name}” (lists: {names}). An administrator can create it on "
        "the Lists page."
    ),
    "list.ambiguous": N_(
        "Several lists are called “{name}” once capitals and accents are ignored ({names}): "
        "merge them on the Lists page."
    ),
    "list.no_name": N_("Give the list a name."),
    "list.name_too_long": N_("A list name has at most {max} characters."),
    "list.exists": N_("Did you mean “{name}”?"),
    "list.gone": N_("The list “{name}” no longer exists."),
    # people added by hand (the page adds {page}, the link to the record of a known address)
    "person.no_email": N_("Give the person's email address."),
    "person.no_consent_source": N_(
        "Say how the person gave their consent (the proof of their consent, noted in the log)."
    ),
    "person.known": N_(
        "The address {email} is already known: edit their record ({page}) rather than adding "
        "it again."
    ),
    # imports
    "import.no_email": N_("no email address"),
    "import.invalid_email": N_("invalid email address"),
    "import.duplicate": N_("same address as row {row}"),
    "import.no_email_column": N_(
        "The file {file} has no column of email addresses (columns found: {found}). Name that "
        "column “email” (or “courriel”, “e-mail”, “adresse mail”) and import the file again: "
        "nothing was imported."
    ),
    "import.no_header_row": N_(
        "The file {file} has no column of email addresses: its first row looks like data. Add "
        "a first row naming the columns (“email” or “courriel” for the addresses) and import "
        "the file again: nothing was imported."
    ),
    "import.no_event_id": N_("no event id"),
    "import.event_id_too_long": N_("event id longer than {limit} characters"),
    "import.no_title": N_("no title"),
    "import.no_start": N_("no start date"),
    "import.bad_starts_at": N_(
        "the start date “{text}” is not a date (write 05/11/2026 14:30 or 2026-11-05T14:30)"
    ),
    "import.bad_ends_at": N_(
        "the end date “{text}” is not a date (write 05/11/2026 14:30 or 2026-11-05T14:30)"
    ),
    "import.ends_before_start": N_("it ends ({end}) before it starts ({start})"),
    "import.not_an_event": N_("not an event: “{text}”"),
    "import.same_event_id": N_("same event id as row {row}"),
    "import.suppressed": N_(
        "{count} people in the file had unsubscribed, bounced or complained: they stay so and "
        "were not added to any list (rows {rows}{more})."
    ),
    "import.bad_join_dates": N_(
        "{count} rows have a join date that is not a date, or is in the future or before "
        "{earliest}: {shown}{more}. They were imported without it (write dates as 31/12/2025 "
        "or 2025-12-31)."
    ),
    "import.unknown_regions": N_(
        "{rows} rows name a region that is not in the list of regions, kept as written: "
        "{shown}. Correct them in the file, or ask an administrator to add the region to the "
        "settings."
    ),
}


def _bad_join_dates(
    given: Mapping[str, Any], values: dict[str, Any], language: str, zone: tzinfo | None
) -> None:
    values["shown"] = ", ".join(
        gettext_in(language, N_("row {row} ({text})")).format(row=number, text=text)
        for number, text in given["shown"]
    )


def _unknown_regions(
    given: Mapping[str, Any], values: dict[str, Any], language: str, zone: tzinfo | None
) -> None:
    values["shown"] = ", ".join(f"{name} ({count})" for name, count in given["shown"])


SHAPES: dict[str, PageShape] = {
    "import.bad_join_dates": _bad_join_dates,
    "import.unknown_regions": _unknown_regions,
}
