"""Our SMTP transport through a real Postfix, the relay most installations send through.

aiosmtpd accepts nearly anything; Postfix is strict about the protocol (pipelining order, line
lengths, 8-bit data, envelope syntax) and rewrites what it must. A private Postfix instance
(its own configuration, queue and port, started as root as Postfix requires) relays to an
aiosmtpd sink on loopback: every message must arrive once, its DKIM signature still valid
(body and signed headers as we wrote them, below the Received header Postfix adds) and its VERP
envelope sender kept; Postfix's own refusals (5xx and 4xx from its recipient checks) must come
back to the transport as bounced and deferred.

Postfix comes from Debian's package, installed by ``scripts/install-test-peers``; without it
(or without root) the tests are skipped with the reason, and fail instead under CI
(``CAMPAIGN_REQUIRE_PEERS=1``).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import dkim
import pytest

from campaign.config import Settings
from campaign.mail import OutgoingMessage, open_transport
from tests.conftest import RecordingRelay
from tests.ports import free_port as _free_port

HERE = Path(__file__).parent
KEY = HERE / "dkim-test.key"
PUBLIC = (HERE / "dkim-test.pub").read_text().strip()
POSTFIX = "/usr/sbin/postfix"
REFUSED = "nobody@refused.example.net"
LATER = "later@refused.example.net"


def _require_postfix() -> None:
    reason = None
    if not Path(POSTFIX).is_file():
        reason = "Postfix is not installed: run scripts/install-test-peers (Debian's postfix)"
    elif os.geteuid() != 0:
        reason = "Postfix's master process must be started as root"
    if reason is None:
        return
    if os.environ.get("CAMPAIGN_REQUIRE_PEERS") == "1":
        pytest.fail(f"{reason} (CAMPAIGN_REQUIRE_PEERS=1: this test must run here)")
    pytest.skip(reason)


def _postfix(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Postfix writes its errors to stderr only on a terminal; its log file says the rest.
    return subprocess.run(
        [POSTFIX, "-c", str(config), *args], capture_output=True, text=True, timeout=60
    )


def _wait(condition, what: str, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.05)


class Postfix:
    """A private Postfix instance: its own configuration, queue, log and port on 127.0.0.1."""

    def __init__(self, main_cf: list[str]) -> None:
        # Not under pytest's 0700 folders: Postfix's daemons run as the postfix user.
        self.root = Path(tempfile.mkdtemp(prefix="campaign-postfix-"))
        self.root.chmod(0o755)
        self.config, queue, data = self.root / "conf", self.root / "queue", self.root / "data"
        for folder in (self.config, queue, data):
            folder.mkdir()
        shutil.chown(data, user="postfix")
        self.port = _free_port()
        self.log = self.root / "postfix.log"
        common = [
            "compatibility_level = 3.6",
            f"queue_directory = {queue}",
            f"data_directory = {data}",
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "myhostname = relay.campaign.test",
            "mydestination =",
            "mynetworks = 127.0.0.0/8",
            "smtp_tls_security_level = none",
            "smtpd_tls_security_level = none",
            "smtp_dns_support_level = disabled",
            f"maillog_file = {self.log}",
            f"maillog_file_prefixes = {self.root}",
        ]
        (self.config / "main.cf").write_text("\n".join([*common, *main_cf, ""]))
        # Debian's services, without chroot (no copy of /etc in the queue), smtpd on our port.
        services = []
        for line in Path("/etc/postfix/master.cf").read_text().splitlines():
            fields = line.split()
            if not fields or line[0] in "# \t":
                continue
            if fields[:2] == ["smtp", "inet"]:
                services.append(f"127.0.0.1:{self.port} inet n - n - - smtpd")
            elif fields[-1] != "pipe" and len(fields) >= 8:
                fields[4] = "n"
                services.append(" ".join(fields))
        (self.config / "master.cf").write_text("\n".join(services) + "\n")

    def start(self) -> None:
        started = _postfix(self.config, "start")
        assert started.returncode == 0, started.stdout + started.stderr + _read(self.log)
        _wait(lambda: _answers(self.port), "Postfix to listen")

    def stop(self) -> None:
        _postfix(self.config, "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def postfix() -> Iterator[tuple[RecordingRelay, int, Path]]:
    """A Postfix on 127.0.0.1 relaying to an aiosmtpd sink: ``(sink, port, log)``."""
    _require_postfix()
    from aiosmtpd.controller import Controller

    sink = RecordingRelay()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    relay = Postfix(
        [
            "local_recipient_maps =",
            f"relayhost = [127.0.0.1]:{controller.port}",
            # Postfix's own refusals, as a relay gives them for a bad or busy recipient.
            "smtpd_recipient_restrictions = check_recipient_access inline:{"
            f" {{ {REFUSED} = 550 5.1.1 User unknown }},"
            f" {{ {LATER} = 450 4.2.0 Try again later }} }},"
            " permit_mynetworks, reject",
        ]
    )
    try:
        relay.start()
        yield sink, relay.port, relay.log
    finally:
        relay.stop()
        controller.stop()


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _answers(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _settings(port: int) -> Settings:
    settings = Settings()
    settings.mail.transport = "smtp"
    settings.web.allow_insecure_links = True
    settings.mail.smtp.host = "127.0.0.1"
    settings.mail.smtp.port = port
    settings.mail.smtp.security = "none"
    settings.mail.smtp.connections = 2
    settings.mail.smtp.helo_name = "campaign.example.org"
    settings.mail.dkim.key_file = str(KEY)
    settings.mail.dkim.selector = "campaign"
    return settings


def _message(number: int, to: str) -> OutgoingMessage:
    long_line = "Les évènements de l'économie sociale et solidaire en région " * 8
    return OutgoingMessage(
        from_address="lemois@example.org",
        from_name="Le Mois de l'ESS",
        to=to,
        to_name="Léa Dupré",
        subject=f"Évènements de novembre n°{number}",
        text=f"Bonjour Léa,\n.\n{long_line}\nÀ bientôt.",
        html=f"<p>Bonjour Léa</p><p>{long_line}</p>",
        headers={
            "List-Unsubscribe": "<https://lemois-ess.org/u/abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        message_id=f"<d{number}.n1@example.org>",
        envelope_from=f"bounce+d{number}@bounces.example.org",
    )


def _dns(name: bytes, timeout: int = 5) -> bytes:
    assert name == b"campaign._domainkey.example.org."
    return b"v=DKIM1; k=rsa; p=" + PUBLIC.encode()


def test_messages_cross_postfix_intact_signed_and_once(postfix) -> None:
    sink, port, log = postfix
    recipients = [f"lecteur{n}@example.net" for n in range(1, 41)]
    messages = [_message(n, to) for n, to in enumerate(recipients, start=1)]
    transport = open_transport(_settings(port))
    try:
        results = transport.send(messages)
    finally:
        transport.close()
    assert [r.outcome for r in results] == ["sent"] * len(messages), [r.error for r in results]
    _wait(lambda: len(sink.delivered) >= len(messages), "Postfix to relay every message")
    assert sink.copies() == {address: 1 for address in recipients}, _read(log)[-2000:]
    for sender, _rcpts, content in sink.delivered:
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        number = int(parsed["Message-ID"].removeprefix("<d").split(".")[0])
        assert sender == f"bounce+d{number}@bounces.example.org"  # VERP kept
        assert "relay.campaign.test" in parsed["Received"]
        assert dkim.verify(content, dnsfunc=_dns), f"message {number}: DKIM broken by the relay"
        body = parsed.get_body(("plain",)).get_content()
        assert "\n.\n" in body.replace("\r\n", "\n") and body.count("évènements") == 8


def test_postfix_refusals_come_back_as_bounced_and_deferred(postfix) -> None:
    sink, port, _log = postfix
    before = len(sink.delivered)
    messages = [
        _message(101, "anne@example.net"),
        _message(102, REFUSED),
        _message(103, LATER),
        _message(104, "oscar@example.net"),
    ]
    transport = open_transport(_settings(port))
    try:
        ok, bounced, deferred, ok2 = transport.send(messages)
    finally:
        transport.close()
    assert (ok.outcome, ok2.outcome) == ("sent", "sent")
    assert bounced.outcome == "bounced" and bounced.code == 550 and "5.1.1" in bounced.error
    assert deferred.outcome == "deferred" and deferred.code == 450 and "4.2.0" in deferred.error
    _wait(lambda: len(sink.delivered) >= before + 2, "Postfix to relay the accepted two")
    relayed = {rcpt for _s, rcpts, _c in sink.delivered[before:] for rcpt in rcpts}
    assert relayed == {"anne@example.net", "oscar@example.net"}


@pytest.fixture(scope="module")
def mailboxes() -> Iterator[Postfix]:
    """A Postfix delivering example.net and the bounce domains into maildirs under its root:
    listed mailboxes exist, any other example.net address is accepted and then bounced with a
    DSN to the envelope sender (as a real destination does after accepting)."""
    _require_postfix()
    server = Postfix([])
    mail = server.root / "mail"
    mail.mkdir()
    shutil.chown(mail, user="postfix", group="postfix")
    mailboxes = [f"{name}-{kind}@example.net" for name in ("anne", "paul") for kind in KINDS]
    maps = ", ".join(
        [f"{{ {address} = {address.replace('@', '_')}/ }}" for address in mailboxes]
        + [f"{{ @{_bounce_domain(kind)} = bounces-{kind}/ }}" for kind in KINDS]
    )
    with (server.config / "main.cf").open("a") as main_cf:
        main_cf.write(
            "\n".join(
                [
                    "virtual_mailbox_domains = example.net, "
                    + ", ".join(_bounce_domain(kind) for kind in KINDS),
                    f"virtual_mailbox_base = {mail}",
                    f"virtual_mailbox_maps = inline:{{ {maps} }}",
                    f"virtual_uid_maps = static:{pwd.getpwnam('postfix').pw_uid}",
                    f"virtual_gid_maps = static:{pwd.getpwnam('postfix').pw_gid}",
                    "smtpd_reject_unlisted_recipient = no",
                    "",
                ]
            )
        )
    try:
        server.start()
        yield server
    finally:
        server.stop()


KINDS = ("sqlite", "postgresql")


def _bounce_domain(kind: str) -> str:
    return f"bounces-{kind}.lemois-ess.org"


def _messages(folder: Path) -> list[bytes]:
    return [path.read_bytes() for sub in ("new", "cur") for path in (folder / sub).glob("*")]


def test_a_newsletter_through_postfix_reaches_each_mailbox_once_and_its_dsns_bounce_the_rest(
    mailboxes: Postfix, cli, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    for name, value in {
        "CAMPAIGN_MAIL_TRANSPORT": "smtp",
        "CAMPAIGN_MAIL_SMTP_HOST": "127.0.0.1",
        "CAMPAIGN_MAIL_SMTP_PORT": str(mailboxes.port),
        "CAMPAIGN_MAIL_SMTP_SECURITY": "none",
        "CAMPAIGN_WEB_ALLOW_INSECURE_LINKS": "true",
        "CAMPAIGN_MAIL_FROM_ADDRESS": "lettre@lemois-ess.org",
        "CAMPAIGN_MAIL_POSTAL_ADDRESS": "CNCRESS, Paris",
        "CAMPAIGN_MAIL_RETURN_PATH_DOMAIN": _bounce_domain(kind),
    }.items():
        monkeypatch.setenv(name, value)
    existing = [f"anne-{kind}@example.net", f"paul-{kind}@example.net"]
    missing = [f"personne-{kind}@example.net", f"absent-{kind}@example.net"]
    assert cli("lists", "create", "Newsletter nationale").exit_code == 0
    for address in existing + missing:
        added = cli("subscribers", "add", address, "--list", "Newsletter nationale")
        assert added.exit_code == 0, added.stderr
    created = cli(
        "newsletters", "create", "--title", "Le Mois", "--subject", "Novembre",
        "--template", "mois-ess", "--list", "Newsletter nationale",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    sent = cli("newsletters", "send", created.stdout.strip())
    assert sent.exit_code == 0, sent.stderr + sent.stdout

    mail = mailboxes.root / "mail"
    for address in existing:
        folder = mail / address.replace("@", "_")
        _wait(lambda f=folder: _messages(f), f"{address} to receive the letter", 60)
    bounces = mail / f"bounces-{kind}"
    _wait(lambda: len(_messages(bounces)) >= len(missing), "Postfix's DSNs", 60)
    for address in existing:
        assert len(_messages(mail / address.replace("@", "_"))) == 1, address

    ingested = cli("bounces", "ingest", "--maildir", str(bounces), "--json")
    assert ingested.exit_code == 0, ingested.stderr + ingested.stdout
    listed = cli("subscribers", "list", "--json")
    statuses = {row["email"]: row["status"] for row in json.loads(listed.stdout)}
    assert {address: statuses[address] for address in existing + missing} == {
        **dict.fromkeys(existing, "active"),
        **dict.fromkeys(missing, "bounced"),
    }, _read(mailboxes.log)[-3000:]
