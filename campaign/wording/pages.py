"""The dashboard's and the public pages' words for the stages' messages.

Written in English and marked for gettext (``N_``); ``campaign/locale/fr/LC_MESSAGES/messages.po``
holds the French, used by default (``[general] language``). A sentence names what the person
sees on the form ("the end date"), never a CLI flag or a settings path; the dashboard shows it
next to the field the message concerns. Values are written the pages' way: days in words, times
in the team's zone, lists joined by commas.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from campaign import formatting
from campaign.i18n import N_, gettext_in

if TYPE_CHECKING:  # the type only: messages word themselves with this catalogue
    from campaign.messages import Message

SENTENCES: dict[str, str] = {
    # newsletters
    "newsletter.events_end_before_start": N_(
        "The end date ({end}) is before the start date ({start}): choose an end date on or "
        "after the start date."
    ),
    "newsletter.events_max_too_small": N_(
        "The largest number of events must be at least 1 (or leave it empty: no limit)."
    ),
    "newsletter.unknown_order": N_("The order “{order}” is not one the form offers: choose one."),
    "newsletter.reader_region_mixed": N_(
        "“Each reader's own region” cannot be combined with named regions: choose one or the other."
    ),
    "newsletter.unknown_region": N_(
        "The region “{name}” is not in the list of regions. Known regions: {known}."
    ),
    "newsletter.unknown_theme": N_(
        "The daily theme “{name}” is not in the list of themes. Known themes: {known}."
    ),
    "newsletter.bad_pair": N_(
        "The line “{pair}” is not of the form name=value (for example region=Bretagne)."
    ),
    "newsletter.unknown_when_no_events": N_(
        "Choose what readers without events get among the choices offered."
    ),
    "newsletter.no_events_text_empty": N_(
        "Readers without events are to get a text instead, but the text is empty: write it, or "
        "choose another option for them."
    ),
    "newsletter.no_events_text_too_long": N_(
        "The text for readers without events has {length} characters: keep it under {limit}."
    ),
    "newsletter.unknown_template": N_(
        "The template “{name}” does not exist. Templates available: {known}."
    ),
    "newsletter.no_list": N_("Tick at least one list: the newsletter goes to its subscribers."),
    "newsletter.empty_text": N_("This field cannot be empty."),
    "newsletter.unknown": N_("There is no newsletter number {id}."),
    "newsletter.not_editable": N_(
        "This newsletter can no longer be changed: only a draft, scheduled or paused newsletter "
        "can be."
    ),
    "newsletter.not_cancelled": N_(
        "Only a cancelled newsletter can go back to draft: this one is {status}."
    ),
    "newsletter.sent_before_cancel": N_(
        "This newsletter was sent to some people before it was cancelled: it stays cancelled. "
        "Duplicate it to send it again."
    ),
    # newsletter blocks
    "block.empty": N_("Block {number}: this field is empty: write it, or remove the block."),
    "block.too_long": N_("Block {number}: this text has {length} characters: keep it under {max}."),
    "block.not_url": N_(
        "Block {number}: “{value}” is not a web address: write it in full, starting with https://."
    ),
    "block.no_alt": N_("Block {number}: describe the image for people who cannot see it."),
    "block.alt_too_long": N_(
        "Block {number}: keep the image's description under {max} characters."
    ),
    "block.not_media_image": N_(
        "Block {number}: the image “{file}” is no longer kept: choose the file again."
    ),
    "block.no_image": N_("Block {number}: choose the image's file."),
    "block.width_not_number": N_(
        "Block {number}: “{value}” is not a width in pixels: write a number, such as 600."
    ),
    "block.width_range": N_("Block {number}: give a width between {min} and {max} pixels."),
    "block.not_a_date": N_("Block {number}: “{value}” is not a date: choose one in the calendar."),
    "block.max_not_number": N_("Block {number}: “{value}” is not a whole number of events."),
    # dashboard forms
    "form.not_a_day": N_("“{text}” is not a date: choose a day in the field."),
    "form.not_a_moment": N_("“{text}” is not a date and time: choose both in the field."),
    "newsletter.bad_own_sender": N_(
        "This newsletter cannot be sent: its sender address “{address}” is not valid "
        "({reason}). Give it a valid sender address (pause it first if it is sending), then "
        "send it again."
    ),
    "newsletter.bad_setting_sender": N_(
        "This newsletter cannot be sent: the sender address of the settings, “{address}”, is not "
        "valid ({reason}). Ask an administrator to correct it, then send it again."
    ),
    "newsletter.bad_bounce_address": N_(
        "This newsletter cannot be sent: the address bounces come back to, “{address}”, is not "
        "valid ({reason}). Ask an administrator to correct the settings, then send it again."
    ),
    "newsletter.bad_unsubscribe_address": N_(
        "This newsletter cannot be sent: the unsubscribe address, “{address}”, is not valid "
        "({reason}). Ask an administrator to correct the settings, then send it again."
    ),
    "newsletter.send_paused": N_("This newsletter is paused: resume it to carry on sending."),
    "newsletter.send_cancelled": N_("This newsletter was cancelled: it cannot be sent."),
    "newsletter.cannot_be_paused": N_(
        "This newsletter is {status}: only a newsletter being sent can be paused."
    ),
    "newsletter.cannot_be_resumed": N_(
        "This newsletter is {status}: only a paused newsletter can be resumed."
    ),
    "newsletter.cannot_be_cancelled": N_(
        "This newsletter is {status}: it can no longer be cancelled."
    ),
    "newsletter.not_sending": N_(
        "This newsletter is {status}, not being sent: schedule a draft, or resume a paused one."
    ),
    "newsletter.not_schedulable": N_(
        "This newsletter is {status}: only a draft, scheduled or missed newsletter can be given "
        "a sending time."
    ),
    "schedule.time_past": N_("{at} is already past: choose a time to come."),
    "report.unknown_newsletter": N_("There is no newsletter number {id}."),
    "report.not_sent": N_("This newsletter is {status}: its report comes once it has been sent."),
    "mail.invalid_address": N_(
        "“{address}” is not an email address: write a whole address, such as anne@example.org."
    ),
    "newsletter.checks_failed": N_("This newsletter cannot be sent as it is: {problems}"),
    # pre-send checks
    "check.no_events": N_(
        "The template shows events but the selection has none: check the dates, regions and themes."
    ),
    "check.invalid_mjml": N_(
        "The template {template} is not valid MJML (line {line}, column {column}: {what}): ask "
        "whoever maintains the templates."
    ),
    "check.too_heavy": N_(
        "The message weighs {kilobytes} KB: Gmail cuts messages over about 100 KB, hiding the "
        "end and the unsubscribe link. Feature fewer events."
    ),
    "check.no_unsubscribe_html": N_(
        "The template {template} has no unsubscribe link in its HTML part: ask whoever "
        "maintains the templates."
    ),
    "check.no_unsubscribe_text": N_(
        "The template {template} has no unsubscribe link in its text part: ask whoever "
        "maintains the templates."
    ),
    "check.image_without_alt": N_(
        "The image {src} has no description (shown when images are blocked)."
    ),
    "check.bad_link": N_(
        "The link “{url}” is not a web or email link: mail clients would not open it. Correct "
        "it in the event or the template."
    ),
    "check.readers_left_out": N_(
        "No event for these readers{where}: they do not receive this newsletter (readers "
        "without events are left out)."
    ),
    "check.no_event_to_come": N_(
        "No event still to come matches this newsletter's selection{where}: check the dates, "
        "regions and themes."
    ),
    # images of posts
    "image.missing": N_("The image {name} cannot be found: choose the file again."),
    "image.not_a_picture": N_(
        "{name} is not a JPEG, PNG, WEBP or GIF image (X takes only those): convert it, for "
        "example to JPEG."
    ),
    "image.too_big": N_(
        "{name} weighs {size}; X takes at most {limit} for a {kind} image: make it smaller."
    ),
    "image.upload_too_big": N_(
        "The image {name} weighs more than {limit}, the most {network_name} takes for a {kind} "
        "image: make it smaller."
    ),
    "image.no_alt": N_(
        "Describe the image {name} for people who cannot see it (the description field)."
    ),
    "image.alt_too_long": N_(
        "The description of {name} has {length} characters; X takes at most {limit}: shorten "
        "it by {over}."
    ),
    "image.not_kept": N_(
        "The image {name} could not be saved ({reason}): ask an administrator to check the "
        "media folder."
    ),
    "post.template_value_missing": N_(
        "The post template “{name}” needs a value it was not given ({detail})."
    ),
    "mail.insecure_public_url": N_(
        "Nothing can be sent by email yet: the address of the public web service ({url}) "
        "cannot be opened by recipients, so neither could the links of the message (the "
        "unsubscribe link included). Ask an administrator to set the service's public https "
        "address in the settings."
    ),
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
    # what may be done to a newsletter or a post, by its status (the stages' allowed.py)
    "newsletter.not_sendable": N_(
        "This newsletter is {status}: only a draft, scheduled or missed newsletter can be sent now."
    ),
    "post.cannot_move": N_("This post is {status}: it can no longer be given a new time."),
    "post.cannot_edit": N_("This post is {status}: only a post not yet published can be changed."),
    "post.cannot_schedule": N_(
        "This post is {status}: only a draft can be scheduled; give it a new time instead, or "
        "cancel it."
    ),
    "post.cannot_publish": N_("This post is {status}: it cannot be published."),
    "post.cannot_cancel": N_(
        "This post is {status}: it cannot be cancelled (delete it on the network if it must go)."
    ),
    "post.partly_published": N_("This post is partly published: its text can no longer change."),
    "post.waiting_for_network": N_(
        "This post is partly published and waits for the network: it goes on by itself after "
        "the wait the network asked for (cancel it to stop it)."
    ),
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
    # template manifests (template.toml): the values given, then the file itself
    "manifest.unknown_field": N_(
        "The template “{template}” has no field “{key}”. Its fields: {known}."
    ),
    "manifest.unknown_field_close": N_(
        "The template “{template}” has no field “{key}”: did you mean “{close}”? Its fields: "
        "{known}."
    ),
    "manifest.field_required": N_("“{label}”: this field of the template “{template}” is needed."),
    "manifest.not_url": N_(
        "“{label}”: “{value}” is not a web address: write it in full, starting with https://."
    ),
    "manifest.not_date": N_(
        "“{label}”: “{value}” is not a date: write it as 2016-11-18 or 2016-11-18T23:59."
    ),
    "manifest.not_choice": N_("“{label}”: choose one of {choices}, not “{value}”."),
    "manifest.unreadable": N_(
        "The template's description file {path} cannot be read: {error}. An administrator "
        "must correct it."
    ),
    "manifest.fields_not_table": N_(
        "The template's description file {path} is wrong: its fields are not a table. An "
        "administrator must correct it."
    ),
    "manifest.field_not_table": N_(
        "The template's description file {path} is wrong: the field “{key}” is not a table. "
        "An administrator must correct it."
    ),
    "manifest.unknown_type": N_(
        "The template's description file {path} is wrong: the field “{key}” has an unknown "
        "type “{type}” (types: {known}). An administrator must correct it."
    ),
    "manifest.brand_not_table": N_(
        "The template's description file {path} is wrong: its brand is not a table. An "
        "administrator must correct it."
    ),
    "manifest.logo_not_image": N_(
        "The template's description file {path} is wrong: the logo “{logo}” is not an image "
        "file of the template's folder. An administrator must correct it."
    ),
    "manifest.logo_missing": N_(
        "The template's logo “{logo}” is not in {folder}. An administrator must add it."
    ),
    "manifest.bad_color": N_(
        "The template's description file {path} is wrong: “{color}” is not a colour such as "
        "#c2185b. An administrator must correct it."
    ),
    "manifest.bad_accounts": N_(
        "The template's description file {path} is wrong: its accounts are not a list of "
        "account names. An administrator must correct it."
    ),
    # deliveries not sent
    "delivery.left_out": N_("Not sent: no event for this reader."),
    "delivery.person_erased": N_("Not sent: the person was deleted."),
    "delivery.person_inactive": N_("Not sent: the person's status is “{status}”."),
    # previews and tests
    "preview.not_in_audience": N_(
        "{email} is not among the newsletter's readers (not on its lists, not active, or "
        "outside its selection)."
    ),
    "preview.nobody": N_(
        "This newsletter has nobody to preview for: nobody is on its lists (or in its "
        "selection). Check its lists and selection."
    ),
    "preview.no_test_address": N_("Give at least one address to send the test to."),
    # periods
    "period.end_before_start": N_(
        "The end date ({end}) is before the start date ({start}): choose an end date on or "
        "after the start date."
    ),
    # the planner
    "planner.bad_time": N_(
        "“{item}” is not a time of day: write the times like 09:00, 12:30, 17:30."
    ),
    "planner.no_times": N_("Give at least one time of day, for example 09:00, 12:30, 17:30."),
    "planner.per_day_out_of_range": N_(
        "Choose between 1 and {most} posts a day (one per time of day; add times to post more "
        "often)."
    ),
    "planner.too_many_days": N_("Plan at most {days} days at once."),
    "planner.slot_past": N_("{slot}: this time is already past, no post planned."),
    "planner.slot_taken": N_("{slot}: post {post_id} is already planned at that time."),
    "planner.theme_exhausted": N_(
        "{slot}: no event left on the day's theme “{theme}”; another theme is featured."
    ),
    "planner.no_event_left": N_(
        "{slot}: no event left to feature that day (all featured already, started or over by "
        "then, or none in the catalogue)."
    ),
    "planner.shortened": N_("Post {post_id} ({event}) was shortened to fit: {details}."),
    # LinkedIn
    "linkedin.token_refused": N_(
        "{label}: LinkedIn refused the access token ({reason}). LinkedIn tokens last 60 days: ask"
        " the administrator to make a new one and set it."
    ),
    "linkedin.token_expired": N_(
        "{label}: the LinkedIn access token expired on {date}: ask the administrator to make a "
        "new one and set it."
    ),
    "linkedin.forbidden": N_(
        "{label}: LinkedIn refused the post ({reason}): the access token lacks the permission to "
        "publish for the page (w_organization_social), or was made by someone who is not one of "
        "its administrators."
    ),
    "linkedin.rate_limited": N_(
        "{label}: LinkedIn's limit of posts was reached; the post is tried again after {at}."
    ),
    "linkedin.too_large": N_("{label}: LinkedIn refused a file too large: make the image smaller."),
    "linkedin.refused": N_("{label}: LinkedIn refused the post ({status}: {reason})."),
    "account.token_expires_soon": N_(
        "@{handle} ({network}): the access token expires on {date}, in {days} days: ask the "
        "administrator to renew it."
    ),
    "account.token_expired": N_(
        "@{handle} ({network}): the access token expired on {date}: nothing is published until "
        "the administrator renews it."
    ),
    # posts
    "post.too_long": N_(
        "The text is {length} characters long as {network} counts them, {over} too many (at "
        "most {limit}; {note}): shorten it, or tick “publish as a thread”."
    ),
    "post.part_too_long": N_(
        "Part {part} of the thread is {length} characters long as {network} counts them, "
        "{over} too many (at most {limit}; {note}): shorten it, or tick “publish as a thread”."
    ),
    "post.too_long_one_post": N_(
        "The text is {length} characters long as {network} counts them, {over} too many (at "
        "most {limit}; {note}): {network} has no threads, so shorten it."
    ),
    "post.empty": N_("The text is empty: write the post."),
    "post.not_draft": N_("it is no longer a draft"),
    "post.no_time": N_("it has no time: give it one on its page"),
    "post.time_past": N_(
        "its time is already past: give it a new one on its page, or publish it now"
    ),
    "post.create_time_past": N_(
        "{at} is already past: choose a time to come, or save the post without a time and "
        "publish it now."
    ),
    "post.nothing_to_schedule": N_("Tick the drafts to schedule."),
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
    # posts: their life (created, edited, published, cancelled)
    "post.time_without_zone": N_("The publication time must carry a time zone."),
    "post.no_account": N_("Choose at least one account for the post."),
    "post.unknown": N_("There is no post number {post_id}."),
    "post.being_published": N_("This post is being published right now: try again in a moment."),
    "post.waiting": N_(
        "This post waits before being published again: it stays scheduled and is tried "
        "again after {at} ({error})."
    ),
    "post.credentials_missing": N_(
        "This post is partly published, but the credentials of the account {account} are "
        "missing now: ask an administrator to set them to finish it."
    ),
    "post.claimed": N_(
        "This post is being published by another process (status “{status}”): try again "
        "in a moment."
    ),
    # images chosen in the block editor
    "block.upload_too_big": N_(
        "Block {number}: the image “{name}” weighs over {limit} MB: make it smaller."
    ),
    "block.upload_not_image": N_(
        "Block {number}: “{name}” is not a JPEG, PNG, WEBP or GIF image: convert it, for "
        "example to JPEG."
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
    # the mail transports (outbox, SMTP) and the tracking's files
    "outbox.cannot_open": N_(
        "The outbox {folder}, where messages are written instead of being sent, cannot "
        "be opened ({reason}): ask an administrator to check the settings."
    ),
    "outbox.cannot_write": N_(
        "Nothing can be written to the outbox {folder}, where messages are written "
        "instead of being sent ({reason}): ask an administrator to check the settings "
        "and the disk."
    ),
    "tracking.cannot_read_ranges": N_(
        "The list of Apple's relay addresses {path} cannot be read ({reason}): ask an "
        "administrator to check the settings."
    ),
    "tracking.bad_prefix": N_(
        "The list of Apple's relay addresses {path}, line {line}: “{prefix}” is not an "
        "IP prefix such as 17.0.0.0/8. Ask an administrator to correct it."
    ),
    "smtp.cannot_connect": N_(
        "The mail server {where} cannot be reached ({reason}): try again later, or ask "
        "an administrator to check the settings."
    ),
    "smtp.login_refused": N_(
        "The mail server {where} refused the login of {username} ({reply}): ask an "
        "administrator to check the login and its password."
    ),
    "smtp.login_failed": N_(
        "Logging in to the mail server {where} failed ({reason}): try again later, or "
        "ask an administrator."
    ),
    "smtp.not_plain_address": N_(
        "The address in “{line}” cannot be given to the mail server: it is not a plain address."
    ),
    "smtp.no_password": N_(
        "The mail server's login {username} needs a password, which is not set: ask an "
        "administrator."
    ),
    "smtp.sender_refused": N_(
        "The mail server {where} refuses the sender {sender} ({reply}): ask an "
        "administrator to check the sender addresses in the settings, then send again."
    ),
    "smtp.broke_twice": N_(
        "the mail server {where} closed the connection while this message was being "
        "sent, twice in a row: it is tried again later"
    ),
    "smtp.no_reply": N_(
        "no reply from the mail server {where} within {seconds} seconds after the "
        "message was sent: it may have been delivered"
    ),
    "smtp.too_many_breaks": N_(
        "The mail server {where} cut off or stopped answering {count} sends in a row, "
        "none accepted between them: the messages not sent are kept to send. Try again "
        "later."
    ),
    "smtp.interrupted": N_(
        "interrupted before the mail server's reply to the message: it may have been delivered"
    ),
    # social accounts, the coverage of a newsletter's audience, the demo
    "account.missing": N_(
        "Credentials missing ({variables}): the account publishes in test mode, nothing is sent."
    ),
    "account.not_checked": N_("Not checked with the network."),
    "account.accepted": N_("Accepted by {network}: @{username}"),
    "account.other_user": N_(
        "These credentials are those of @{username}, not @{handle}: posts would go to "
        "@{username}. Ask an administrator to generate the access token while logged in "
        "as @{handle}."
    ),
    "coverage.events_over": N_(
        "Events of the selection already over, left out of the letter: {count}."
    ),
    "coverage.group_without_events": N_("{name}: no event for {readers} readers; they get {what}."),
    "coverage.unknown_regions": N_(
        "{readers} readers have a region missing from the list of regions: "
        "{shown}{more}. No event can match it, so they get {what}."
    ),
    "demo.no_calendar": N_(
        "The demo's calendar cannot be found (looked for {looked}): ask an administrator "
        "to reinstall campaign."
    ),
    "demo.no_samples": N_(
        "The demo's sample files cannot be found (looked in {looked}): ask an "
        "administrator to reinstall campaign."
    ),
    # signing messages (DKIM)
    "dkim.not_installed": N_(
        "Signing messages (DKIM) needs a component that is not installed: ask an administrator."
    ),
    "dkim.bad_key": N_(
        "The key that signs messages (DKIM) is not a valid key ({reason}): ask an "
        "administrator to replace it."
    ),
    "dkim.key_too_short": N_(
        "The key that signs messages (DKIM) is too short ({bits} bits, at least {min} "
        "needed): ask an administrator to replace it."
    ),
    "dkim.no_selector": N_(
        "Signing messages (DKIM) needs a selector and a domain in the settings: ask an "
        "administrator."
    ),
    "dkim.cannot_read_key": N_(
        "The key that signs messages (DKIM), {path}, cannot be read ({reason}): ask an "
        "administrator."
    ),
    "dkim.failed": N_("Signing the message (DKIM) failed ({reason}): ask an administrator."),
    # addresses written into messages
    "mail.invalid_address_because": N_("“{address}” is not a valid email address ({reason})."),
    "mail.sender_unwritable": N_(
        "The sender's {header} address cannot be written in a message: {reason}"
    ),
}


LABELS: dict[str, dict[str, str]] = {
    # The consent log's actions and methods (campaign.models.ConsentAction, the ``method``
    # of each line), bounce kinds (BounceKind) and dashboard roles (Role), as the team reads them.
    "consent_action": {
        "subscribed": N_("subscribed"),
        "confirmed": N_("confirmed their subscription"),
        "updated": N_("details changed"),
        "unsubscribed": N_("unsubscribed"),
        "resubscribed": N_("subscribed again"),
        "bounced": N_("address in error"),
        "complained": N_("complained (spam)"),
        "erased": N_("data erased"),
    },
    "consent_method": {
        "admin": N_("by an administrator, on the dashboard"),
        "manual": N_("by hand"),
        "cli": N_("from the command line"),
        "import": N_("file import"),
        "form": N_("subscription form"),
        "link": N_("link in an email"),
        "mailto": N_("email to the unsubscribe address"),
        "bounce": N_("bounce report"),
        "complaint": N_("complaint report"),
    },
    "bounce_kind": {
        "hard": N_("permanent failure"),
        "soft": N_("temporary failure"),
        "complaint": N_("complaint (spam)"),
        "unreadable": N_("unreadable message"),
        "unsubscribe": N_("unsubscribe request"),
    },
    "status": {  # newsletters, posts, deliveries and subscribers
        "draft": N_("draft"),
        "scheduled": N_("scheduled"),
        "sending": N_("being sent"),
        "paused": N_("paused"),
        "sent": N_("sent"),
        "cancelled": N_("cancelled"),
        "missed": N_("missed"),
        "publishing": N_("being published"),
        "published": N_("published"),
        "failed": N_("failed"),
        "pending": N_("waiting"),
        "deferred": N_("deferred"),
        "bounced": N_("address in error"),
        "left_out": N_("left out (no event)"),
        "active": N_("active"),
        "unsubscribed": N_("unsubscribed"),
        "complained": N_("complained"),
        "recurring": N_("recurring task"),
    },
    "role": {
        "admin": N_("administrator"),
        "editor": N_("editor"),
        "viewer": N_("read only"),
    },
}


# How each network counts, in the sentence refusing a text too long for it.
COUNTING = {
    "x": ("X", N_("a link counts 23, an emoji 2")),
    "mastodon": ("Mastodon", N_("a link counts 23, an emoji 1")),
    "bluesky": ("Bluesky", N_("a link counts in full, an emoji 1")),
    "linkedin": ("LinkedIn", N_("a link counts in full, an emoji 1 or 2")),
}


def label(kind: str, value: str, language: str = "fr") -> str:
    """The word for a stored value (``label("role", "editor")``); an unknown value as it is."""
    text = LABELS.get(kind, {}).get(str(value))
    return gettext_in(language, text) if text else str(value)


def _value(value: Any, language: str, zone: tzinfo | None) -> Any:
    if isinstance(value, datetime):
        day = formatting.long_date(value, zone, locale=language, with_year=False)
        return f"{day}, {formatting.time_of_day(value, zone, locale=language)}"
    if isinstance(value, date):
        return formatting.long_date(value, locale=language)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return formatting.format_number(value, language)
    return value


def word(message: Message, language: str = "fr", zone: tzinfo | None = None) -> str:
    """The pages' sentence for ``message`` in ``language`` (times read in ``zone``)."""
    template = SENTENCES.get(message.code)
    if template is None:  # a code without a sentence: a bug the catalogue test catches
        return str(message)
    values = {name: _value(value, language, zone) for name, value in message.values.items()}
    if message.code in ("post.too_long", "post.part_too_long", "post.too_long_one_post"):
        name, note = COUNTING.get(message.values.get("network", "x"), COUNTING["x"])
        values.update(network=name, note=gettext_in(language, note))
    if message.code == "import.bad_join_dates":
        values["shown"] = ", ".join(
            gettext_in(language, N_("row {row} ({text})")).format(row=number, text=text)
            for number, text in message.values["shown"]
        )
    if message.code == "import.unknown_regions":
        values["shown"] = ", ".join(f"{name} ({count})" for name, count in message.values["shown"])
    if message.code.startswith("check.") and "region" in message.values:
        values["where"] = f" ({message.values['region']})" if message.values["region"] else ""
    if message.code == "newsletter.checks_failed":
        values["problems"] = " ".join(
            word_any(problem, language, zone) for _level, problem in message.values["problems"]
        )
    if message.code == "planner.shortened":
        values["details"] = "; ".join(message.values["details"])
    if "status" in message.values:
        values["status"] = label("status", message.values["status"], language)
    if message.code.startswith("coverage."):
        values.update(_coverage_values(message, language))
    for name in ("id", "post_id", "row", "part", "line"):  # numbers naming things, as they are
        if name in message.values:
            values[name] = message.values[name]
    return gettext_in(language, template).format(**values)


# What readers without events get (``WhenNoEvents``, or ``nothing``: no event anywhere).
COVERAGE_WHAT = {
    "national": N_("the events of every region instead"),
    "nearest": N_("the events of the nearest regions instead (else of every region)"),
    "text": N_("the newsletter's own text in place of the events"),
    "skip": N_("no newsletter: they are left out"),
    "nothing": N_("an empty events section (no event anywhere)"),
}


def _coverage_values(message: Message, language: str) -> dict[str, Any]:
    """The audience groups, regions and choices of a coverage finding, in ``language``."""
    given, found = message.values, {}
    if "what" in given:
        found["what"] = gettext_in(language, COVERAGE_WHAT[given["what"]])
    if "region" in given:
        name = N_("Readers without a region") if given["regional"] else N_("All readers")
        found["name"] = given["region"] or gettext_in(language, name)
    if "shown" in given:
        found["shown"] = ", ".join(f"{region} ({count})" for region, count in given["shown"])
        more = gettext_in(language, N_(", and {count} more")).format(count=given["more"])
        found["more"] = more if given["more"] else ""
    return found


def word_any(item: Message | str, language: str = "fr", zone: tzinfo | None = None) -> str:
    """A message in the pages' words; a plain sentence (not yet a message) as it is."""
    return item if isinstance(item, str) else word(item, language, zone)
