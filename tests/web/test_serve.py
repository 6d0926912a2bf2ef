"""``campaign serve`` as a real process: it serves, and SIGTERM loses no hit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from campaign.config import Settings
from campaign.models import Hit
from campaign.tracking.tokens import Signer
from tests.diskfull import DISK_FULL, RUN_CAMPAIGN_ON_A_FULL_DISK, fill, no_growth
from tests.ports import free_port

KEY = "test-secret-key-" + "x" * 32


def _environment(database_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    env.update(
        CAMPAIGN_DATABASE_URL=database_url,
        CAMPAIGN_SECRET_KEY=KEY,
        CAMPAIGN_WEB_PUBLIC_URL=f"http://127.0.0.1:{port}",
        **extra,
    )
    return env


def _wait_until_serving(process: subprocess.Popen, url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"campaign serve exited: {process.communicate()}")
        try:
            requests.get(url + "/inscription", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("campaign serve did not answer")


def _hits(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Hit)).one()


def test_sigterm_writes_every_hit_before_exiting(
    engine: Engine, database_url: str, tmp_path: Path, kit, secret_key: str
) -> None:
    port = free_port()
    settings = Settings()
    settings.web.public_url = f"http://127.0.0.1:{port}"
    settings.mail.outbox_dir = str(tmp_path / "outbox")
    sent = kit.send(settings)
    deliveries = list(sent.deliveries.values())
    links = list(sent.links.values())
    # Written only every 60 s: without the flush on stop, nothing would reach the database.
    env = _environment(database_url, port, CAMPAIGN_TRACKING_FLUSH_SECONDS="60")
    process = subprocess.Popen(
        [sys.executable, "-m", "campaign", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, url)
        signer = Signer([KEY])
        paths = []
        for number in range(400):
            delivery = deliveries[number % len(deliveries)]
            paths.append(f"/o/{signer.sign('open', delivery)}.gif")
            link = links[number % len(links)]
            paths.append(f"/c/{signer.sign('click', delivery, link, sent.newsletter_id)}")

        def fire(chunk: list[str]) -> int:
            with requests.Session() as http:
                ok = 0
                for path in chunk:
                    answer = http.get(url + path, allow_redirects=False, timeout=10)
                    ok += answer.status_code in (200, 302)
                return ok

        with ThreadPoolExecutor(4) as pool:
            answered = sum(pool.map(fire, [paths[i::4] for i in range(4)]))
        assert answered == len(paths) == 800
        assert _hits(engine) == 0  # all still in the server's memory
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert _hits(engine) == 800
    with Session(engine) as session:
        kinds = dict(session.exec(select(Hit.kind, func.count()).group_by(Hit.kind)).all())
    assert kinds == {"open": 400, "click": 400}


def test_serve_without_a_signing_key_says_what_to_do(tmp_path: Path) -> None:
    port = free_port()
    env = _environment(f"sqlite:///{tmp_path / 'c.db'}", port)
    del env["CAMPAIGN_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "-m", "campaign", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "No signing key" in result.stderr and "Traceback" not in result.stderr


def test_serve_start_up_never_prints_a_password_held_in_a_url(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    if database_url.startswith("postgresql"):  # the test server trusts the login: any password
        user, rest = database_url.split("@", 1)
        database_url = f"{user}:hunter2@{rest}"
    env = _environment(database_url, port)
    env["CAMPAIGN_WEB_PUBLIC_URL"] = f"http://apercu:s3cr3t@127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "campaign", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_serving(process, f"http://127.0.0.1:{port}")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert f"links in emails start with http://apercu:***@127.0.0.1:{port}" in err
    assert "hunter2" not in out + err and "s3cr3t" not in out + err


def test_a_stop_with_hits_the_full_disk_refused_exits_1_saying_so(
    engine: Engine, database_url: str, tmp_path: Path, kit, secret_key: str
) -> None:
    """Before: "N hits could not be written" in the log and exit status 0; a supervisor saw a
    clean stop. Now the service tries for [tracking] stop_timeout seconds, then exits 1."""
    if not database_url.startswith("sqlite"):
        pytest.skip("a full disk is made with SQLite's page limit")
    port = free_port()
    settings = Settings()
    settings.web.public_url = f"http://127.0.0.1:{port}"
    settings.mail.outbox_dir = str(tmp_path / "outbox")
    sent = kit.send(settings)
    no_growth(engine)
    fill(engine, lambda padding: Hit(kind="open", newsletter_id=sent.newsletter_id, reason=padding))
    before = _hits(engine)
    env = _environment(
        database_url,
        port,
        CAMPAIGN_TRACKING_FLUSH_SECONDS="60",  # kept in memory until the stop
        CAMPAIGN_TRACKING_STOP_TIMEOUT="0.5",
        COLUMNS="200",  # the error on one line
    )
    command = ["serve", "--port", str(port), "--no-scheduler"]
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_CAMPAIGN_ON_A_FULL_DISK, *command],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, url)
        signer = Signer([KEY])
        for delivery in list(sent.deliveries.values()) * 5:
            answer = requests.get(f"{url}/o/{signer.sign('open', delivery)}.gif", timeout=10)
            assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "10 recorded opens and clicks could not be written to the database" in err
    assert DISK_FULL in err
    assert "Traceback" not in err
    assert _hits(engine) == before
