"""Is this installation ready to send? Every check an administrator would otherwise do by hand.

Mail that reaches inboxes needs more than a working program: a relay that accepts the login, a
public https address for the links, DNS records (SPF, DKIM, DMARC) that match the keys and
servers, social credentials that still work, templates that render. Each check returns a
:class:`Check` — a status, a code and the values it found — and never words a sentence: the
door (``campaign doctor``) words it. Nothing is sent and nothing is changed.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from campaign.config import Settings, mask_url
from campaign.errors import CampaignError

Status = Literal["ok", "warning", "error", "skipped"]
HTTP_TIMEOUT = 5.0
DNS_TIMEOUT = 5.0


@dataclass
class Check:
    """One verdict: ``name`` is what was checked, ``code`` what was found, ``values`` its
    details (addresses, records, reasons) for the door to word."""

    name: str
    status: Status
    code: str
    values: dict[str, Any] = field(default_factory=dict)


TxtLookup = Callable[[str], list[str] | None]
"""The TXT records at a name; None when the name has no TXT record; raises LookupError when
DNS cannot be asked."""


def dns_lookup(server: str | None = None) -> TxtLookup:
    """TXT lookups through the system's resolver, or through ``server`` ("HOST" or "HOST:PORT")."""
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=server is None)
    if server:
        host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
        resolver.nameservers = [host or server]
        resolver.port = int(port) if port else 53
    resolver.lifetime = DNS_TIMEOUT

    def lookup(name: str) -> list[str] | None:
        try:
            answer = resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        except dns.exception.DNSException as exc:
            raise LookupError(str(exc) or type(exc).__name__) from None
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]

    return lookup


def check_settings(settings: Settings) -> Check:
    if not settings.source:
        return Check("settings", "ok", "settings.defaults")
    return Check("settings", "ok", "settings.read", {"source": settings.source})


def check_database(settings: Settings) -> Check:
    """Reachable, and its schema this version's (without migrating it: the doctor changes
    nothing)."""
    from sqlalchemy.exc import SQLAlchemyError

    from campaign.db import (
        current_revisions,
        database_error,
        describe,
        head_revisions,
        known_revisions,
        make_engine,
    )

    url = settings.database.url
    values: dict[str, Any] = {"database": describe(url)}
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not sqlite_file.exists():  # opening it would create it
        return Check("database", "warning", "database.empty", values)
    try:
        engine = make_engine(url)
    except CampaignError as exc:
        return Check("database", "error", "database.unusable", {**values, "reason": str(exc)})
    try:
        current = current_revisions(engine)
    except SQLAlchemyError as exc:
        known = database_error(exc, url)
        reason = str(known) if known else type(exc).__name__
        return Check("database", "error", "database.unreachable", {**values, "reason": reason})
    finally:
        engine.dispose()
    heads = head_revisions()
    if not current:
        return Check("database", "warning", "database.empty", values)
    if current - known_revisions():
        return Check("database", "error", "database.newer", {**values, "schema": sorted(current)})
    if current != heads:
        return Check("database", "warning", "database.behind", values)
    return Check("database", "ok", "database.current", values)


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_public_url(settings: Settings) -> Check:
    """https on a public host (required to send over SMTP), and the service answering
    ``/healthz`` there."""
    from campaign.tracking.links import public_url_problem

    url = settings.web.public_url.rstrip("/")
    values: dict[str, Any] = {"url": mask_url(url)}
    problem = public_url_problem(url)
    if problem and not settings.web.allow_insecure_links:  # else a test service, on purpose
        smtp = settings.mail.transport == "smtp" and not settings.web.allow_insecure_links
        return Check(
            "public_url", "error" if smtp else "warning", "public_url.not_public",
            {**values, "problem": problem},
        )  # fmt: skip
    request = urllib.request.Request(f"{url}/healthz")
    token = settings.secret(settings.web.operations_token_env)
    if token:  # /healthz answers through a proxy only with the operations token
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check(
            "public_url", "error", "public_url.unreachable", {**values, "reason": str(reason)}
        )
    if status == 404 and not token:  # the service answers, but keeps /healthz to itself
        return Check("public_url", "warning", "public_url.healthz_hidden", values)
    if status != 200:
        return Check("public_url", "error", "public_url.unhealthy", {**values, "answer": status})
    return Check("public_url", "ok", "public_url.healthy", values)


def check_relay(settings: Settings) -> Check:
    """The relay accepts a session as a send opens it (EHLO, STARTTLS, login); no message."""
    smtp = settings.mail.smtp
    values: dict[str, Any] = {"relay": f"{smtp.host}:{smtp.port}", "security": smtp.security}
    if settings.mail.transport != "smtp":
        return Check("smtp", "skipped", "smtp.outbox", {"folder": settings.mail.outbox_dir})
    from campaign.mail.smtp import try_relay
    from campaign.mail.transport import TransportError

    try:
        try_relay(smtp)
    except TransportError as exc:
        return Check("smtp", "error", "smtp.refused", {**values, "reason": str(exc)})
    return Check("smtp", "ok", "smtp.accepted", {**values, "username": smtp.username})


def _severity(settings: Settings) -> Status:
    """A missing DNS record fails the check when mail goes out over SMTP; with the outbox
    nothing is sent yet, so it is a warning."""
    return "error" if settings.mail.transport == "smtp" else "warning"


def sending_domain(settings: Settings) -> str:
    """The domain SPF is checked for: the envelope sender's (VERP domain, else From)."""
    return (
        settings.mail.return_path_domain or settings.mail.from_address.rpartition("@")[2]
    ).lower()


def _records(lookup: TxtLookup, name: str, prefix: str) -> list[str] | None:
    found = lookup(name)
    if found is None:
        return None
    return [r for r in found if r.lower().replace(" ", "").startswith(prefix.lower())]


def check_spf(settings: Settings, lookup: TxtLookup) -> Check:
    domain = sending_domain(settings)
    values: dict[str, Any] = {"domain": domain}
    try:
        records = _records(lookup, domain, "v=spf1")
    except LookupError as exc:
        return Check("spf", "warning", "dns.unanswered", {**values, "reason": str(exc)})
    if not records:
        return Check("spf", _severity(settings), "spf.missing", values)
    if len(records) > 1:  # RFC 7208 §4.5: a permanent error, as if there were none
        return Check("spf", "error", "spf.several", {**values, "records": records})
    record = records[0]
    if not record.rstrip().endswith(("-all", "~all")):
        return Check("spf", "warning", "spf.open", {**values, "record": record})
    return Check("spf", "ok", "spf.found", {**values, "record": record})


def _public_numbers(key: bytes) -> tuple[int, int]:
    from dkim.crypto import parse_public_key

    parsed = parse_public_key(key)
    return parsed["modulus"], parsed["publicExponent"]


def check_dkim(settings: Settings, lookup: TxtLookup) -> Check:
    """The selector's public key in DNS is the one of ``[mail.dkim] key_file``."""
    config = settings.mail.dkim
    if not config.key_file:
        return Check("dkim", "skipped", "dkim.at_relay")
    try:
        from dkim.crypto import UnparsableKeyError, parse_pem_private_key
    except ImportError:  # dkimpy is the dkim extra
        return Check("dkim", "error", "dkim.no_library", {"key_file": config.key_file})

    domain = (config.domain or settings.mail.from_address.rpartition("@")[2]).lower()
    name = f"{config.selector}._domainkey.{domain}"
    values: dict[str, Any] = {"name": name, "key_file": config.key_file}
    try:
        private = parse_pem_private_key(Path(config.key_file).read_bytes())
    except OSError as exc:
        return Check("dkim", "error", "dkim.key_unreadable", {**values, "reason": exc.strerror})
    except (UnparsableKeyError, ValueError, IndexError):
        return Check("dkim", "error", "dkim.key_invalid", values)
    try:
        records = _records(lookup, name, "v=DKIM1")
        records = records or [r for r in (lookup(name) or []) if "p=" in r]
    except LookupError as exc:
        return Check("dkim", "warning", "dns.unanswered", {**values, "reason": str(exc)})
    if not records:
        return Check("dkim", _severity(settings), "dkim.missing", values)
    return _dkim_record_check(records[0], private, values)


def _dkim_record_check(record: str, private: dict[str, Any], values: dict[str, Any]) -> Check:
    """Whether the published DKIM ``record`` holds the public half of the ``private`` key."""
    tags = dict(part.strip().split("=", 1) for part in record.split(";") if "=" in part.strip())
    try:
        published = _public_numbers(base64.b64decode("".join(tags.get("p", "").split())))
    except Exception:  # dkimpy raises several kinds for a damaged key
        return Check("dkim", "error", "dkim.record_invalid", values)
    if published != (private["modulus"], private["publicExponent"]):
        return Check("dkim", "error", "dkim.mismatch", values)
    return Check("dkim", "ok", "dkim.matches", values)


def check_dmarc(settings: Settings, lookup: TxtLookup) -> Check:
    domain = settings.mail.from_address.rpartition("@")[2].lower()
    values: dict[str, Any] = {"name": f"_dmarc.{domain}"}
    try:
        records = _records(lookup, f"_dmarc.{domain}", "v=DMARC1")
    except LookupError as exc:
        return Check("dmarc", "warning", "dns.unanswered", {**values, "reason": str(exc)})
    if not records:
        return Check("dmarc", "warning", "dmarc.missing", values)
    tags = dict(part.strip().split("=", 1) for part in records[0].split(";") if "=" in part.strip())
    policy = tags.get("p", "").strip().lower()
    values.update(record=records[0], policy=policy)
    if policy not in ("none", "quarantine", "reject"):
        return Check("dmarc", "error", "dmarc.invalid", values)
    return Check("dmarc", "ok", "dmarc.found", values)


def check_accounts(settings: Settings, *, offline: bool = False) -> Iterator[Check]:
    from campaign.social.accounts import check_accounts as account_checks

    for account in account_checks(settings, offline=offline):
        name = f"account {account.name}"
        values = {"network": account.network, "handle": account.handle}
        if account.token:  # LinkedIn: the token ends within 7 days, or has ended
            status: Status = "error" if account.token == "expired" else "warning"
            code = "account.token_expired" if account.token == "expired" else "account.token_soon"
            yield Check(f"{name} token", status, code, {**values, "expires": account.token_expires})
        if account.missing:
            yield Check(name, "warning", "account.dry_run", {**values, "missing": account.missing})
        elif account.ok is None:
            yield Check(name, "skipped", "account.offline", values)
        elif account.ok:
            yield Check(name, "ok", "account.accepted", values)
        else:
            yield Check(name, "error", "account.refused", {**values, "reason": str(account.detail)})


def check_templates(settings: Settings) -> Iterator[Check]:
    """Each newsletter template renders (Jinja, MJML) with a letter of one event."""
    from datetime import UTC, datetime, timedelta

    from campaign.models import Event
    from campaign.newsletters.render import RenderError, newsletter_folder, render_group

    start = datetime.now(UTC) + timedelta(days=1)
    event = Event(
        id=1, source_id="doctor", title="Évènement", starts_at=start,
        ends_at=start + timedelta(hours=2), region="Bretagne", city="Rennes",
        url="https://example.org/e/1",
    )  # fmt: skip
    context = {
        "title": "Vérification",
        "subject": "Vérification",
        "events": [event],
        "paragraphs": ["Texte."],
        "action_url": "https://example.org/",
        "deadline": start,
        "nominees": [],
    }
    for template in sorted(p.parent.name for p in newsletter_folder().glob("*/email.mjml.j2")):
        try:
            render_group(template, context, settings)
        except (RenderError, CampaignError) as exc:
            yield Check(f"template {template}", "error", "template.broken", {"reason": str(exc)})
        else:
            yield Check(f"template {template}", "ok", "template.renders", {})


def run_checks(
    settings: Settings, *, lookup: TxtLookup | None = None, offline: bool = False
) -> list[Check]:
    """Every check, in the order an administrator fixes things."""
    lookup = lookup or dns_lookup()
    checks = [check_settings(settings), check_database(settings), check_public_url(settings)]
    checks.append(check_relay(settings))
    checks += [check_spf(settings, lookup), check_dkim(settings, lookup)]
    checks.append(check_dmarc(settings, lookup))
    checks += list(check_accounts(settings, offline=offline))
    checks += list(check_templates(settings))
    return checks


def as_json(checks: list[Check]) -> str:
    return json.dumps(
        [{"check": c.name, "status": c.status, "code": c.code, **c.values} for c in checks],
        ensure_ascii=False,
        indent=2,
    )
