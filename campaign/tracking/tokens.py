"""Signed tokens: the compact, tamper-proof ids carried by every per-recipient link and address.

A token names a kind of action ("open", "click", "unsubscribe", "view", "bounce", "confirm"…)
and a few integer ids (a delivery, a link). Its layout is ``MAC + ids``: the ids are packed as
unsigned varints, and the MAC is HMAC-SHA256 over the kind and the packed ids, truncated to 96
bits (forging one is a 2⁻⁹⁶ guess). The kind is not written in the token, only signed: a token
issued for a pixel never opens the unsubscribe page.

Two spellings: base64url for URLs (short), and lower-case base32 for email addresses (VERP
``bounces+TOKEN@domain``), because mail systems may change the case of a local part.

The key is ``CAMPAIGN_SECRET_KEY`` (or the file ``campaign init`` wrote). To rotate it, put the
old key(s) in ``CAMPAIGN_OLD_SECRET_KEYS`` (comma-separated): new tokens are signed with the
current key, and links in newsletters already sent keep working. Verification is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaign.config import Settings

MAC_BYTES = 12
OLD_KEYS_ENV = "CAMPAIGN_OLD_SECRET_KEYS"

# Token kinds of the addresses a message carries, read back by bounce processing.
BOUNCE = "bounce"
"""VERP bounce addresses (see :func:`campaign.newsletters.queue.bounce_address`)."""
MESSAGE_ID = "message-id"
UNSUBSCRIBE_MAIL = "unsubscribe-mail"
"""The mailto address of List-Unsubscribe (see `campaign.newsletters.queue.unsubscribe_address`)."""

_URL_MAC = len(base64.urlsafe_b64encode(b"\0" * MAC_BYTES).rstrip(b"="))  # 16 characters
_ADDRESS_MAC = len(base64.b32encode(b"\0" * MAC_BYTES).rstrip(b"="))  # 20 characters


def _pack(ids: Sequence[int]) -> bytes:
    out = bytearray()
    for number in ids:
        if number < 0:
            raise ValueError("token ids are non-negative integers")
        while True:
            byte = number & 0x7F
            number >>= 7
            if number:
                out.append(byte | 0x80)
            else:
                out.append(byte)
                break
    return bytes(out)


def _unpack(data: bytes) -> tuple[int, ...] | None:
    ids: list[int] = []
    number = shift = 0
    for byte in data:
        number |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            if shift > 63:
                return None
        else:
            ids.append(number)
            number = shift = 0
    return tuple(ids) if shift == 0 else None


def pack(ids: Sequence[int]) -> bytes:
    """The ids as a token writes them (for :meth:`Signer.sign_each`)."""
    return _pack(ids)


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    # Only the canonical spelling: no "+", "/", padding or stray low bits standing in for it.
    return data if _b64(data) == text else None


def _b32(data: bytes) -> str:
    return base64.b32encode(data).rstrip(b"=").decode("ascii").lower()


def _unb32(text: str) -> bytes | None:
    try:
        data = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None
    return data if _b32(data) == text.lower() else None


class _Key:
    """One key's HMAC-SHA256, keyed once: the inner and outer hash states after the padded key.

    Signing is on the per-recipient path (two dozen tokens per message), so each MAC copies
    these two states rather than keying a new ``hmac`` object; the result is HMAC-SHA256 as
    RFC 2104 defines it (a test compares it with :func:`hmac.digest`).
    """

    __slots__ = ("inner", "outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:  # SHA-256's block size: longer keys are hashed first (RFC 2104)
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self.inner = hashlib.sha256(key.translate(_INNER_PAD))
        self.outer = hashlib.sha256(key.translate(_OUTER_PAD))

    def mac(self, message: bytes, inner: Any = None) -> bytes:
        """The truncated MAC of ``message`` (appended to ``inner``, a state already fed a
        prefix, when given)."""
        state = (inner or self.inner).copy()
        state.update(message)
        outer = self.outer.copy()
        outer.update(state.digest())
        return outer.digest()[:MAC_BYTES]


_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))


class Signer:
    """Signs with the first key, accepts any of them (the others are retired keys)."""

    def __init__(self, keys: Sequence[str]) -> None:
        usable = [key.encode("utf-8") for key in keys if key]
        if not usable:
            raise ValueError("a Signer needs at least one key")
        self._keys = [_Key(key) for key in usable]

    def _mac(self, key: _Key, kind: str, packed: bytes) -> bytes:
        return key.mac(kind.encode("ascii") + b"\0" + packed)

    def sign(self, kind: str, *ids: int) -> str:
        """A URL-safe token for ``kind`` and ``ids``."""
        packed = _pack(ids)
        return _b64(self._mac(self._keys[0], kind, packed) + packed)

    def sign_each(self, kind: str, first: int, rests: Sequence[bytes]) -> list[str]:
        """URL tokens for ``kind`` and the ids ``(first, *rest)`` of each packed ``rest``
        (see :func:`pack`): the same tokens as :meth:`sign`, with the MAC state of the common
        prefix computed once (a message's click tokens share their delivery)."""
        key = self._keys[0]
        head = _pack((first,))
        inner = key.inner.copy()
        inner.update(kind.encode("ascii") + b"\0" + head)
        mac = key.mac
        encode = binascii.b2a_base64
        return [
            encode(mac(rest, inner) + head + rest, newline=False)
            .rstrip(b"=")
            .translate(_URLSAFE)
            .decode("ascii")
            for rest in rests
        ]

    def sign_address(self, kind: str, *ids: int) -> str:
        """The same token spelt for an email local part (lower case, letters and digits)."""
        packed = _pack(ids)
        return _b32(self._mac(self._keys[0], kind, packed) + packed)

    def _check(self, kind: str, raw: bytes | None, count: int | None) -> tuple[int, ...] | None:
        if raw is None or len(raw) <= MAC_BYTES:
            return None
        mac, packed = raw[:MAC_BYTES], raw[MAC_BYTES:]
        valid = False
        for key in self._keys:  # every key is tried, so timing does not tell which matched
            valid |= hmac.compare_digest(mac, self._mac(key, kind, packed))
        if not valid:
            return None
        ids = _unpack(packed)
        if ids is None or (count is not None and len(ids) != count):
            return None
        return ids

    def verify(self, token: str, kind: str, count: int | None = None) -> tuple[int, ...] | None:
        """The ids of a URL token of ``kind`` (``count`` of them if given), or None if forged,
        altered, truncated or of another kind."""
        if not token or len(token) > 200 or len(token) <= _URL_MAC:
            return None
        return self._check(kind, _unb64(token), count)

    def verify_address(
        self, token: str, kind: str, count: int | None = None
    ) -> tuple[int, ...] | None:
        """The ids of an address token (see :meth:`sign_address`), or None."""
        if not token or len(token) > 200 or len(token) <= _ADDRESS_MAC:
            return None
        return self._check(kind, _unb32(token), count)


def signer_for(settings: Settings) -> Signer:
    """The signer of these settings: the current key, then the retired ones."""
    from campaign.config import secret_key

    current, _ = secret_key(settings)
    old = [key.strip() for key in os.environ.get(OLD_KEYS_ENV, "").split(",") if key.strip()]
    return Signer([current, *old])
