"""The command line's words for the messages of the mail transports (outbox, SMTP), the
tracking's files, DKIM and the addresses written into messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign.wording import CliShape

SENTENCES: dict[str, str] = {
    "mail.invalid_address": "{address!r} is not a valid email address.",
    "mail.insecure_public_url": (
        "{what} cannot be sent over SMTP: [web] public_url {url!r} {problem}, so recipients "
        "could not open its links, the one-click unsubscribe included (RFC 8058 requires "
        "https). Set [web] public_url to the web service's public https address, or [web] "
        "allow_insecure_links = true to send to a test relay on purpose."
    ),
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


def _key_file(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    values["where"] = given["where"] or "the DKIM key"


SHAPES: dict[str, CliShape] = {"dkim.bad_key": _key_file, "dkim.key_too_short": _key_file}
