"""Optional DKIM signing of outgoing messages (dkimpy), for a relay that does not sign.

Most setups sign at the relay or MTA (OpenDKIM, the provider's relay): it is the usual choice and
the fastest one, since an RSA signature per message costs more than building the message. When
``[mail.dkim] key_file`` is set, every message is signed here instead, with a 2048-bit (or
larger) RSA key, ``rsa-sha256``, relaxed/simple canonicalisation, over the headers a receiver
and the one-click unsubscribe of RFC 8058 rely on, and the MIME headers that say how to read
the body.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from campaign.errors import CampaignError

if TYPE_CHECKING:
    from campaign.config import Settings

SIGNED_HEADERS = (
    b"from",
    b"subject",
    b"date",
    b"to",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    # Over-signed (RFC 6376 §8.15): each named once more than it appears, so a second From,
    # Subject, To, Date or Reply-To added on top of the message breaks the signature too.
    b"from",
    b"subject",
    b"to",
    b"date",
    b"reply-to",
)
MIN_BITS = 2048


def _dkimpy() -> ModuleType:
    """dkimpy, an optional dependency (the ``dkim`` extra): only signing here needs it."""
    try:
        import dkim
        import dkim.crypto
    except ImportError:
        raise CampaignError.of("dkim.not_installed", "mail.dkim") from None
    return dkim


class DkimSigner:
    """Returns the ``DKIM-Signature:`` header line(s) to put before a message."""

    def __init__(self, key: bytes, *, selector: str, domain: str, where: str = "") -> None:
        crypto = _dkimpy().crypto
        try:
            parsed = crypto.parse_pem_private_key(key)
        except (crypto.UnparsableKeyError, ValueError, IndexError) as exc:
            raise CampaignError.of(
                "dkim.bad_key", "mail.dkim", where=where, reason=str(exc)
            ) from None
        bits = parsed["modulus"].bit_length()
        if bits < MIN_BITS:
            raise CampaignError.of(
                "dkim.key_too_short", "mail.dkim", where=where, bits=bits, min=MIN_BITS
            )
        if not selector or not domain:
            raise CampaignError.of("dkim.no_selector", "mail.dkim")
        self._key = key
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("ascii")

    @classmethod
    def from_settings(cls, settings: Settings) -> DkimSigner | None:
        """The signer of ``[mail.dkim]``, or None when no key file is configured."""
        config = settings.mail.dkim
        if not config.key_file:
            return None
        path = Path(config.key_file)
        try:
            key = path.read_bytes()
        except OSError as exc:
            raise CampaignError.of(
                "dkim.cannot_read_key", "mail.dkim", path=str(path), reason=exc.strerror
            ) from None
        domain = config.domain or settings.mail.from_address.rpartition("@")[2]
        return cls(key, selector=config.selector, domain=domain, where=str(path))

    def __call__(self, message: bytes) -> bytes:
        dkim = _dkimpy()
        try:
            return dkim.sign(
                message,
                self.selector,
                self.domain,
                self._key,
                include_headers=list(SIGNED_HEADERS),
            )
        except dkim.DKIMException as exc:
            raise CampaignError.of("dkim.failed", "mail.dkim", reason=str(exc)) from None
