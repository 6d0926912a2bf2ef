"""Who the newsletters come from: name, address, reply-to and postal address.

The config file gives them (``[mail]``); an admin may change them in the dashboard, which stores
them in the database (:class:`~campaign.models.StoredSetting`), and a stored value wins over the
file's. Everything that writes a message or its footer takes them through :func:`with_sender`,
so a change made in the dashboard applies to the next send without a restart.

Before a real send (SMTP, not the local outbox) :func:`placeholder_problems` refuses the sample
identity the product ships with: an address at a reserved example domain (``example.org``…) or
the sample postal address, which would go out to thousands of readers otherwise. Each problem
carries a code and the field it concerns; each door words it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from campaign.addresses import InvalidEmail, sender_address
from campaign.errors import CampaignError
from campaign.models import StoredSetting, utcnow
from campaign.taxonomy import fold

if TYPE_CHECKING:
    from campaign.config import MailSettings, Settings

FIELDS = ("from_name", "from_address", "reply_to", "postal_address")
_PREFIX = "mail."
MAX_LENGTHS = {"from_name": 200, "from_address": 320, "reply_to": 320, "postal_address": 300}

# RFC 2606 / 6761: domains that exist only for examples and tests.
EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")
RESERVED_TLDS = ("example", "test", "invalid", "localhost")
SAMPLE_POSTAL_ADDRESS = "CNCRESS, 00 rue de l'Exemple, 75000 Paris"  # config.example.toml's
_SAMPLE_STREET = fold("00 rue de l'Exemple")


@dataclass(frozen=True)
class Stored:
    value: str
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class SenderIdentity:
    """The identity in force; ``stored``: the fields the database sets (else the file's)."""

    from_name: str
    from_address: str
    reply_to: str
    postal_address: str
    stored: dict[str, Stored] = field(default_factory=dict)

    def source(self, name: str) -> str:
        """ "database" or "file": where the value of ``name`` comes from."""
        return "database" if name in self.stored else "file"


class SenderRefused(CampaignError):
    """A sender identity that cannot be stored or sent from; ``code`` and ``field`` say why
    and which field (``values``: what the message names), for each door to word."""

    def __init__(self, message: str, *, code: str, field: str, **values: Any) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.values = values


def stored_sender(session: Session) -> dict[str, Stored]:
    keys = [_PREFIX + name for name in FIELDS]
    rows = session.exec(select(StoredSetting).where(StoredSetting.key.in_(keys))).all()  # type: ignore[attr-defined]
    return {
        row.key.removeprefix(_PREFIX): Stored(row.value, row.updated_at, row.updated_by)
        for row in rows
    }


def sender_identity(session: Session, settings: Settings) -> SenderIdentity:
    """The file's ``[mail]`` identity with the database's values over it."""
    stored = stored_sender(session)
    values = {name: getattr(settings.mail, name) for name in FIELDS}
    values.update({name: item.value for name, item in stored.items()})
    return SenderIdentity(**values, stored=stored)


def with_sender(session: Session, settings: Settings) -> Settings:
    """``settings`` with the identity in force in ``[mail]`` (the same object when the
    database sets nothing, a copy otherwise: the settings given are never changed)."""
    stored = stored_sender(session)
    if not stored:
        return settings
    mail = settings.mail.model_copy(update={name: item.value for name, item in stored.items()})
    return settings.model_copy(update={"mail": mail})


def check_identity(values: dict[str, str]) -> dict[str, str]:
    """The values cleaned, or :class:`SenderRefused` for the first one that cannot be used."""
    cleaned: dict[str, str] = {}
    for name, value in values.items():
        if name not in FIELDS:
            raise SenderRefused(f"{name!r} is not a sender field.", code="unknown", field=name)
        value = " ".join(value.split())
        if len(value) > MAX_LENGTHS[name]:
            raise SenderRefused(
                f"The {name} is longer than {MAX_LENGTHS[name]} characters.",
                code="too_long",
                field=name,
                limit=MAX_LENGTHS[name],
            )
        if name in ("from_address", "reply_to") and value:
            try:
                value = sender_address(value)
            except InvalidEmail as exc:
                raise SenderRefused(
                    f"The {name} {value!r} is not a valid address ({str(exc).rstrip('.')}).",
                    code="invalid_address",
                    field=name,
                    address=value,
                ) from None
        if not value and name != "reply_to":
            raise SenderRefused(f"The {name} cannot be empty.", code="empty", field=name)
        cleaned[name] = value
    return cleaned


def save_sender(session: Session, values: dict[str, str], *, actor: str) -> dict[str, str]:
    """Store these fields over the file's (checked first, nothing stored if one is refused);
    the values stored."""
    cleaned = check_identity(values)
    now = utcnow()
    for name, value in cleaned.items():
        row = session.get(StoredSetting, _PREFIX + name)
        if row is None:
            row = StoredSetting(key=_PREFIX + name)
        row.value, row.updated_at, row.updated_by = value, now, actor[:200]
        session.add(row)
    session.flush()
    return cleaned


def forget_sender(session: Session, names: tuple[str, ...] = FIELDS) -> None:
    """Back to the config file's values for these fields."""
    for name in names:
        row = session.get(StoredSetting, _PREFIX + name)
        if row is not None:
            session.delete(row)
    session.flush()


def is_example_domain(address: str) -> bool:
    domain = address.rpartition("@")[2].strip().lower().rstrip(".")
    if not domain:
        return False
    if any(domain == d or domain.endswith("." + d) for d in EXAMPLE_DOMAINS):
        return True
    return domain.rpartition(".")[2] in RESERVED_TLDS


def is_sample_postal_address(text: str) -> bool:
    folded = fold(text)
    return folded == fold(SAMPLE_POSTAL_ADDRESS) or _SAMPLE_STREET in folded


@dataclass(frozen=True)
class Problem:
    code: str  # "example_domain" or "sample_postal_address"
    field: str  # "from_address", "reply_to", "postal_address"
    value: str
    newsletter: bool = False  # the value is the newsletter's own (its from address)


def placeholder_problems(mail: MailSettings, newsletter_from: str = "") -> list[Problem]:
    """What in this identity is still the shipped sample (``mail``: the ``[mail]`` settings
    with the identity in force; ``newsletter_from``: a newsletter's own from address)."""
    problems = []
    address = newsletter_from or mail.from_address
    if is_example_domain(address):
        problems.append(Problem("example_domain", "from_address", address, bool(newsletter_from)))
    if mail.reply_to and is_example_domain(mail.reply_to):
        problems.append(Problem("example_domain", "reply_to", mail.reply_to))
    if is_sample_postal_address(mail.postal_address):
        problems.append(Problem("sample_postal_address", "postal_address", mail.postal_address))
    return problems


def refuse_placeholders(mail: MailSettings, what: str, newsletter_from: str = "") -> None:
    """:class:`SenderRefused` for the first placeholder of the identity (``what``: the thing
    refused, e.g. "Newsletter 4", to start the message)."""
    for problem in placeholder_problems(mail, newsletter_from):
        if problem.code == "example_domain":
            whose = "its own" if problem.newsletter else "the sender's"
            message = (
                f"{what} cannot be sent over SMTP: {whose} {problem.field.replace('_', ' ')} "
                f"{problem.value!r} is at an example domain, which only the local outbox may "
                "use. Give the real sender address, then send it again."
            )
        else:
            message = (
                f"{what} cannot be sent over SMTP: the postal address {problem.value!r} is the "
                "sample one shipped with the product. Give the real postal address of the "
                "sender, then send it again."
            )
        raise SenderRefused(
            message,
            code=problem.code,
            field=problem.field,
            value=problem.value,
            newsletter=problem.newsletter,
        )


def check_real_send(session: Session, settings: Settings, newsletter_from: str, what: str) -> None:
    """Before a newsletter is planned or sent: over SMTP, :class:`SenderRefused` for the sample
    identity (the identity in force: stored, else the file's); the outbox takes anything."""
    if settings.mail.transport != "smtp":
        return
    refuse_placeholders(with_sender(session, settings).mail, what, newsletter_from)


class CurrentSender:
    """The ``[mail]`` settings with the identity in force, read again at most every ``ttl``
    seconds: for the public pages' footer and the confirmation emails, which the web service
    renders many times and should not query the database for each."""

    def __init__(self, settings: Settings, engine: Engine | None, ttl: float = 30.0) -> None:
        self.settings = settings
        self.engine = engine
        self.ttl = ttl
        self._lock = threading.Lock()
        self._mail: MailSettings | None = None
        self._read_at = 0.0

    def mail(self) -> MailSettings:
        if self.engine is None:
            return self.settings.mail
        now = time.monotonic()
        with self._lock:
            if self._mail is not None and now - self._read_at < self.ttl:
                return self._mail
        with Session(self.engine) as session:
            mail = with_sender(session, self.settings).mail
        with self._lock:
            self._mail, self._read_at = mail, now
        return mail
