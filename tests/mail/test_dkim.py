"""DKIM signing verified by dkimpy against the test key's public record (no DNS)."""

from __future__ import annotations

import sys
from pathlib import Path

import dkim
import pytest

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.mail import OutgoingMessage, open_transport
from campaign.mail.dkim import DkimSigner
from campaign.mail.mime import Composer

HERE = Path(__file__).parent
KEY = HERE / "dkim-test.key"  # a 2048-bit key made for these tests only
PUBLIC = (HERE / "dkim-test.pub").read_text().strip()


def dns(name: bytes, timeout: int = 5) -> bytes:
    assert name == b"campaign._domainkey.example.org."
    return b"v=DKIM1; k=rsa; p=" + PUBLIC.encode()


MESSAGE = OutgoingMessage(
    from_address="lemois@example.org",
    from_name="Le Mois de l'ESS",
    to="lea@example.org",
    to_name="Léa Dupré",
    subject="Évènements de novembre",
    text="Bonjour Léa,\n.\nÀ bientôt.",
    html="<p>Bonjour Léa</p>",
    headers={
        "List-Unsubscribe": "<https://lemois-ess.org/u/abc>, <mailto:lemois@example.org>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    message_id="<d1.n1@example.org>",
)


def _signer() -> DkimSigner:
    settings = Settings()
    settings.mail.dkim.key_file = str(KEY)
    signer = DkimSigner.from_settings(settings)
    assert signer is not None
    return signer


def test_a_signed_message_verifies_and_covers_the_unsubscribe_headers() -> None:
    data = Composer(_signer()).compose(MESSAGE)
    assert data.startswith(b"DKIM-Signature:")
    assert dkim.verify(data, dnsfunc=dns)
    signature = data.split(b"\r\n\r\n", 1)[0].split(b"DKIM-Signature:", 1)[1]
    signed = signature.split(b"h=", 1)[1].split(b";", 1)[0].replace(b"\r\n", b"")
    assert [name.strip() for name in signed.split(b":")] == [
        b"from", b"subject", b"date", b"to", b"message-id", b"reply-to", b"mime-version",
        b"content-type", b"list-id", b"list-unsubscribe", b"list-unsubscribe-post",
        b"from", b"subject", b"to", b"date", b"reply-to",
    ]  # fmt: skip
    assert b"d=example.org" in signature and b"s=campaign" in signature


def test_a_changed_header_breaks_the_signature() -> None:
    data = Composer(_signer()).compose(MESSAGE)
    tampered = data.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"X-Other: 1")
    assert not dkim.verify(tampered, dnsfunc=dns)
    other_body = data.replace(b"Bonjour L=C3=A9a,", b"Bonjour Paul,")
    assert other_body != data and not dkim.verify(other_body, dnsfunc=dns)


# Tamperings a receiver must notice (RFC 6376 §8.15), shared with the independent verifier's
# tests (test_dkim_verifier.py).
TAMPERINGS = {
    "subject": lambda data: b"Subject: Gagnez un iPhone\r\n" + data,  # a second Subject on top
    "from": lambda data: b"From: Banque <alerte@banque.example>\r\n" + data,  # a second From
    "to": lambda data: b"To: someone@else.example\r\n" + data,
    "date": lambda data: b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" + data,
    "reply-to": lambda data: b"Reply-To: pirate@evil.example\r\n" + data,  # a second Reply-To
    "content-type": lambda data: data.replace(
        b"Content-Type: multipart/alternative;", b"Content-Type: text/plain;X-:", 1
    ),
    "mime-version": lambda data: data.replace(b"MIME-Version: 1.0", b"MIME-Version: 2.0", 1),
}


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_headers_added_on_top_or_changed_break_the_signature(tamper) -> None:
    """RFC 6376 §8.15: without over-signing, a second Subject or From added above the signed
    ones, an added Reply-To or a changed Content-Type still verified."""
    data = Composer(_signer()).compose(MESSAGE)
    assert dkim.verify(data, dnsfunc=dns)
    signature, _, rest = data.partition(b"\r\nFrom:")
    tampered = signature + b"\r\n" + tamper(b"From:" + rest)
    assert tampered != data
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_the_outbox_writes_signed_messages_when_a_key_is_set(tmp_path: Path) -> None:
    settings = Settings()
    settings.mail.outbox_dir = str(tmp_path / "box")
    settings.mail.dkim.key_file = str(KEY)
    transport = open_transport(settings)
    (result,) = transport.send([MESSAGE])
    transport.close()
    written = Path(result.where).read_bytes()
    data = written.split(b"\n", 1)[1].replace(b"\n", b"\r\n")  # after Return-Path, as sent
    assert dkim.verify(data, dnsfunc=dns)


def test_keys_that_cannot_be_used_are_refused_clearly(tmp_path: Path) -> None:
    settings = Settings()
    settings.mail.dkim.key_file = str(tmp_path / "missing.key")
    with pytest.raises(CampaignError, match=r"Cannot read the DKIM key .*missing\.key"):
        DkimSigner.from_settings(settings)
    (tmp_path / "bad.key").write_text("not a key")
    settings.mail.dkim.key_file = str(tmp_path / "bad.key")
    with pytest.raises(CampaignError, match="is not a PEM RSA private key"):
        DkimSigner.from_settings(settings)
    assert DkimSigner.from_settings(Settings()) is None  # no key file: no signing


def test_without_dkimpy_a_configured_key_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # dkimpy is the dkim extra: a None entry makes `import dkim` fail as if it were absent.
    monkeypatch.setitem(sys.modules, "dkim", None)
    monkeypatch.setitem(sys.modules, "dkim.crypto", None)
    settings = Settings()
    settings.mail.dkim.key_file = str(KEY)
    with pytest.raises(CampaignError, match=r"needs dkimpy.*campaign\[dkim\]"):
        DkimSigner.from_settings(settings)
    assert DkimSigner.from_settings(Settings()) is None  # no key: dkimpy is never needed
