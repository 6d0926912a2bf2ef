"""The pages' words for the messages of the service: dashboard forms and users, the database,
reports and the demo."""

from __future__ import annotations

from campaign.i18n import N_
from campaign.wording import PageShape

SENTENCES: dict[str, str] = {
    # dashboard forms
    "form.not_a_day": N_("“{text}” is not a date: choose a day in the field."),
    "form.not_a_moment": N_("“{text}” is not a date and time: choose both in the field."),
    "report.unknown_newsletter": N_("There is no newsletter number {id}."),
    "report.not_sent": N_("This newsletter is {status}: its report comes once it has been sent."),
    # dashboard users
    "user.password_too_short": N_(
        "The password is too short: use at least {min} characters (a few words make a good one)."
    ),
    "user.password_spaces": N_("The password starts or ends with a space: remove it."),
    "user.bad_email": N_("“{email}” is not a valid email address ({reason})."),
    "user.unknown_role": N_("The role “{role}” does not exist: choose one of {known}."),
    "user.unknown": N_("Nobody signs in to the dashboard as “{email}”."),
    "user.exists": N_(
        "“{email}” already signs in to the dashboard: change their password instead."
    ),
    # the database
    "database.no_folder": N_(
        "The database {path} cannot be opened: its folder cannot be created ({reason}). "
        "Ask an administrator to check the database's address in the settings."
    ),
    "database.cannot_create": N_(
        "The database {path} cannot be opened: it cannot be created ({reason}). Ask an "
        "administrator to check the database's address in the settings."
    ),
    "database.bad_url": N_(
        "The database's address in the settings, “{url}”, is not a database address "
        "({reason}): ask an administrator to correct it."
    ),
    "database.no_driver": N_(
        "The database at “{url}” needs a driver that is not installed ({reason}): ask an "
        "administrator to install it."
    ),
    "database.bad_option": N_(
        "The database's address in the settings, “{url}”, has an option that is not "
        "valid ({reason}): ask an administrator to correct it."
    ),
    "database.busy": N_(
        "The database is busy (another process is writing to it): try again in a moment."
    ),
    "database.damaged": N_(
        "The database {where} is damaged or is not a campaign database ({reason}): ask "
        "an administrator to restore it from a backup."
    ),
    "database.read_only": N_(
        "Nothing can be written to the database {where} ({reason}): ask an administrator "
        "to check who may write to it."
    ),
    "database.disk_full": N_(
        "The disk holding the database is full: ask an administrator to free some space, "
        "then try again."
    ),
    "database.conflict": N_(
        "The database refused the change ({reason}): someone may have changed the same "
        "data at the same time. Try again."
    ),
    "database.file_unreachable": N_(
        "The database {where} cannot be opened ({reason}): ask an administrator to check "
        "its address in the settings and its folder."
    ),
    "database.server_unreachable": N_(
        "The database server cannot be reached ({reason}): try again in a moment, or ask "
        "an administrator to check that it is running."
    ),
    "database.too_new": N_(
        "The database was written by a newer version of campaign than this one "
        "({version}): ask an administrator to upgrade campaign."
    ),
    "database.cannot_open": N_(
        "The database {where} cannot be opened ({reason}): ask an administrator."
    ),
    # writing reports
    "report.unknown_format": N_("The format “{format}” is not offered: choose one of {known}."),
    "report.format_not_known_from_file": N_(
        "The file name {out} does not say which format to write: choose one of {known}."
    ),
    "report.unknown_table": N_("The table “{table}” is not in this report, which has: {known}."),
    "report.csv_one_table": N_(
        "A CSV file holds one table and this report has {count} ({known}): choose one of "
        "them, or download them all as a spreadsheet (XLSX) or as JSON."
    ),
    "report.needs_file": N_("The format {format} writes a file: give its name."),
    "report.no_folder": N_(
        "The folder {folder} does not exist: choose another place for the file."
    ),
    "report.cannot_write": N_("The file {out} cannot be written ({reason})."),
    "report.no_labels": N_(
        "The reports' words (labels.toml) cannot be found in {folder}: ask an administrator."
    ),
    "report.unknown_language": N_(
        "Reports are not written in “{language}”: choose one of {known}."
    ),
    # the demo
    "demo.no_calendar": N_(
        "The demo's calendar cannot be found (looked for {looked}): ask an administrator "
        "to reinstall campaign."
    ),
    "demo.no_samples": N_(
        "The demo's sample files cannot be found (looked in {looked}): ask an "
        "administrator to reinstall campaign."
    ),
}

SHAPES: dict[str, PageShape] = {}
