"""The command line's words for the stages' messages: English, naming the flags to use.

``SENTENCES[code]`` is a :meth:`str.format` template over the message's values, plus ``flag``:
the option that sets the message's field (``FLAGS``). Behaviour is the CLI's as it always was:
these are the sentences the stages used to build themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from campaign.wording import plain_values

if TYPE_CHECKING:  # the type only: messages word themselves with this catalogue
    from campaign.messages import Message

FLAGS = {
    "title": "--title",
    "subject": "--subject",
    "segment": "--segment",
    "content": "--set",
    "lists": "--list",
    "template": "--template",
    "events.from": "--events-from",
    "events.to": "--events-to",
    "events.max": "--events-max",
    "events.order": "--events-order",
    "events.regions": "--events-region",
    "events.themes": "--events-theme",
    "from": "--from",
    "to": "--to",
    "times": "--times",
    "per_day": "--per-day",
    "split": "--split",
}
"""The CLI option that sets each field of the domain."""

SENTENCES: dict[str, str] = {
    # newsletters
    "newsletter.events_end_before_start": (
        "--events-to ({end}) is before --events-from ({start})."
    ),
    "newsletter.events_max_too_small": "--events-max must be at least 1.",
    "newsletter.unknown_order": "Unknown event order {order!r}; use one of {known}.",
    "newsletter.reader_region_mixed": (
        "--events-region subscriber (each reader's own region) cannot be combined with named "
        "regions; give one or the other."
    ),
    "newsletter.unknown_region": "Unknown region {name!r}. Known: {known}.",
    "newsletter.unknown_theme": "Unknown daily theme {name!r}. Known: {known}.",
    "newsletter.bad_pair": "{flag}: {pair!r} is not KEY=VALUE (e.g. region=Bretagne).",
    "newsletter.unknown_when_no_events": (
        "Unknown choice {choice!r} for readers without events; use one of {known}."
    ),
    "newsletter.no_events_text_empty": (
        "Readers without events are to get a text of their own, but the text is empty: write "
        "it, or choose national, nearest or skip."
    ),
    "newsletter.no_events_text_too_long": (
        "The text for readers without events has {length} characters; keep it under {limit}."
    ),
    "newsletter.unknown_template": "Unknown template {name!r} (templates in {folder}: {known}).",
    "newsletter.no_list": "A newsletter needs at least one list: give --list NAME.",
    "newsletter.empty_text": "{flag} cannot be empty.",
    "newsletter.unknown": "No newsletter number {id}; `campaign newsletter list` shows them.",
    "newsletter.not_editable": (
        "Newsletter {id} is {status}; only a draft, scheduled or paused newsletter can be edited."
    ),
    "newsletter.not_cancelled": (
        "Newsletter {id} is {status}; only a cancelled newsletter can go back to draft."
    ),
    "newsletter.sent_before_cancel": (
        "Newsletter {id} was sent to some recipients before it was cancelled; it stays "
        "cancelled (copy it into a new newsletter instead)."
    ),
    # newsletter blocks
    "block.empty": "{where}, {key!r}: is empty: write it, or remove the block.",
    "block.too_long": "{where}, {key!r}: has {length} characters; keep it under {max}.",
    "block.not_url": "{where}, {key!r}: {value!r} is not a web address starting with https://.",
    "block.no_alt": "{where}, {key!r}: describe the image for people who cannot see it.",
    "block.alt_too_long": "{where}, {key!r}: keep the description under {max} characters.",
    "block.not_media_image": "{where}, {key!r}: {file!r} is not an image of the media folder.",
    "block.no_image": "{where}, 'path': give the image's file.",
    "block.width_not_number": "{where}, {key!r}: {value!r} is not a number of pixels.",
    "block.width_range": "{where}, {key!r}: give between {min} and {max} pixels.",
    "block.not_a_date": "{where}, {key!r}: {value!r} is not a date such as 2016-11-07.",
    "block.max_not_number": "{where}, {key!r}: {value!r} is not a whole number.",
    # dashboard forms
    "form.not_a_day": "{flag}: {text!r} is not a date.",
    "form.not_a_moment": "{flag}: {text!r} is not a date and time.",
    "newsletter.bad_own_sender": (
        "Newsletter {id} cannot be sent: its from address {address!r} is not a valid sender "
        "address ({reason}); give newsletter {id} a valid from address (pause it first if it is "
        "sending), then send it again."
    ),
    "newsletter.bad_setting_sender": (
        "Newsletter {id} cannot be sent: [mail] {setting} {address!r} is not a valid sender "
        "address ({reason}); fix the setting, then send it again."
    ),
    "newsletter.bad_bounce_address": (
        "Newsletter {id} cannot be sent: its bounce address {address!r} is not valid "
        "({reason}); fix [mail] {setting} or return_path_domain, then send it again."
    ),
    "newsletter.bad_unsubscribe_address": (
        "Newsletter {id} cannot be sent: its unsubscribe address {address!r} is not valid "
        "({reason}); fix [mail] {setting} or return_path_domain, then send it again."
    ),
    "newsletter.send_paused": (
        "Newsletter {id} is paused; `campaign newsletter resume {id}` carries on sending."
    ),
    "newsletter.send_cancelled": "Newsletter {id} was cancelled; it cannot be sent.",
    "newsletter.cannot_be_paused": (
        "Newsletter {id} is {status}; only a {allowed} newsletter can be paused."
    ),
    "newsletter.cannot_be_resumed": (
        "Newsletter {id} is {status}; only a {allowed} newsletter can be resumed."
    ),
    "newsletter.cannot_be_cancelled": (
        "Newsletter {id} is {status}; only a {allowed} newsletter can be cancelled."
    ),
    "newsletter.not_sending": (
        "Newsletter {id} is {status}, not sending; `campaign newsletter send {id}` starts a "
        "draft, `campaign newsletter resume {id}` a paused one."
    ),
    "newsletter.not_schedulable": (
        "Newsletter {id} is {status}; only a draft, scheduled or missed newsletter can be "
        "scheduled."
    ),
    "schedule.time_past": "{at} ({zone}) is already past: give a time to come.",
    "report.unknown_newsletter": (
        "No newsletter {id}; `campaign newsletter list` shows their numbers."
    ),
    "report.not_sent": (
        "Newsletter {id} has not been sent (it is {status}); reports cover sent newsletters."
    ),
    "mail.invalid_address": "{address!r} is not a valid email address.",
    "newsletter.checks_failed": "Newsletter {id} cannot be sent as it is:\n{problems}",
    # pre-send checks
    "check.no_events": (
        "{template}: the template lists events but this selection has none (check the date, "
        "region or theme filters)."
    ),
    "check.invalid_mjml": (
        "{template}: invalid MJML at line {line}, column {column} of the rendered MJML: {what}. "
        "Near: {near!r}"
    ),
    "check.too_heavy": (
        "{template}: the HTML weighs {kilobytes} KB; Gmail clips messages over about 100 KB, "
        "hiding the end (and the unsubscribe link). Feature fewer events."
    ),
    "check.no_unsubscribe_html": (
        '{template}: the HTML part has no unsubscribe link; add <a href="[[ '
        'recipient.unsubscribe_url ]]"> (the shared footer has one).'
    ),
    "check.no_unsubscribe_text": (
        "{template}: the text part has no unsubscribe link; add [[ recipient.unsubscribe_url ]] "
        "(the shared text footer has one)."
    ),
    "check.image_without_alt": (
        "{template}: image {src!r} has no alt text (shown when images are blocked)."
    ),
    "check.bad_link": (
        "{template}: link {url!r} is not an http(s) or mailto link; mail clients would not open "
        "it (or it is unsafe). Fix the URL in the event or template."
    ),
    "check.readers_left_out": (
        "No event for these readers{where}: this newsletter is not sent to them (readers "
        "without events are left out)."
    ),
    "check.no_event_to_come": (
        "{template}: no event still to come matches this newsletter's selection{where} (check "
        "the dates, regions, themes)."
    ),
    # images of posts
    "image.missing": "{label}: {path} does not exist (or is not a file).",
    "image.not_a_picture": (
        "{label}: {name} is not a JPEG, PNG, WEBP or GIF image (X takes only those): convert "
        "it, e.g. to JPEG."
    ),
    "image.too_big": (
        "{label}: {name} is {size}; X takes at most {limit} for a {kind} image: make it smaller."
    ),
    "image.upload_too_big": (
        "Image {name!r}: over {limit}, the most {network_name} takes for a {kind} image: make it "
        "smaller."
    ),
    "image.no_alt": ("{label}: give a description of {name} (--alt) for people who cannot see it."),
    "image.alt_too_long": (
        "{label}: the description of {name} is {length} characters long; X takes at most "
        "{limit}: shorten it by {over}."
    ),
    "image.not_kept": (
        "Cannot copy {name} into the media folder {folder} ([dashboard] media_dir): {reason}."
    ),
    "post.template_value_missing": (
        "Post template {name!r} needs a value it was not given ({detail})."
    ),
    "mail.insecure_public_url": (
        "{what} cannot be sent over SMTP: [web] public_url {url!r} {problem}, so recipients "
        "could not open its links, the one-click unsubscribe included (RFC 8058 requires "
        "https). Set [web] public_url to the web service's public https address, or [web] "
        "allow_insecure_links = true to send to a test relay on purpose."
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
    # what may be done to a newsletter or a post, by its status (the stages' allowed.py)
    "newsletter.not_sendable": (
        "Newsletter {id} is {status}; only a draft, scheduled or missed newsletter can be sent now."
    ),
    "post.cannot_move": "{post} is {status}: it can no longer be given a new time.",
    "post.cannot_edit": "{post} is {status}: only posts not yet published can be edited.",
    "post.cannot_schedule": (
        "{post} is {status}: only a draft can be scheduled (give it a new time with "
        "`campaign post edit {post_id} --at …`, or cancel it)."
    ),
    "post.cannot_publish": "{post} is {status}: it cannot be published.",
    "post.cannot_cancel": (
        "{post} is {status}: it cannot be cancelled (delete it on the network if it must go)."
    ),
    "post.partly_published": (
        "{post} is {status} (partly published): only posts not yet published can be edited."
    ),
    "post.waiting_for_network": (
        "{post} is partly published and waits for the network's reset: it goes on by itself "
        "then (cancel it to stop it)."
    ),
    # lists
    "list.unknown": (
        "No list named {name!r} (existing lists: {names}). Create it with: campaign lists "
        "create {name!r}"
    ),
    "list.ambiguous": (
        "Several lists are called {name!r} when case and accents are ignored ({quoted}): merge "
        "them with: campaign lists merge {second!r} {first!r}"
    ),
    "list.no_name": "A list needs a name.",
    "list.name_too_long": "A list's name has at most {max} characters.",
    "list.exists": (
        "A list named {name!r} already exists (names are compared without case or "
        "accents): use it, or choose another name than {typed!r}."
    ),
    # template manifests (template.toml): the values given, then the file itself
    "manifest.unknown_field": (
        "The template {template} has no field {key!r}. Its fields: {known}."
    ),
    "manifest.unknown_field_close": (
        "The template {template} has no field {key!r}. Did you mean {close!r}? Its fields: {known}."
    ),
    "manifest.field_required": (
        "The template {template} needs its field {key!r} ({label}): give it a value."
    ),
    "manifest.not_url": (
        "The template {template}'s field {key!r} ({label}) must be a web address starting with "
        "https://, not {value!r}."
    ),
    "manifest.not_date": (
        "The template {template}'s field {key!r} ({label}) must be a date such as 2016-11-18 "
        "or 2016-11-18T23:59, not {value!r}."
    ),
    "manifest.not_choice": (
        "The template {template}'s field {key!r} ({label}) takes one of {choices}, not {value!r}."
    ),
    "manifest.unreadable": "{path}: cannot read the template's manifest: {error}",
    "manifest.fields_not_table": "{path}: [fields] must be a table of [fields.KEY] tables.",
    "manifest.field_not_table": "{path}: fields.{key} must be a table (label, type, …).",
    "manifest.unknown_type": "{path}: fields.{key}: unknown type {type!r}; use one of {known}.",
    "manifest.brand_not_table": (
        "{path}: [brand] must be a table (logo, logo_alt, color, accounts)."
    ),
    "manifest.logo_not_image": (
        "{path}: brand.logo must be an image file of the template folder (logo.png), not {logo!r}."
    ),
    "manifest.logo_missing": "{path}: brand.logo {logo!r} is not in {folder}.",
    "manifest.bad_color": "{path}: brand.color must be a colour such as #c2185b, not {color!r}.",
    "manifest.bad_accounts": "{path}: brand.accounts must be a list of account names.",
    # deliveries not sent (stored as last_reply in these words)
    "delivery.left_out": "not sent: no event for this reader",
    "delivery.person_erased": "not sent: deleted",
    "delivery.person_inactive": "not sent: {status}",
    # previews and tests
    "preview.not_in_audience": (
        "{email} is not in the audience of newsletter {id} (not on its lists, not active, or "
        "outside its segment)."
    ),
    "preview.nobody": (
        "Newsletter {id} has nobody to preview for: its audience is empty (check its lists and "
        "segment, or give --as EMAIL)."
    ),
    "preview.no_test_address": "Give at least one address: --to ADDRESS.",
    # periods (events list, planner)
    "period.end_before_start": "--to ({end}) is before --from ({start}).",
    # the planner
    "planner.bad_time": (
        "--times: {item!r} is not a time of day; write them like 09:00,12:30,17:30."
    ),
    "planner.no_times": "--times: give at least one time of day, e.g. 09:00,12:30,17:30.",
    "planner.per_day_out_of_range": (
        "--per-day {per_day}: give between 1 and {most} (one post per time of --times; add "
        "times to post more often)."
    ),
    "planner.too_many_days": "Plan at most {days} days at once.",
    "planner.slot_past": "{slot}: already past, no post planned.",
    "planner.slot_taken": "{slot}: post {post_id} is already planned at that time.",
    "planner.theme_exhausted": (
        "{slot}: no event left on the day's theme {theme!r}; another theme is featured."
    ),
    "planner.no_event_left": (
        "{slot}: no event left to feature that day (all featured already, started or over by "
        "then, or none in the catalogue)."
    ),
    "planner.shortened": "Post {post_id} ({event}) shortened to fit: {details}.",
    # LinkedIn
    "linkedin.token_refused": (
        "{label}: LinkedIn refused the LinkedIn access token (401: {reason}). Tokens last 60 "
        "days: make a new one (docs/admin/networks.md), put it in {env} and set the account's "
        "token_expires to its new end day."
    ),
    "linkedin.token_expired": (
        "{label}: the LinkedIn access token expired on {date}. Make a new one "
        "(docs/admin/networks.md), put it in {env} and set the account's token_expires to its "
        "new end day."
    ),
    "linkedin.forbidden": (
        "{label}: LinkedIn refused to {what} (403: {reason}). The token needs the "
        "w_organization_social permission, made by an administrator of the page: make a new one "
        "with it (docs/admin/networks.md)."
    ),
    "linkedin.rate_limited": (
        "{label}: LinkedIn's rate limit was reached while trying to {what}; try again after "
        "{at} UTC."
    ),
    "linkedin.too_large": (
        "{label}: LinkedIn refused to {what} (413): the file is too large; make it smaller."
    ),
    "linkedin.refused": "{label}: LinkedIn refused to {what} ({status}: {reason}).",
    "account.token_expires_soon": (
        "@{handle} ({network}): the access token expires on {date}, in {days} days: make a new "
        "one and set token_expires (docs/admin/networks.md)."
    ),
    "account.token_expired": (
        "@{handle} ({network}): the access token expired on {date}: posts fail until a new one "
        "is set, with token_expires (docs/admin/networks.md)."
    ),
    # posts
    "post.too_long": (
        "{post} is {length} characters long as {network} counts them, {over} too many (at "
        "most {limit}; {note}): shorten it, or use --split to publish it as a thread."
    ),
    "post.part_too_long": (
        "{post}, part {part} of the thread, is {length} characters long as {network} counts "
        "them, {over} too many (at most {limit}; {note}): shorten it, or use --split to "
        "publish it as a thread."
    ),
    "post.too_long_one_post": (
        "{post} is {length} characters long as {network} counts them, {over} too many (at "
        "most {limit}; {note}): {network} has no threads, so shorten it (the parts of a thread "
        "are one post there)."
    ),
    "post.empty": "{post} is empty: give its text.",
    "post.not_draft": "it is {status}, not a draft",
    "post.no_time": "it has no time: give one with `campaign post edit {post_id} --at …`",
    "post.time_past": (
        "its time is already past: give it a new one with `campaign post edit {post_id} --at …`, "
        "or publish it now"
    ),
    "post.create_time_past": (
        "{at} is already past: give a time to come, or create the post without a time and "
        "publish it now (`campaign post publish ID`)."
    ),
    "post.nothing_to_schedule": "Name the posts to schedule, or pass --all-drafts.",
    # imports
    "import.no_email": "no email address",
    "import.invalid_email": "invalid email address: {reason}",
    "import.duplicate": "duplicate of row {row}",
    "import.no_email_column": (
        "{file} has no email column (columns found: {found}). Say which column holds "
        "the addresses, or name it 'email' (or 'courriel', 'e-mail', 'adresse mail'), and "
        "import it again; nothing was imported."
    ),
    "import.no_header_row": (
        "{file} has no email column (columns found: {found}). Say which column holds "
        "the addresses, or name it 'email' (or 'courriel', 'e-mail', 'adresse mail'), and "
        "import it again; nothing was imported. Its first row looks like data: add a row of "
        "column names above it."
    ),
    "import.no_event_id": "no id",
    "import.event_id_too_long": "id longer than {limit} characters",
    "import.no_title": "no title",
    "import.no_start": "no start date",
    "import.bad_starts_at": (
        "start date {text!r} is not a date (write 05/11/2026 14:30 or 2026-11-05T14:30)"
    ),
    "import.bad_ends_at": (
        "end date {text!r} is not a date (write 05/11/2026 14:30 or 2026-11-05T14:30)"
    ),
    "import.ends_before_start": "ends ({end}) before it starts ({start})",
    "import.not_an_event": "not an event object: {text!r}",
    "import.same_event_id": "same id as row {row}",
    "import.suppressed": (
        "{count} {people} in the file had unsubscribed, bounced or complained: they stay so and "
        "were not added to any list (rows {rows}{more})."
    ),
    "import.bad_join_dates": (
        "{rows} have a join date that is not a date, or is in the future or before {earliest}: "
        "{shown}{more}. They were imported without it (write dates as 31/12/2025 or 2025-12-31)."
    ),
    "import.unknown_regions": (
        "{rows} name a region that is not in the list of regions, kept as written: {shown}{more}. "
        "Correct them in the file, or add the region to [events] regions."
    ),
    # posts: their life (created, edited, published, cancelled)
    "post.time_without_zone": "The publication time must carry a time zone.",
    "post.no_account": "Name at least one account for the post.",
    "post.unknown": "No post number {post_id} (see `campaign post list`).",
    "post.being_published": "Post {post_id} is being published right now; try again shortly.",
    "post.waiting": (
        "Post {post_id}: waiting before publishing again; it stays scheduled and is "
        "tried again after {at} ({error})"
    ),
    "post.credentials_missing": (
        "Post {post_id} is partly published on X, but the credentials of account "
        "{account!r} are missing now: set them (`campaign social accounts`) to finish."
    ),
    "post.claimed": "Post {post_id} is being published by another process (status {status}).",
    # images chosen in the block editor
    "block.upload_too_big": "{where}: {name!r} is over {limit} MB.",
    "block.upload_not_image": "{where}: {name!r} is not a JPEG, PNG, WEBP or GIF image.",
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
    # the mail transports (outbox, SMTP) and the tracking's files
    "outbox.cannot_open": "Cannot open the outbox {folder} ([mail] outbox_dir): {reason}.",
    "outbox.cannot_write": "Cannot write to the outbox {folder} ([mail] outbox_dir): {reason}.",
    "tracking.cannot_read_ranges": (
        "Cannot read the Apple relay ranges {path} ([tracking] apple_ranges_file): {reason}."
    ),
    "tracking.bad_prefix": (
        "{path}, line {line}: {prefix!r} is not an IP prefix such as 17.0.0.0/8."
    ),
    "smtp.cannot_connect": (
        "Cannot connect to the SMTP server {where} (security {security}): {reason}."
    ),
    "smtp.login_refused": (
        "The SMTP server {where} refused the login of {username!r} ({reply}); check "
        "[mail.smtp] username and the password in {password_env}."
    ),
    "smtp.login_failed": "Cannot log in to the SMTP server {where}: {reason}.",
    "smtp.not_plain_address": "Cannot write the SMTP command {line!r}: not a plain address.",
    "smtp.no_password": (
        "SMTP login as {username!r} needs a password: set the environment variable "
        "{password_env} ([mail.smtp] password_env)."
    ),
    "smtp.sender_refused": (
        "The SMTP server {where} refuses the sender {sender}: {reply}. Check [mail] "
        "from_address and return_path_domain, then run the send again."
    ),
    "smtp.broke_twice": (
        "the SMTP server {where} closed the connection while this message was being sent "
        "({step}), twice in a row"
    ),
    "smtp.no_reply": (
        "no reply from the SMTP server {where} within {seconds} seconds after the "
        "message was sent ([mail.smtp] timeout); it may have been delivered"
    ),
    "smtp.too_many_breaks": (
        "The SMTP server {where} closed or stopped answering {count} transactions in a "
        "row, with none accepted between them; the messages not sent are left to send: "
        "try again later."
    ),
    "smtp.interrupted": (
        "interrupted before the SMTP server's reply to the message; it may have been delivered"
    ),
    # social accounts, the coverage of a newsletter's audience, the demo
    "account.missing": "missing: {variables}",
    "account.not_checked": "not checked (--offline)",
    "account.accepted": "accepted by {network}: @{username}",
    "account.other_user": (
        "these credentials are those of @{username}, not @{handle}: posts would go to "
        "@{username}. Generate the access token while logged in as @{handle}."
    ),
    "coverage.events_over": (
        "{events} of the selection {verb} already over and left out of the letter."
    ),
    "coverage.group_without_events": "{name}: 0 events, {readers}; they get {what}.",
    "coverage.unknown_regions": (
        "{readers} {verb} a region the taxonomy does not know: {shown}{more}; no event "
        "can match it, so they get {what}."
    ),
    "demo.no_calendar": ("No sample calendar found (looked for {looked}): reinstall the package."),
    "demo.no_samples": (
        "No sample files found (looked in {looked}): pass the folder holding {file} and "
        "the subscriber files, or reinstall the package."
    ),
    # signing messages (DKIM)
    "dkim.not_installed": (
        "DKIM signing ([mail.dkim] key_file) needs dkimpy, which is not installed: "
        "install campaign with its dkim extra (campaign[dkim]), or let the relay sign."
    ),
    "dkim.bad_key": (
        "{where} is not a PEM RSA private key ({reason}); make one with `openssl genrsa "
        "-out dkim.key 2048`."
    ),
    "dkim.key_too_short": ("{where} is a {bits}-bit RSA key; DKIM keys need at least {min} bits."),
    "dkim.no_selector": "DKIM signing needs [mail.dkim] selector and a domain.",
    "dkim.cannot_read_key": "Cannot read the DKIM key {path} ([mail.dkim] key_file): {reason}.",
    "dkim.failed": "DKIM signing failed: {reason}.",
    # addresses written into messages
    "mail.invalid_address_because": "{address!r} is not a valid email address ({reason}).",
    "mail.sender_unwritable": "The {header} address cannot be written in a message: {reason}",
}


# How each network counts, in the message refusing a text too long for it.
_COUNTING = {
    "x": ("X", "a link counts 23, an emoji 2"),
    "mastodon": ("Mastodon", "a link counts 23, an emoji 1"),
    "bluesky": ("Bluesky", "a link counts in full, an emoji 1"),
    "linkedin": ("LinkedIn", "a link counts in full, an emoji 1 or 2"),
}


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def word(message: Message) -> str:
    """The CLI's sentence for ``message`` (a code without one is shown as it is: a bug)."""
    template = SENTENCES.get(message.code)
    values: dict[str, Any] = plain_values(message.values)
    if template is None:
        return f"{message.code} {values}" if values else message.code
    values.setdefault("flag", FLAGS.get(message.field, message.field))
    if "post_id" in message.values and "post" not in values:
        post_id = message.values["post_id"]
        account = message.values.get("account")
        values["post"] = (
            f"Post {post_id}" if post_id else f"The post for {account}" if account else "The post"
        )
    if message.code in ("post.too_long", "post.part_too_long", "post.too_long_one_post"):
        name, note = _COUNTING.get(message.values.get("network", "x"), _COUNTING["x"])
        values.update(network=name, note=note)
    if message.code.startswith("block."):
        number, kind = message.values["number"], message.values["kind"]
        values["where"] = f"Block {number} ({kind})" if kind else f"Block {number}"
    if message.code == "import.bad_join_dates":
        values["rows"] = _rows(message.values["count"])
        values["shown"] = ", ".join(
            f"row {number} ({text!r})" for number, text in message.values["shown"]
        )
    if message.code == "import.unknown_regions":
        values["rows"] = _rows(values["rows"])
        values["shown"] = ", ".join(
            f"{name!r} ({_rows(count)})" for name, count in message.values["shown"]
        )
        others = message.values.get("others", 0)
        values["more"] = f" and {_rows(others)} with other spellings" if others else ""
    if message.code.startswith("planner.") and "slot" in message.values:
        values["slot"] = f"{message.values['slot']:%d/%m %H:%M}"
    if message.code == "schedule.time_past":
        moment = message.values["at"]
        values.update(at=f"{moment:%d/%m/%Y %H:%M}", zone=moment.tzname())
    if "region" in message.values and message.code.startswith("check."):
        region = message.values["region"]
        values["where"] = f" in {region}" if region else ""
    if message.code == "newsletter.checks_failed":
        values["problems"] = "\n".join(
            f"  {level}: {problem}" for level, problem in message.values["problems"]
        )
    if message.code == "list.ambiguous":
        names = message.values["names"]
        values.update(quoted=", ".join(repr(n) for n in names), first=names[0], second=names[1])
    if message.code in ("import.no_email_column", "import.no_header_row"):
        found = message.values["found"]
        values["found"] = ", ".join(repr(h) for h in found) if isinstance(found, list) else found
    if message.code == "import.suppressed":
        values["people"] = "person" if message.values["count"] == 1 else "people"
    if message.code == "planner.shortened":
        values["details"] = "; ".join(message.values["details"])
    _more_values(message, values)
    return template.format(**values)


def _plural(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _more_values(message: Message, values: dict[str, Any]) -> None:
    """The values of the posts', reports', coverage's and demo's sentences worded the CLI's way."""
    given = message.values
    if message.code == "post.not_editable":
        values["partly"] = " (partly published)" if given.get("partly") else ""
    elif message.code == "post.waiting":
        values["at"] = f"{given['at']:%d/%m/%Y %H:%M:%S}"
    elif message.code == "report.unknown_language":
        values["known"] = " or ".join(given["known"])
    elif message.code in ("dkim.bad_key", "dkim.key_too_short"):
        values["where"] = given["where"] or "the DKIM key"
    elif message.code == "demo.no_calendar":
        values["looked"] = " and ".join(given["looked"])
    elif message.code == "coverage.events_over":
        values.update(events=_plural(given["count"], "event"), verb=_BE[given["count"] == 1])
    elif message.code == "coverage.group_without_events":
        region = given["region"]
        name = region or ("Readers without a region" if given["regional"] else "All readers")
        values.update(name=name, readers=_plural(given["readers"], "reader"))
        values["what"] = COVERAGE_WHAT[given["what"]]
    elif message.code == "coverage.unknown_regions":
        count = given["readers"]
        values.update(readers=_plural(count, "reader"), verb="has" if count == 1 else "have")
        values["shown"] = ", ".join(f"{region!r} ({readers})" for region, readers in given["shown"])
        values["more"] = f" and {given['more']} more" if given["more"] else ""
        values["what"] = COVERAGE_WHAT[given["what"]]


_BE = {True: "is", False: "are"}

COVERAGE_WHAT = {
    "national": "the events of every region instead",
    "nearest": "the events of the nearest regions instead (else of every region)",
    "text": "the newsletter's own text in place of the events",
    "skip": "no newsletter: they are left out",
    "nothing": "an empty events section (no event anywhere)",
}
"""What readers without events get (``WhenNoEvents``, or ``nothing``: no event anywhere)."""
