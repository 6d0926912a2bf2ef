"""The command line's words for the messages of the service: dashboard forms and users, the
database, reports and the demo."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign.wording import CliShape

SENTENCES: dict[str, str] = {
    # dashboard forms
    "form.not_a_day": "{flag}: {text!r} is not a date.",
    "form.not_a_moment": "{flag}: {text!r} is not a date and time.",
    "report.unknown_newsletter": (
        "No newsletter {id}; `campaign newsletters list` shows their numbers."
    ),
    "report.not_sent": (
        "Newsletter {id} has not been sent (it is {status}); reports cover sent newsletters."
    ),
    # dashboard users
    "user.password_too_short": (
        "The password is too short: use at least {min} characters (a few words make a good one)."
    ),
    "user.password_spaces": "The password starts or ends with a space; remove it.",
    "user.bad_email": "{email!r} is not a valid email address ({reason}).",
    "user.unknown_role": "Unknown role {role!r}; use one of {known}.",
    "user.unknown": "No dashboard user {email!r}; `campaign users list` shows them.",
    "user.exists": (
        "{email} is already a dashboard user; `campaign users passwd {email}` changes the password."
    ),
    # the database
    "database.no_folder": (
        "Cannot open the database {path}: cannot create its folder ({reason}); check "
        "[database] url, or create the folder."
    ),
    "database.cannot_create": (
        "Cannot open the database {path}: cannot create it ({reason}); check [database] url."
    ),
    "database.bad_url": "[database] url {url!r} is not a database URL ({reason}).",
    "database.no_driver": (
        "[database] url {url!r} needs a database driver that is not installed ({reason})."
    ),
    "database.bad_option": "[database] url {url!r} has an option that is not valid ({reason}).",
    "database.busy": (
        "The database {where} is busy (locked by another process): try again in a moment."
    ),
    "database.damaged": (
        "The database {where} is damaged or is not a campaign database ({reason}): "
        "restore it from a backup, or set [database] url to the right file."
    ),
    "database.read_only": (
        "Cannot write to the database {where} ({reason}): check that you may write to "
        "the file and to its folder."
    ),
    "database.disk_full": (
        "The disk holding the database {where} is full: free some space and try again."
    ),
    "database.conflict": (
        "The database {where} refused the change ({reason}): another process may have "
        "changed the same data at the same time; try again."
    ),
    "database.file_unreachable": (
        "Cannot open the database {where}: {reason}. Check [database] url and that its "
        "folder exists and that you may write to it."
    ),
    "database.server_unreachable": (
        "Cannot open the database {where}: {reason}. Check [database] url and that the "
        "server is running and accepts this login."
    ),
    "database.too_new": (
        "The database {where} was written by a newer version of campaign (schema "
        "{revisions}, unknown to campaign {version}): upgrade campaign to use it, or "
        "restore a backup made with this version."
    ),
    "database.cannot_open": "Cannot open the database {where}: {reason}.",
    # writing reports
    "report.unknown_format": "--format {format!r}: choose one of {known}.",
    "report.format_not_known_from_file": (
        "--out {out}: say which format to write with --format ({known})."
    ),
    "report.unknown_table": "--table {table!r}: this report has {known}.",
    "report.csv_one_table": (
        "A CSV file holds one table and this report has {count} ({known}): choose one "
        "with --table, or write them all with --format xlsx or json."
    ),
    "report.needs_file": (
        "--format {format} writes a file: give its name with --out (e.g. --out {key}.{format})."
    ),
    "report.no_folder": "--out {out}: the folder {folder} does not exist.",
    "report.cannot_write": "--out {out}: cannot write the file ({reason}).",
    "report.no_labels": "No labels.toml in {folder}.",
    "report.unknown_language": "--lang {language!r}: reports are written in {known}.",
    # the demo
    "demo.no_calendar": ("No sample calendar found (looked for {looked}): reinstall the package."),
    "demo.no_samples": (
        "No sample files found (looked in {looked}): pass the folder holding {file} and "
        "the subscriber files, or reinstall the package."
    ),
}


def _languages(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    values["known"] = " or ".join(given["known"])


def _looked(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    values["looked"] = " and ".join(given["looked"])


SHAPES: dict[str, CliShape] = {"report.unknown_language": _languages, "demo.no_calendar": _looked}
