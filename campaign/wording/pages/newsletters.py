"""The pages' words for the messages of the newsletters: their fields, blocks, pre-send checks,
template manifests, previews, deliveries not sent and the coverage of their audience."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from campaign.i18n import N_, gettext_in
from campaign.wording import PageShape

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
    # what may be done to a newsletter or a post, by its status (the stages' allowed.py)
    "newsletter.not_sendable": N_(
        "This newsletter is {status}: only a draft, scheduled or missed newsletter can be sent now."
    ),
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
    # images chosen in the block editor
    "block.upload_too_big": N_(
        "Block {number}: the image “{name}” weighs over {limit} MB: make it smaller."
    ),
    "block.upload_not_image": N_(
        "Block {number}: “{name}” is not a JPEG, PNG, WEBP or GIF image: convert it, for "
        "example to JPEG."
    ),
    # the coverage of a newsletter's audience
    "coverage.events_over": N_(
        "Events of the selection already over, left out of the letter: {count}."
    ),
    "coverage.group_without_events": N_("{name}: no event for {readers} readers; they get {what}."),
    "coverage.unknown_regions": N_(
        "{readers} readers have a region missing from the list of regions: "
        "{shown}{more}. No event can match it, so they get {what}."
    ),
}


def _check(
    given: Mapping[str, Any], values: dict[str, Any], language: str, zone: tzinfo | None
) -> None:
    if "region" in given:
        values["where"] = f" ({given['region']})" if given["region"] else ""


def _coverage(
    given: Mapping[str, Any], values: dict[str, Any], language: str, zone: tzinfo | None
) -> None:
    """The audience groups, regions and choices of a coverage finding, in ``language``."""
    if "what" in given:
        values["what"] = gettext_in(language, COVERAGE_WHAT[given["what"]])
    if "region" in given:
        name = N_("Readers without a region") if given["regional"] else N_("All readers")
        values["name"] = given["region"] or gettext_in(language, name)
    if "shown" in given:
        values["shown"] = ", ".join(f"{region} ({count})" for region, count in given["shown"])
        more = gettext_in(language, N_(", and {count} more")).format(count=given["more"])
        values["more"] = more if given["more"] else ""


# What readers without events get (``WhenNoEvents``, or ``nothing``: no event anywhere).
COVERAGE_WHAT = {
    "national": N_("the events of every region instead"),
    "nearest": N_("the events of the nearest regions instead (else of every region)"),
    "text": N_("the newsletter's own text in place of the events"),
    "skip": N_("no newsletter: they are left out"),
    "nothing": N_("an empty events section (no event anywhere)"),
}

# newsletter.checks_failed words each problem with the whole catalogue: the dispatcher's.
SHAPES: dict[str, PageShape] = {"check.": _check, "coverage.": _coverage}
