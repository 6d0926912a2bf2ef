"""Our DKIM signatures checked by an independent verifier: Mail::DKIM, the Perl module
SpamAssassin and Amavis use, asking a DNS server on loopback for the selector's key.

dkimpy signs, so dkimpy verifying would prove little: these tests run Debian's Mail::DKIM
(installed by ``scripts/install-test-peers``), skipped with the reason where it cannot be
installed and failing instead under CI (``CAMPAIGN_REQUIRE_PEERS=1``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from campaign.mail.mime import Composer
from tests.mail.test_dkim import MESSAGE, PUBLIC, TAMPERINGS, _signer

VERIFIER = Path(__file__).parent / "dkim_verify.pl"
RECORD = "campaign._domainkey.example.org"


def _require_mail_dkim() -> None:
    found = (
        shutil.which("perl")
        and subprocess.run(
            ["perl", "-MMail::DKIM::Verifier", "-MNet::DNS::Nameserver", "-e", "1"],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    if found:
        return
    reason = "Mail::DKIM (Debian's libmail-dkim-perl) is not installed: scripts/install-test-peers"
    if os.environ.get("CAMPAIGN_REQUIRE_PEERS") == "1":
        pytest.fail(f"{reason} (CAMPAIGN_REQUIRE_PEERS=1: this test must run here)")
    pytest.skip(reason)


def _udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def verify(message: bytes) -> str:
    """Mail::DKIM's verdict on ``message``: "pass", "fail", "none"… with its detail."""
    _require_mail_dkim()
    done = subprocess.run(
        ["perl", str(VERIFIER), str(_udp_port()), RECORD, PUBLIC],
        input=message,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode().strip()


def test_a_signed_message_passes_an_independent_verifier() -> None:
    data = Composer(_signer()).compose(MESSAGE)
    assert verify(data).startswith("pass"), verify(data)


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_each_tampering_fails_with_the_independent_verifier(tamper) -> None:
    data = Composer(_signer()).compose(MESSAGE)
    signature, _, rest = data.partition(b"\r\nFrom:")
    tampered = signature + b"\r\n" + tamper(b"From:" + rest)
    assert tampered != data
    verdict = verify(tampered)
    assert not verdict.startswith("pass"), verdict
