"""The SMTP transport against a real SMTP server: per-recipient replies, reconnection, login."""

from __future__ import annotations

import email
import email.policy
import itertools
import time

import pytest

from campaign.config import Settings
from campaign.mail import OutgoingMessage, SmtpTransport, TransportError, open_transport


def _settings(port: int, **smtp: object) -> Settings:
    settings = Settings()
    settings.mail.transport = "smtp"
    settings.web.allow_insecure_links = True  # links to 127.0.0.1, to a test relay
    settings.mail.smtp.host = "127.0.0.1"
    settings.mail.smtp.port = port
    settings.mail.smtp.security = "none"
    settings.mail.smtp.connections = 1  # tests of several connections say so
    for key, value in smtp.items():
        setattr(settings.mail.smtp, key, value)
    return settings


def _message(to: str, number: int = 1) -> OutgoingMessage:
    return OutgoingMessage(
        from_address="lemois@example.org",
        from_name="Le Mois de l'ESS",
        to=to,
        subject="Évènements de novembre",
        text="Bonjour,\n.\nÀ bientôt.",
        html="<p>Bonjour</p>",
        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        message_id=f"<d{number}.n1@example.org>",
    )


def test_each_recipient_gets_its_own_result_on_one_connection(smtp_server) -> None:
    relay, port = smtp_server
    relay.bounce.add("nobody@example.org")
    relay.defer_once.add("grey@example.org")
    transport = open_transport(_settings(port))
    assert isinstance(transport, SmtpTransport)
    messages = [
        _message("anne@example.org", 1),
        _message("nobody@example.org", 2),
        _message("grey@example.org", 3),
        _message("oscar@example.org", 4),
    ]
    try:
        ok, bounced, deferred, ok2 = transport.send(messages)
    finally:
        transport.close()
    assert (ok.outcome, ok.ok, ok.message_id) == ("sent", True, "<d1.n1@example.org>")
    assert bounced.outcome == "bounced" and bounced.code == 550
    assert "5.1.1" in bounced.error and "User unknown" in bounced.error
    assert deferred.outcome == "deferred" and deferred.code == 451 and "4.7.1" in deferred.error
    assert ok2.outcome == "sent"
    assert transport.connections_opened == 1
    assert relay.copies() == {"anne@example.org": 1, "oscar@example.org": 1}
    parsed = email.message_from_bytes(relay.delivered[0][2], policy=email.policy.default)
    assert parsed["Message-ID"] == "<d1.n1@example.org>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = parsed.get_body(("plain",)).get_content()
    assert "\n.\r\n" in body or "\n.\n" in body  # dot-stuffing round trip


def test_a_dropped_connection_resends_only_the_unacknowledged_message(smtp_server) -> None:
    relay, port = smtp_server
    relay.hang_up_on_data.add(2)  # the second message's DATA is answered 421
    transport = open_transport(_settings(port))
    try:
        results = transport.send([_message(f"p{n}@example.org", n) for n in range(1, 4)])
    finally:
        transport.close()
    assert [result.outcome for result in results] == ["sent", "sent", "sent"]
    assert relay.copies() == {f"p{n}@example.org": 1 for n in range(1, 4)}
    assert transport.connections_opened == 2


def test_a_message_whose_reply_never_comes_is_deferred_as_maybe_delivered_and_the_rest_go(
    smtp_server,
) -> None:
    relay, port = smtp_server
    relay.stall_on_data.add(2)
    transport = open_transport(_settings(port, connections=2, timeout=0.5))
    try:
        results = transport.send([_message(f"p{n}@example.org", n) for n in range(1, 6)])
    finally:
        transport.close()
    stalled = [result for result in results if not result.ok]
    assert len(stalled) == 1 and stalled[0].outcome == "deferred"
    assert "within 0.5 seconds after the message was sent" in stalled[0].error
    assert "may have been delivered" in stalled[0].error
    sent = {result.to for result in results if result.ok}
    assert len(sent) == 4 and sent == set(relay.copies())  # the others went, once each


def test_a_server_that_stops_answering_altogether_stops_the_send(smtp_server) -> None:
    relay, port = smtp_server
    relay.stall_on_data.update(range(1, 100))
    transport = open_transport(_settings(port, connections=2, timeout=0.3))
    with pytest.raises(TransportError, match=r"stopped answering \d+ transactions in a row"):
        transport.send([_message(f"p{n}@example.org", n) for n in range(1, 40)])
    transport.close()
    assert relay.delivered == []


def test_a_message_that_always_cuts_its_connection_is_deferred_with_the_reason(
    smtp_server,
) -> None:
    relay, port = smtp_server
    relay.cut_on_data.add("p3@example.org")
    transport = open_transport(_settings(port, connections=2))
    try:
        results = transport.send([_message(f"p{n}@example.org", n) for n in range(1, 9)])
    finally:
        transport.close()
    poison = results[2]
    assert (poison.to, poison.outcome) == ("p3@example.org", "deferred")
    assert "closed the connection while this message was being sent (BODY), twice" in (poison.error)
    assert relay.copies() == {f"p{n}@example.org": 1 for n in range(1, 9) if n != 3}


def test_a_stop_reads_the_replies_of_every_message_already_written(smtp_server) -> None:
    """The sender refused mid-send on one connection: the messages the others had written
    are waited for and reported, so the next run does not send them again."""
    relay, port = smtp_server
    relay.data_delay = 0.2  # every connection has its message written when the refusal comes
    relay.refuse_senders_from = 9
    transport = open_transport(_settings(port, connections=4))
    with pytest.raises(TransportError, match="refuses the sender") as caught:
        transport.send([_message(f"p{n}@example.org", n) for n in range(40)])
    transport.close()
    sent = {result.to for result in caught.value.results if result is not None and result.ok}
    assert sent == set(relay.copies()) and len(sent) >= 5  # nothing accepted left unknown
    assert all(r is None or r.ok for r in caught.value.results)  # the rest left to send


def test_results_are_reported_as_they_come_each_once(smtp_server) -> None:
    relay, port = smtp_server
    relay.data_delay = 0.01
    reports: list[tuple[float, list[int]]] = []

    def report(pairs) -> None:  # type: ignore[no-untyped-def]
        reports.append((time.monotonic(), [index for index, _ in pairs]))

    transport = open_transport(_settings(port, connections=2))
    start = time.monotonic()
    try:
        results = transport.send([_message(f"p{n}@example.org", n) for n in range(60)], report)
    finally:
        transport.close()
    reported = sorted(index for _, indices in reports for index in indices)
    assert reported == list(range(60)) and all(result.ok for result in results)
    assert len(reports) > 3  # in groups as they came, not once at the end
    assert reports[0][0] - start < 0.5


def test_a_report_that_fails_stops_the_send_after_the_messages_written(smtp_server) -> None:
    relay, port = smtp_server

    class DatabaseGone(Exception):
        pass

    delivered_then: list[int] = []

    def report(pairs) -> None:  # type: ignore[no-untyped-def]
        delivered_then.append(len(relay.delivered))
        raise DatabaseGone

    transport = open_transport(_settings(port, connections=3))
    with pytest.raises(DatabaseGone):
        transport.send([_message(f"p{n}@example.org", n) for n in range(500)], report)
    transport.close()
    assert len(delivered_then) == 1  # told once: nothing more is reported after a failure
    # No new transaction after the failure: only the messages already written (one per
    # connection at most) could still arrive.
    assert delivered_then[0] <= len(relay.delivered) <= delivered_then[0] + 3 < 500


def test_messages_per_connection_opens_a_new_connection(smtp_server) -> None:
    _relay, port = smtp_server
    transport = open_transport(_settings(port, messages_per_connection=2))
    try:
        transport.send([_message(f"p{n}@example.org", n) for n in range(1, 6)])
    finally:
        transport.close()
    assert transport.connections_opened == 3


def test_login_uses_the_password_from_the_environment(
    smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay, port = smtp_server
    relay.credentials = ("lemois", "s3cret")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    transport = open_transport(
        _settings(port, username="lemois", password_env="TEST_SMTP_PASSWORD", timeout=5)
    )
    try:
        (result,) = transport.send([_message("anne@example.org")])
    finally:
        transport.close()
    assert result.ok


def test_a_refused_login_stops_with_a_clear_message_without_the_password(
    smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay, port = smtp_server
    relay.credentials = ("lemois", "s3cret")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong-password")
    transport = open_transport(
        _settings(port, username="lemois", password_env="TEST_SMTP_PASSWORD", timeout=5)
    )
    with pytest.raises(TransportError) as caught:
        transport.send([_message("anne@example.org")])
    transport.close()
    assert "refused the login of 'lemois'" in str(caught.value)
    assert "wrong-password" not in str(caught.value)
    assert relay.delivered == []


def test_a_missing_password_is_a_clear_message(smtp_server, monkeypatch) -> None:
    _relay, port = smtp_server
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    transport = open_transport(_settings(port, username="x", password_env="NO_SUCH_PASSWORD_VAR"))
    with pytest.raises(TransportError, match="set the environment variable NO_SUCH_PASSWORD_VAR"):
        transport.send([_message("anne@example.org")])


def test_an_unreachable_server_is_a_clear_message() -> None:
    transport = open_transport(_settings(1, timeout=2))
    with pytest.raises(TransportError, match=r"Cannot connect to the SMTP server 127\.0\.0\.1:1\b"):
        transport.send([_message("anne@example.org")])


def test_several_connections_share_a_batch_and_nobody_gets_two_copies(smtp_server) -> None:
    relay, port = smtp_server
    relay.bounce.add("p7@example.org")
    relay.hang_up_on_data.add(20)  # one connection drops mid-batch
    transport = open_transport(_settings(port, connections=4, messages_per_connection=1000))
    messages = [_message(f"p{n}@example.org", n) for n in range(200)]
    try:
        results = transport.send(messages)
    finally:
        transport.close()
    assert [result.to for result in results] == [message.to for message in messages]
    assert [n for n, result in enumerate(results) if not result.ok] == [7]
    assert len(relay.peers) >= 4  # four sessions delivered (five with the reconnection)
    assert transport.connections_opened == 5
    assert relay.copies() == {f"p{n}@example.org": 1 for n in range(200) if n != 7}


def test_a_refused_sender_stops_every_connection_with_the_results_so_far(smtp_server) -> None:
    relay, port = smtp_server
    relay.refuse_senders = True
    transport = open_transport(_settings(port, connections=3))
    with pytest.raises(
        TransportError, match=r"refuses the sender lemois@example\.org: 553"
    ) as caught:
        transport.send([_message(f"p{n}@example.org", n) for n in range(30)])
    transport.close()
    assert caught.value.results == [None] * 30  # none was sent; all can be tried again
    assert relay.delivered == []


def test_the_envelope_sender_is_the_messages_bounce_address(smtp_server) -> None:
    relay, port = smtp_server
    transport = open_transport(_settings(port))
    message = _message("anne@example.org")
    verp = OutgoingMessage(**{**message.__dict__, "envelope_from": "bounces+abc@example.org"})
    try:
        transport.send([verp, message])
    finally:
        transport.close()
    assert [sender for sender, _, _ in relay.delivered] == [
        "bounces+abc@example.org",
        "lemois@example.org",
    ]
    parsed = email.message_from_bytes(relay.delivered[0][2], policy=email.policy.default)
    assert parsed["Return-Path"] is None  # the receiving MTA writes it, not the sender
    assert parsed["From"].addresses[0].addr_spec == "lemois@example.org"


def test_the_rate_limit_is_honoured_across_connections(smtp_server) -> None:
    from campaign.mail.ratelimit import MessagePacer

    relay, port = smtp_server
    moments: list[float] = []

    class Recording(MessagePacer):
        def reserve(self) -> float:
            start = super().reserve()
            moments.append(start)
            return start

    settings = _settings(port, connections=3)
    limiter = Recording(per_second=50)
    transport = SmtpTransport(settings.mail.smtp, limiter=limiter)
    try:
        transport.send([_message(f"p{n}@example.org", n) for n in range(12)])
    finally:
        transport.close()
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert len(moments) == 12 and all(gap >= 0.02 - 1e-9 for gap in gaps)
    assert len(relay.delivered) == 12


def test_lines_starting_with_a_dot_survive_the_smtp_exchange(smtp_server) -> None:
    from markupsafe import Markup

    relay, port = smtp_server
    parts = ("<p>", Markup(".hidden line"), "</p>\n", Markup("."), "\n.\n")
    message = OutgoingMessage(**{**_message("anne@example.org").__dict__, "html_parts": parts})
    transport = open_transport(_settings(port))
    try:
        (result,) = transport.send([message])
    finally:
        transport.close()
    assert result.ok
    parsed = email.message_from_bytes(relay.delivered[0][2], policy=email.policy.default)
    html = parsed.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert html == "".join(parts)  # ends with a line end already


def test_a_sender_no_message_can_carry_stops_the_send_before_any_transaction(
    smtp_server,
) -> None:
    relay, port = smtp_server
    transport = open_transport(_settings(port, connections=2))
    messages = [
        OutgoingMessage(**{**_message(f"p{n}@example.org", n).__dict__, "reply_to": "x@@y"})
        for n in range(6)
    ]
    with pytest.raises(TransportError, match=r"Reply-To address .*'x@@y'") as caught:
        transport.send(messages)
    transport.close()
    assert caught.value.results == [None] * 6  # none failed: all can be tried again
    assert relay.delivered == []


def test_the_server_sees_the_helo_name_of_the_settings(smtp_server) -> None:
    relay, port = smtp_server
    transport = open_transport(_settings(port, connections=2, helo_name="mail.lemois-ess.org"))
    try:
        results = transport.send([_message(f"p{n}@example.org", n) for n in range(4)])
    finally:
        transport.close()
    assert all(result.ok for result in results)
    assert relay.host_names == {"mail.lemois-ess.org"}  # on every connection


def test_without_a_helo_name_the_machine_s_own_name_is_given(smtp_server) -> None:
    import smtplib

    relay, port = smtp_server
    transport = open_transport(_settings(port))
    try:
        assert transport.send([_message("anne@example.org")])[0].ok
    finally:
        transport.close()
    # smtplib's choice: the fully qualified name, or the address literal of a bare one.
    assert relay.host_names == {smtplib.SMTP().local_hostname}
