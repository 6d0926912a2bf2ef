"""The shipped production examples (deploy/) work as shipped: the systemd unit passes
``systemd-analyze verify``, and nginx and Caddy, run with the example files (only the host
name, ports and certificate changed), serve the dashboard and the public routes over TLS in
front of a running web service and redirect http to https.

nginx and Caddy come from Debian's packages, installed by ``scripts/install-test-peers``;
without them a test is skipped with the reason, and fails instead under CI
(``CAMPAIGN_REQUIRE_PEERS=1``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import urllib3

from tests.ports import free_port as _free_port

pytestmark = pytest.mark.one_database(
    "the public routes' answers, a door: the stages they call are tested on both engines"
)

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
HOST = "lettre.mois-ess.org"


def _require(program: str) -> str:
    found = shutil.which(program) or next(
        (p for p in (f"/usr/sbin/{program}", f"/usr/bin/{program}") if Path(p).is_file()), None
    )
    if found:
        return found
    reason = f"{program} is not installed: run scripts/install-test-peers (Debian's package)"
    if os.environ.get("CAMPAIGN_REQUIRE_PEERS") == "1":
        pytest.fail(f"{reason} (CAMPAIGN_REQUIRE_PEERS=1: this test must run here)")
    pytest.skip(reason)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the proxy exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port} after {seconds:.0f} s")


def _get(url: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
    with urllib3.warnings.catch_warnings():
        urllib3.warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
        return requests.get(url, verify=False, timeout=10, allow_redirects=False, **kwargs)


def test_the_systemd_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    analyze = _require("systemd-analyze")
    campaign = Path(os.sys.executable).parent / "campaign"  # type: ignore[attr-defined]
    unit = (DEPLOY / "campaign.service").read_text(encoding="utf-8")
    assert "/opt/campaign/.venv/bin/campaign" in unit
    # Only the program's path changes: verify checks that ExecStart is an executable.
    copy = tmp_path / "campaign.service"
    copy.write_text(unit.replace("/opt/campaign/.venv/bin/campaign", str(campaign)))
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    assert re.search(r"^ExecStart=.* serve ", unit, re.M)
    assert "KillSignal=SIGTERM" in unit  # campaign serve stops gracefully on SIGTERM


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    openssl = _require("openssl")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={HOST}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def nginx(live, certificate, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """nginx running deploy/nginx.conf in front of the live web service: (http, https)."""
    program = _require("nginx")
    cert, key = certificate
    http, https = _free_port(), _free_port()
    upstream = live.url.removeprefix("http://")
    site = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    site = (
        site.replace("127.0.0.1:8000", upstream)
        .replace("listen 80;", f"listen 127.0.0.1:{http};")
        .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;")
        .replace(f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(cert))
        .replace(f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(key))
    )
    site = "\n".join(line for line in site.splitlines() if "[::]" not in line)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {tmp_path}/body;\n"
        f" proxy_temp_path {tmp_path}/proxy;\n include {tmp_path}/site.conf;\n}}\n"
    )
    checked = subprocess.run(
        [program, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [program, "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(https, process)
        yield http, https
    finally:
        process.terminate()
        process.wait(20)


def test_nginx_serves_the_dashboard_and_public_routes_over_tls(nginx) -> None:
    http, https = nginx
    headers = {"Host": HOST}
    login = _get(f"https://127.0.0.1:{https}/admin/login", headers=headers)
    assert login.status_code == 200 and "Connexion au tableau de bord" in login.text
    public = _get(f"https://127.0.0.1:{https}/openapi.json", headers=headers)
    assert public.status_code == 200 and public.json()["openapi"].startswith("3.")
    redirect = _get(f"http://127.0.0.1:{http}/admin/login", headers=headers)
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == f"https://{HOST}/admin/login"


@pytest.fixture
def caddy(live, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """Caddy running deploy/Caddyfile in front of the live web service: (http, https)."""
    program = _require("caddy")
    http, https = _free_port(), _free_port()
    site = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    site = site.replace("127.0.0.1:8000", live.url.removeprefix("http://"))
    # The test's own ports, and a certificate from Caddy's internal CA (no ACME: no internet).
    globals_ = (
        f"{{\n\thttp_port {http}\n\thttps_port {https}\n\tadmin off\n"
        "\tskip_install_trust\n\tlocal_certs\n}\n\n"
    )
    config = tmp_path / "Caddyfile"
    config.write_text(globals_ + site)
    environment = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    process = subprocess.Popen(
        [program, "run", "--config", str(config), "--adapter", "caddyfile"],
        stderr=subprocess.PIPE,
        env=environment,
    )
    try:
        _wait_for_port(https, process)
        yield http, https
    finally:
        process.terminate()
        process.wait(20)


def _caddy_get(port: int, path: str, scheme: str = "https") -> requests.Response:
    # Caddy chooses the certificate by the TLS server name: connect to 127.0.0.1 as HOST.
    from requests.adapters import HTTPAdapter

    class Resolve(HTTPAdapter):
        def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
            request.url = request.url.replace(f"{HOST}:", "127.0.0.1:")
            return super().send(request, **kwargs)

        def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            kwargs["server_hostname"] = HOST
            kwargs["assert_hostname"] = False
            super().init_poolmanager(*args, **kwargs)

    with requests.Session() as session:
        session.mount(f"{scheme}://", Resolve())
        with urllib3.warnings.catch_warnings():
            urllib3.warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return session.get(
                f"{scheme}://{HOST}:{port}{path}",
                headers={"Host": HOST},
                verify=False,
                timeout=10,
                allow_redirects=False,
            )


def test_caddy_serves_the_dashboard_and_public_routes_over_tls(caddy) -> None:
    http, https = caddy
    login = _caddy_get(https, "/admin/login")
    assert login.status_code == 200 and "Connexion au tableau de bord" in login.text
    assert _caddy_get(https, "/openapi.json").json()["openapi"].startswith("3.")
    redirect = _caddy_get(http, "/admin/login", scheme="http")
    assert redirect.status_code in (301, 308)
    assert redirect.headers["Location"].startswith(f"https://{HOST}")
