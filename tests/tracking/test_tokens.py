"""Signed tokens: round trips, and every kind of tampering refused."""

from __future__ import annotations

import pytest

from campaign.config import load_settings
from campaign.tracking.tokens import OLD_KEYS_ENV, Signer, signer_for

KEY = "k" * 40


def test_a_token_gives_back_its_ids_for_its_kind_only() -> None:
    signer = Signer([KEY])
    token = signer.sign("click", 123456, 7)
    assert signer.verify(token, "click") == (123456, 7)
    assert signer.verify(token, "click", count=2) == (123456, 7)
    assert signer.verify(token, "click", count=1) is None
    assert signer.verify(token, "open") is None
    assert signer.verify(token, "unsubscribe") is None


def test_tokens_are_compact_and_url_safe() -> None:
    token = Signer([KEY]).sign("click", 2_000_000, 250)
    assert len(token) <= 24
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("ids", [(0,), (1, 2, 3), (2**40, 0), (127, 128, 16383, 16384)])
def test_round_trip_of_varied_ids(ids: tuple[int, ...]) -> None:
    signer = Signer([KEY])
    assert signer.verify(signer.sign("open", *ids), "open") == ids
    assert signer.verify_address(signer.sign_address("bounce", *ids), "bounce") == ids


def test_forged_altered_and_truncated_tokens_are_refused() -> None:
    signer = Signer([KEY])
    token = signer.sign("open", 42)
    assert token[0] != "+"
    forged = Signer(["another key" * 4]).sign("open", 42)
    assert signer.verify(forged, "open") is None
    for position in range(len(token)):
        replacement = "A" if token[position] != "A" else "B"
        altered = token[:position] + replacement + token[position + 1 :]
        assert signer.verify(altered, "open") is None, altered
    for length in range(len(token)):
        assert signer.verify(token[:length], "open") is None
    assert signer.verify(token + "A", "open") is None
    for junk in ["", "!!!!", "%00", "a" * 500, "é" * 30, token + "==", "+" + token[1:]]:
        assert signer.verify(junk, "open") is None, junk
    # Another spelling of the same bytes (non-zero unused low bits in the last character).
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for other in last:
        variant = token[:-1] + other
        if variant != token:
            assert signer.verify(variant, "open") is None, variant


def test_another_delivery_id_cannot_be_spliced_into_a_token() -> None:
    signer = Signer([KEY])
    mine, theirs = signer.sign("unsubscribe", 1), signer.sign("unsubscribe", 2)
    spliced = mine[:16] + theirs[16:]
    assert signer.verify(spliced, "unsubscribe") is None


def test_address_tokens_survive_a_change_of_case() -> None:
    signer = Signer([KEY])
    token = signer.sign_address("bounce", 987, 3)
    assert token == token.lower() and token.isalnum()
    assert signer.verify_address(token.upper(), "bounce") == (987, 3)
    assert signer.verify_address(token, "open") is None


def test_retired_keys_still_verify_but_never_sign() -> None:
    old = Signer(["old key " * 5])
    token = old.sign("click", 5, 1)
    rotated = Signer([KEY, "old key " * 5])
    assert rotated.verify(token, "click") == (5, 1)
    assert rotated.sign("click", 5, 1) == Signer([KEY]).sign("click", 5, 1)
    assert Signer([KEY]).verify(token, "click") is None


def test_the_signer_of_the_settings_uses_the_environment_keys(
    workdir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPAIGN_SECRET_KEY", KEY)
    monkeypatch.setenv(OLD_KEYS_ENV, "retired-key-" + "r" * 30 + ", ")
    signer = signer_for(load_settings())
    retired = Signer(["retired-key-" + "r" * 30]).sign("view", 9)
    assert signer.verify(retired, "view") == (9,)
    assert Signer([KEY]).verify(signer.sign("view", 9), "view") == (9,)


@pytest.mark.parametrize("key", [KEY, "é" * 70, "x", "k" * 64, "k" * 65])
def test_the_mac_is_hmac_sha256_truncated(key: str) -> None:
    """The keyed-once MAC is RFC 2104's HMAC-SHA256 for short, long and block-sized keys."""
    import hmac

    from campaign.tracking.tokens import MAC_BYTES, _pack, _unb64

    signer = Signer([key])
    token = signer.sign("click", 5, 300)
    raw = _unb64(token)
    assert raw is not None
    expected = hmac.digest(key.encode(), b"click\0" + _pack((5, 300)), "sha256")[:MAC_BYTES]
    assert raw[:MAC_BYTES] == expected


def test_signing_several_tokens_at_once_gives_the_same_tokens() -> None:
    from campaign.tracking.tokens import pack

    signer = Signer([KEY])
    rests = [(7, 9), (300, 1), (0, 2**33)]
    together = signer.sign_each("click", 123456, [pack(rest) for rest in rests])
    assert together == [signer.sign("click", 123456, *rest) for rest in rests]
    assert [signer.verify(token, "click") for token in together] == [
        (123456, *rest) for rest in rests
    ]
