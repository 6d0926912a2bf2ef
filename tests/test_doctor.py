"""`campaign doctor` against real peers on loopback: a DNS server of the test's own (SPF, DKIM,
DMARC records), an SMTP relay requiring a login (aiosmtpd) and an HTTP service answering
/healthz. Each check must pass when its peer is right and fail, saying what to do, when not."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

HERE = Path(__file__).parent
KEY = HERE / "mail" / "dkim-test.key"
PUBLIC = (HERE / "mail" / "dkim-test.pub").read_text().strip()
DOMAIN = "lemois-ess.org"


class DnsServer:
    """A UDP DNS server answering TXT questions from ``records`` (name → texts); any other
    name is NXDOMAIN. Made with dnspython's message classes, so the wire format is real DNS."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                wire, peer = self.socket.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            texts = self.records.get(name)
            if texts is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.TXT:
                quoted = [_quoted(text) for text in texts]
                response.answer.append(
                    dns.rrset.from_text_list(question.name, 300, "IN", "TXT", quoted)
                )
            self.socket.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self.socket.close()


def _quoted(text: str) -> str:
    """A TXT record's presentation form: strings of at most 255 characters, quoted."""
    return " ".join(f'"{text[i : i + 255]}"' for i in range(0, len(text), 255))


class Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = type(self).status if self.path == "/healthz" else 404
        body = json.dumps({"status": "ok" if code == 200 else "failing"}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def health() -> Iterator[tuple[type[Health], int]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Health, server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def peers(workdir, dns_server, health, smtp_server, monkeypatch):
    """Every peer right: the checks' happy state. Returns what the tests then break."""
    relay, smtp_port = smtp_server
    relay.credentials = ("campaign", "s3cret-relay")
    handler, http_port = health
    handler.status = 200
    dns_server.records = {
        DOMAIN: ["v=spf1 ip4:127.0.0.1 -all", "google-site-verification=abc"],
        f"campaign._domainkey.{DOMAIN}": [f"v=DKIM1; k=rsa; p={PUBLIC}"],
        f"_dmarc.{DOMAIN}": [f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{DOMAIN}"],
    }
    for name, value in {
        "CAMPAIGN_MAIL_TRANSPORT": "smtp",
        "CAMPAIGN_MAIL_FROM_ADDRESS": f"lettre@{DOMAIN}",
        "CAMPAIGN_MAIL_SMTP_HOST": "127.0.0.1",
        "CAMPAIGN_MAIL_SMTP_PORT": str(smtp_port),
        "CAMPAIGN_MAIL_SMTP_SECURITY": "none",
        "CAMPAIGN_MAIL_SMTP_USERNAME": "campaign",
        "CAMPAIGN_SMTP_PASSWORD": "s3cret-relay",
        "CAMPAIGN_MAIL_DKIM_KEY_FILE": str(KEY),
        "CAMPAIGN_MAIL_DKIM_SELECTOR": "campaign",
        "CAMPAIGN_WEB_PUBLIC_URL": f"http://127.0.0.1:{http_port}",
        "CAMPAIGN_WEB_ALLOW_INSECURE_LINKS": "true",
    }.items():
        monkeypatch.setenv(name, value)
    return dns_server, handler, relay


def _doctor(cli, dns_server: DnsServer) -> tuple[int, dict[str, dict]]:
    result = cli("doctor", "--json", "--offline", "--dns-server", f"127.0.0.1:{dns_server.port}")
    assert "Traceback" not in result.stderr + result.stdout
    return result.exit_code, {row["check"]: row for row in json.loads(result.stdout)}


def test_every_check_passes_when_every_peer_is_right(cli, peers) -> None:
    dns_server, _handler, relay = peers
    assert cli("init").exit_code == 0
    code, checks = _doctor(cli, dns_server)
    statuses = {name: row["status"] for name, row in checks.items()}
    assert statuses == {
        "settings": "ok",
        "database": "ok",
        "public_url": "ok",
        "smtp": "ok",
        "spf": "ok",
        "dkim": "ok",
        "dmarc": "ok",
        "account mois_ess": "warning",  # no credentials in the tests: dry run
        "account prix_ess": "warning",
        "template mois-ess": "ok",
        "template prix-ess": "ok",
    }, checks
    assert code == 0
    assert checks["spf"]["record"] == "v=spf1 ip4:127.0.0.1 -all"
    assert checks["dmarc"]["policy"] == "quarantine"
    assert relay.delivered == []  # the relay was asked for a session, never sent a message
    assert "s3cret-relay" not in json.dumps(checks)


def test_each_broken_peer_is_an_error_saying_what_to_do(cli, peers, tmp_path) -> None:
    dns_server, handler, relay = peers
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a second DKIM key")
    other = tmp_path / "other.key"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(other), "2048"], check=True, capture_output=True
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(other), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    dns_server.records[f"campaign._domainkey.{DOMAIN}"] = [
        "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode()
    ]
    dns_server.records[DOMAIN] = ["v=spf1 ip4:127.0.0.1 -all", "v=spf1 a -all"]
    del dns_server.records[f"_dmarc.{DOMAIN}"]
    relay.credentials = ("campaign", "another-password")
    handler.status = 503
    code, checks = _doctor(cli, dns_server)
    assert code == 1
    found = {name: (row["status"], row["code"]) for name, row in checks.items()}
    assert found["dkim"] == ("error", "dkim.mismatch")
    assert found["spf"] == ("error", "spf.several")
    assert found["dmarc"] == ("warning", "dmarc.missing")
    assert found["smtp"] == ("error", "smtp.refused")
    assert found["public_url"] == ("error", "public_url.unhealthy")
    assert "publish the public key" in checks["dkim"]["action"]
    assert "merge them into one TXT record" in checks["spf"]["action"]
    assert "refused the login" in checks["smtp"]["message"]


def test_a_silent_dns_server_is_a_warning_not_a_verdict(cli, peers, monkeypatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never answers
        monkeypatch.setattr("campaign.doctor.DNS_TIMEOUT", 0.5)
        result = cli(
            "doctor", "--json", "--offline", "--dns-server", f"127.0.0.1:{silent.getsockname()[1]}"
        )
    checks = {row["check"]: row for row in json.loads(result.stdout)}
    for name in ("spf", "dkim", "dmarc"):
        assert (checks[name]["status"], checks[name]["code"]) == ("warning", "dns.unanswered")


def test_the_table_names_each_check_and_the_doctor_creates_no_database(
    cli, peers, database_url: str
) -> None:
    dns_server, _handler, _relay = peers
    result = cli("doctor", "--offline", "--dns-server", f"127.0.0.1:{dns_server.port}")
    assert "no schema yet" in result.stdout
    assert "campaign init" in result.stdout
    assert "[mail.dkim]" not in result.stdout  # a key file is set: nothing to say about it
    if database_url.startswith("sqlite:///"):
        assert not Path(database_url.removeprefix("sqlite:///")).exists()


def test_every_code_a_check_returns_is_worded() -> None:
    import re

    import campaign.doctor
    from campaign.cli.doctor import WORDS

    source = Path(campaign.doctor.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'"([a-z_]+\.[a-z_]+)"', source))
    assert codes and codes <= set(WORDS), codes - set(WORDS)
