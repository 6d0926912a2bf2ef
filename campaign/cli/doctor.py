"""``campaign doctor``: every check of :mod:`campaign.doctor`, worded for an administrator."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from campaign import doctor as checks
from campaign.cli import common
from campaign.cli.common import JsonOption, console

# What each code says, then what to do about it (empty when nothing is to be done). Values of
# the check fill the braces.
WORDS: dict[str, tuple[str, str]] = {
    "settings.read": ("read from {source}", ""),
    "settings.defaults": ("built-in defaults (no settings file)", ""),
    "database.current": ("{database}: schema up to date", ""),
    "database.empty": (
        "{database}: no schema yet",
        "run `campaign init` (any command creates it)",
    ),
    "database.behind": (
        "{database}: schema older than this version",
        "any command migrates it; back it up first",
    ),
    "database.newer": (
        "{database}: written by a newer campaign ({schema})",
        "upgrade campaign, or restore a backup made with this version",
    ),
    "database.unreachable": ("{database}: {reason}", "check [database] url and the server"),
    "database.unusable": ("{database}: {reason}", "check [database] url"),
    "public_url.healthy": ("{url} answers /healthz", ""),
    "public_url.not_public": (
        "{url} {problem}",
        "set [web] public_url to the service's public https address",
    ),
    "public_url.unreachable": (
        "{url}/healthz cannot be reached: {reason}",
        "check that `campaign serve` runs behind that address (proxy, DNS, TLS)",
    ),
    "public_url.healthz_hidden": (
        "{url} answers, but /healthz is kept for the machine itself",
        "set the operations token ([web] operations_token_env) to check the service from here",
    ),
    "public_url.unhealthy": (
        "{url}/healthz answers {answer}",
        "read /healthz's reasons and the service's log",
    ),
    "smtp.outbox": ("mail goes to the outbox folder {folder}: nothing to check", ""),
    "smtp.accepted": ("{relay} ({security}) accepts the session", ""),
    "smtp.refused": ("{reason}", "check [mail.smtp] and the relay's password variable"),
    "spf.found": ("{domain}: {record}", ""),
    "spf.missing": (
        "{domain} has no SPF record",
        'publish a TXT record "v=spf1 include:<your relay> -all" at {domain}',
    ),
    "spf.several": (
        "{domain} has several SPF records (receivers then ignore them all)",
        "merge them into one TXT record",
    ),
    "spf.open": (
        "{domain}: {record} does not end with -all or ~all",
        "end the record with -all (or ~all while testing)",
    ),
    "dkim.at_relay": ("no [mail.dkim] key_file: signing is left to the relay", ""),
    "dkim.matches": ("{name} publishes the key of {key_file}", ""),
    "dkim.missing": (
        "{name} has no DKIM record",
        "publish the public key of {key_file} as a TXT record at {name}",
    ),
    "dkim.mismatch": (
        "{name} publishes another key than {key_file}'s",
        "publish the public key of {key_file} (openssl rsa -in KEY -pubout)",
    ),
    "dkim.record_invalid": ("{name}: the record's p= key cannot be read", "publish it again"),
    "dkim.no_library": (
        "{key_file} is set but dkimpy is not installed",
        "install campaign with its dkim extra (campaign[dkim]), or let the relay sign",
    ),
    "dkim.key_unreadable": ("cannot read {key_file}: {reason}", "check [mail.dkim] key_file"),
    "dkim.key_invalid": (
        "{key_file} is no PEM RSA private key",
        "make one with `openssl genrsa -out dkim.key 2048`",
    ),
    "dmarc.found": ("{name}: policy {policy}", ""),
    "dmarc.missing": (
        "{name} has no DMARC record (Gmail and Yahoo require one of bulk senders)",
        'publish "v=DMARC1; p=none; rua=mailto:<a mailbox you read>" at {name}',
    ),
    "dmarc.invalid": (
        "{name}: {record} has no valid p= policy",
        "use p=none, quarantine or reject",
    ),
    "dns.unanswered": ("DNS did not answer: {reason}", "check the machine's DNS, or --dns-server"),
    "account.accepted": ("@{handle} ({network}): credentials accepted", ""),
    "account.dry_run": (
        "@{handle} ({network}): dry run, missing {missing}",
        "set those environment variables to publish for real",
    ),
    "account.offline": ("@{handle} ({network}): not checked (--offline)", ""),
    "account.refused": ("@{handle} ({network}): {reason}", "generate new credentials"),
    "account.token_soon": (
        "@{handle} ({network}): the access token expires on {expires}",
        "make a new token, set it and its new token_expires (docs/admin/networks.md)",
    ),
    "account.token_expired": (
        "@{handle} ({network}): the access token expired on {expires}; posts fail",
        "make a new token, set it and its new token_expires (docs/admin/networks.md)",
    ),
    "template.renders": ("renders", ""),
    "template.broken": ("{reason}", "fix the template"),
}
MARKS = {"ok": "[green]✓[/]", "warning": "[yellow]![/]", "error": "[red]✗[/]", "skipped": "–"}


def word(check: checks.Check) -> tuple[str, str]:
    """The sentence and the action of ``check``."""
    said, action = WORDS[check.code]
    values = {k: ", ".join(v) if isinstance(v, list) else v for k, v in check.values.items()}
    return said.format(**values), action.format(**values)


def doctor(
    json_output: bool = JsonOption,
    offline: bool = typer.Option(
        False, "--offline", help="Do not ask the social networks about their credentials."
    ),
    dns_server: str = typer.Option(
        "", "--dns-server", help="Ask this DNS server (HOST or HOST:PORT) instead of the system's."
    ),
) -> None:
    """Check settings, database, public address, SMTP relay, SPF, DKIM, DMARC, social
    credentials and templates; say what to do about each problem. Sends and changes nothing.

    Exits 1 when a check fails (warnings do not).
    """
    settings = common.settings()
    found = checks.run_checks(
        settings, lookup=checks.dns_lookup(dns_server or None), offline=offline
    )
    if json_output:
        rows = []
        for check in found:
            said, action = word(check)
            row = json.loads(checks.as_json([check]))[0]
            rows.append({**row, "message": said, "action": action})
        common.print_json(rows)
    else:
        table = Table(show_header=True, header_style="bold", show_lines=False)
        for column in ("", "check", "verdict", "what to do"):
            table.add_column(column)
        for check in found:
            said, action = word(check)
            table.add_row(MARKS[check.status], escape(check.name), escape(said), escape(action))
        console.print(table, markup=True)
    if any(check.status == "error" for check in found):
        raise typer.Exit(1)
