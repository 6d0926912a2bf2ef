"""The command line's words for the messages of the newsletters: their fields, blocks, pre-send
checks, template manifests, previews, deliveries not sent and the coverage of their audience."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign.wording import CliShape

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
    "newsletter.unknown": "No newsletter number {id}; `campaign newsletters list` shows them.",
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
        "Newsletter {id} is paused; `campaign newsletters resume {id}` carries on sending."
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
        "Newsletter {id} is {status}, not sending; `campaign newsletters send {id}` starts a "
        "draft, `campaign newsletters resume {id}` a paused one."
    ),
    "newsletter.not_schedulable": (
        "Newsletter {id} is {status}; only a draft, scheduled or missed newsletter can be "
        "scheduled."
    ),
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
    # what may be done to a newsletter or a post, by its status (the stages' allowed.py)
    "newsletter.not_sendable": (
        "Newsletter {id} is {status}; only a draft, scheduled or missed newsletter can be sent now."
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
    # images chosen in the block editor
    "block.upload_too_big": "{where}: {name!r} is over {limit} MB.",
    "block.upload_not_image": "{where}: {name!r} is not a JPEG, PNG, WEBP or GIF image.",
    # the coverage of a newsletter's audience
    "coverage.events_over": (
        "{events} of the selection {verb} already over and left out of the letter."
    ),
    "coverage.group_without_events": "{name}: 0 events, {readers}; they get {what}.",
    "coverage.unknown_regions": (
        "{readers} {verb} a region the taxonomy does not know: {shown}{more}; no event "
        "can match it, so they get {what}."
    ),
}


def _block(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    number, kind = given["number"], given["kind"]
    values["where"] = f"Block {number} ({kind})" if kind else f"Block {number}"


def _check(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    if "region" in given:
        region = given["region"]
        values["where"] = f" in {region}" if region else ""


def _problems(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    values["problems"] = "\n".join(f"  {level}: {problem}" for level, problem in given["problems"])


def _plural(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _events_over(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    values.update(events=_plural(given["count"], "event"), verb=_BE[given["count"] == 1])


def _group_without_events(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    region = given["region"]
    name = region or ("Readers without a region" if given["regional"] else "All readers")
    values.update(name=name, readers=_plural(given["readers"], "reader"))
    values["what"] = COVERAGE_WHAT[given["what"]]


def _unknown_regions(given: Mapping[str, Any], values: dict[str, Any]) -> None:
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

SHAPES: dict[str, CliShape] = {
    "block.": _block,
    "check.": _check,
    "newsletter.checks_failed": _problems,
    "coverage.events_over": _events_over,
    "coverage.group_without_events": _group_without_events,
    "coverage.unknown_regions": _unknown_regions,
}
