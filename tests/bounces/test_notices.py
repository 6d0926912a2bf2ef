"""Reading real-world bounce notices: what failed, for whom, and the clues to the delivery."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.bounces import read_notice
from campaign.models import BounceKind

SAMPLES = Path(__file__).parent / "samples"


def _read(name: str):
    return read_notice((SAMPLES / name).read_bytes())


def test_postfix_user_unknown() -> None:
    notice = _read("postfix-user-unknown.eml")
    assert notice.kind == "dsn"
    assert notice.notice_id == "<20161114081231.4F3B21C0A2@mail.example.org>"
    (failure,) = notice.failures
    assert (failure.email, failure.kind, failure.status, failure.action) == (
        "nobody@example.com", BounceKind.hard, "5.1.1", "failed",
    )  # fmt: skip
    assert failure.diagnostic.startswith("550 5.1.1 <nobody@example.com>: Recipient address")
    assert "User unknown in virtual mailbox table" in failure.diagnostic
    assert failure.address_is_dead
    assert "bounces+mavxruv2fhycypjy4xqqc@example.org" in notice.addresses
    assert notice.message_ids == ["<hhm2pxwvpksiwnmevjfacai@example.org>"]


def test_gmail_disabled_account_without_verp() -> None:
    notice = _read("gmail-disabled-account.eml")
    assert notice.kind == "dsn"
    (failure,) = notice.failures
    assert (failure.email, failure.status, failure.kind) == (
        "lea.martin@gmail.com", "5.2.1", BounceKind.hard,
    )  # fmt: skip
    assert "The email account that you tried to reach is disabled" in failure.diagnostic
    assert failure.address_is_dead
    assert not any("+" in address for address in notice.addresses)
    assert notice.message_ids == ["<fjolehc3sff2yhp3ajnqeai@example.org>"]


def test_exim_delay_warning_is_transient() -> None:
    notice = _read("exim-delayed.eml")
    (failure,) = notice.failures
    assert (failure.email, failure.kind, failure.action, failure.status) == (
        "paul@example.net", BounceKind.soft, "delayed", "4.0.0",
    )  # fmt: skip
    assert failure.diagnostic == "452 4.2.2 Mailbox full"
    assert not failure.address_is_dead


def test_arf_abuse_report_is_a_complaint() -> None:
    notice = _read("arf-abuse-complaint.eml")
    assert notice.kind == "arf"
    (failure,) = notice.failures
    assert (failure.email, failure.kind, failure.action) == (
        "camille@example-isp.fr", BounceKind.complaint, "abuse",
    )  # fmt: skip
    assert "bounces+y6ise6ghjemljenazukqi@example.org" in notice.addresses  # Original-Mail-From
    assert notice.message_ids == ["<xwzqefgqsgchho2zmpqqiai@example.org>"]


def test_a_non_standard_bounce_is_read_by_flufl_bounce() -> None:
    notice = _read("qmail-nonstandard.eml")
    assert notice.kind == "heuristic"
    (failure,) = notice.failures
    assert (failure.email, failure.kind, failure.status) == (
        "marc@old-domain.fr", BounceKind.hard, "5.1.1",
    )  # fmt: skip
    assert "no mailbox here by that name" in failure.diagnostic
    assert notice.notice_id.startswith("sha256:")  # qmail gave it no Message-ID


def test_a_reply_is_not_a_bounce_even_when_it_quotes_our_message_id() -> None:
    notice = _read("not-a-bounce.eml")
    assert (notice.kind, notice.failures) == ("none", [])
    assert notice.note == "not a bounce or complaint report"
    assert notice.message_ids == []  # In-Reply-To and quoted text are not returned headers


@pytest.mark.parametrize(
    ("status", "diagnostic", "dead"),
    [
        ("5.1.1", "", True),
        ("5.0.0", "550 5.1.1 User unknown", True),  # Exim's generic status, precise reply
        ("5.2.1", "", True),
        ("5.7.1", "554 5.7.1 Message rejected as spam", False),
        ("5.0.0", "550 5.7.1 Blocked by policy", False),
        ("5.3.4", "Message too big", False),
        ("5.2.2", "Mailbox full", False),
        ("", "", True),  # a non-standard permanent failure with no code: the address
    ],
)
def test_which_permanent_failures_blame_the_address(status, diagnostic, dead) -> None:
    from campaign.bounces import Failure

    assert (
        Failure("x@example.org", BounceKind.hard, status, "failed", diagnostic).address_is_dead
        is dead
    )
