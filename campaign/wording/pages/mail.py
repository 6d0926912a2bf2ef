"""The pages' words for the messages of the mail transports (outbox, SMTP), the tracking's
files, DKIM and the addresses written into messages."""

from __future__ import annotations

from campaign.i18n import N_
from campaign.wording import PageShape

SENTENCES: dict[str, str] = {
    "mail.invalid_address": N_(
        "“{address}” is not an email address: write a whole address, such as anne@example.org."
    ),
    "mail.insecure_public_url": N_(
        "Nothing can be sent by email yet: the address of the public web service ({url}) "
        "cannot be opened by recipients, so neither could the links of the message (the "
        "unsubscribe link included). Ask an administrator to set the service's public https "
        "address in the settings."
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

SHAPES: dict[str, PageShape] = {}
