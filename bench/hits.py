"""Benchmark: the open pixel and tracked clicks of `campaign serve` beside a bare endpoint.

Starts, one after the other on loopback:

1. a **bare endpoint**: the same FastAPI + uvicorn stack (same uvicorn settings) answering
   ``/o/TOKEN.gif`` with the same GIF and ``/c/TOKEN`` with a 302, checking and recording
   nothing — what serving the bytes costs;
2. the **product**: the real ``campaign serve`` process on a SQLite database holding a sent
   newsletter (deliveries and links), recording every hit.

Each is driven by the same load from separate client processes (threads with keep-alive
``http.client`` connections, half pixels, half clicks, with real signed tokens), and the run
prints requests per second and latency percentiles of both side by side. The product is then
stopped with SIGTERM and the database must hold exactly one hit per answered request.

Goal on SQLite: at least 50% of the bare endpoint's rate and a p99 under 50 ms.

    python bench/hits.py [--requests 20000] [--clients 2] [--concurrency 4] [--deliveries 2000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Safari/605.1.15"
)
WARMUP_PER_THREAD = 50


# --- the bare endpoint (run in its own process) -------------------------------------------------


def run_bare_server(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI
    from starlette.responses import RedirectResponse, Response

    from campaign.web.server import uvicorn_config
    from campaign.web.tracking_routes import PIXEL, PIXEL_HEADERS, REDIRECT_HEADERS

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.api_route("/o/{token}.gif", methods=["GET", "HEAD"])
    async def pixel(token: str) -> Response:
        return Response(PIXEL, media_type="image/gif", headers=PIXEL_HEADERS)

    @app.api_route("/c/{token}", methods=["GET", "HEAD"])
    async def click(token: str) -> Response:
        return RedirectResponse(
            "https://lemois-ess.org/evenements", status_code=302, headers=REDIRECT_HEADERS
        )

    uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, log_level="warning")).run()


# --- the load (run in client processes) ---------------------------------------------------------


def run_client(port: int, paths_file: str, requests: int, threads: int, offset: int) -> None:
    """Send ``requests`` requests over ``threads`` keep-alive connections; print JSON."""
    paths = json.loads(Path(paths_file).read_text())
    per_thread = requests // threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    answered = [0] * threads
    failed = [0] * threads
    ready = threading.Barrier(threads + 1)
    spans: list[tuple[float, float]] = [(0.0, 0.0)] * threads

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"User-Agent": AGENT}
        position = (offset * 7919 + index * 104729) % len(paths)

        def one() -> bool:
            nonlocal position, connection
            path = paths[position]
            position = (position + 1) % len(paths)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                return response.status in (200, 302)
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                return False

        for _ in range(WARMUP_PER_THREAD):
            answered[index] += one()
        ready.wait()
        mine = latencies[index]
        start = time.perf_counter()
        for _ in range(per_thread):
            began = time.perf_counter()
            ok = one()
            mine.append(time.perf_counter() - began)
            if ok:
                answered[index] += 1
            else:
                failed[index] += 1
        spans[index] = (start, time.perf_counter())
        connection.close()

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    ready.wait()
    began = time.time()
    for thread in workers:
        thread.join()
    ended = time.time()
    print(
        json.dumps(
            {
                "began": began,
                "ended": ended,
                "timed": per_thread * threads,
                "answered": sum(answered),
                "failed": sum(failed),
                "latencies": [value for values in latencies for value in values],
            }
        )
    )


# --- the driver ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early: {process.communicate()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def prepare(database_url: str, key: str, deliveries: int, links: int) -> tuple[list[str], int]:
    """A sent newsletter with its deliveries and links; the request paths (signed tokens)."""
    os.environ["CAMPAIGN_SECRET_KEY"] = key
    from sqlmodel import Session

    from campaign.db import open_database
    from campaign.models import Delivery, Link, Newsletter, Subscriber
    from campaign.tracking.tokens import Signer

    engine = open_database(database_url)
    sent = datetime.now(UTC) - timedelta(hours=2)
    with Session(engine) as session:
        newsletter = Newsletter(
            title="Bench", subject="Bench", template="mois-ess", status="sent", sent_at=sent
        )
        session.add(newsletter)
        session.flush()
        people = [Subscriber(email=f"p{i}@example.org") for i in range(deliveries)]
        session.add_all(people)
        session.flush()
        rows = [
            Delivery(
                newsletter_id=newsletter.id,
                subscriber_id=person.id,
                email=person.email,
                status="sent",
                sent_at=sent,
            )
            for person in people
        ]
        targets = [
            Link(newsletter_id=newsletter.id, url=f"https://lemois-ess.org/evenements/{i}")
            for i in range(links)
        ]
        session.add_all(rows + targets)
        session.commit()
        delivery_ids = [row.id for row in rows]
        newsletter_id = newsletter.id
        link_ids = [link.id for link in targets]
    engine.dispose()
    signer = Signer([key])
    paths = []
    for number, delivery in enumerate(delivery_ids):
        paths.append(f"/o/{signer.sign('open', delivery)}.gif")
        # One click per delivery and link at most every few seconds, as a reader would: the
        # burst rule still runs on every click, it just finds no burst.
        link = link_ids[number % len(link_ids)]
        paths.append(f"/c/{signer.sign('click', delivery, link, newsletter_id)}")
    return paths, len(paths)


def drive(port: int, paths_file: str, requests: int, clients: int, threads: int) -> dict:
    per_client = requests // clients
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--client",
                str(port),
                paths_file,
                str(per_client),
                str(threads),
                str(offset),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for offset in range(clients)
    ]
    results = [json.loads(process.communicate()[0]) for process in processes]
    latencies = sorted(value for result in results for value in result["latencies"])
    seconds = max(r["ended"] for r in results) - min(r["began"] for r in results)
    timed = sum(r["timed"] for r in results)
    return {
        "answered": sum(r["answered"] for r in results),
        "failed": sum(r["failed"] for r in results),
        "timed": timed,
        "rate": timed / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "max": latencies[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="timed requests per server")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--concurrency", type=int, default=4, help="connections per client")
    parser.add_argument("--deliveries", type=int, default=2_000)
    parser.add_argument("--links", type=int, default=10)
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-hits-"))
    database_url = f"sqlite:///{folder / 'campaign.db'}"
    key = secrets.token_urlsafe(48)
    paths, _ = prepare(database_url, key, options.deliveries, options.links)
    paths_file = folder / "paths.json"
    paths_file.write_text(json.dumps(paths))
    print(
        f"{options.requests} timed requests (half pixels, half clicks) per server from "
        f"{options.clients} client processes × {options.concurrency} keep-alive connections, "
        f"{options.deliveries} deliveries, {os.cpu_count()} CPUs",
        file=sys.stderr,
    )

    results = {}
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, __file__, "--bare-server", str(bare_port)])
    try:
        wait_for(bare_port, bare)
        results["bare endpoint (no recording)"] = drive(
            bare_port, str(paths_file), options.requests, options.clients, options.concurrency
        )
    finally:
        bare.send_signal(signal.SIGTERM)
        bare.wait(30)

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    env.update(
        CAMPAIGN_DATABASE_URL=database_url,
        CAMPAIGN_SECRET_KEY=key,
        CAMPAIGN_WEB_PUBLIC_URL=f"http://127.0.0.1:{port}",
        CAMPAIGN_MAIL_OUTBOX_DIR=str(folder / "outbox"),
    )
    product = subprocess.Popen(
        [sys.executable, "-m", "campaign", "serve", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(port, product)
        results["campaign serve (SQLite, recording)"] = drive(
            port, str(paths_file), options.requests, options.clients, options.concurrency
        )
    finally:
        stopped = time.perf_counter()
        product.send_signal(signal.SIGTERM)
        _, errors = product.communicate(timeout=120)
        stop_seconds = time.perf_counter() - stopped

    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM hit")).scalar_one()
        by_class = dict(
            connection.execute(
                text("SELECT classification, count(*) FROM hit GROUP BY classification")
            ).all()
        )
    engine.dispose()

    print(f"\n{'':38} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'failed':>7}")
    for name, result in results.items():
        print(
            f"{name:38} {result['rate']:11.0f} {result['p50']:8.2f} {result['p99']:8.2f} "
            f"{result['max']:8.1f} {result['failed']:7d}"
        )
    bare_result, product_result = results.values()
    ratio = product_result["rate"] / bare_result["rate"]
    answered = product_result["answered"]
    print(
        f"\nproduct at {ratio:.0%} of the bare endpoint's rate (goal: at least 50%), "
        f"p99 {product_result['p99']:.1f} ms (goal: under 50 ms)"
    )
    print(
        f"hits in the database after SIGTERM: {stored} of {answered} answered requests "
        f"({'all there' if stored == answered else 'MISSING ' + str(answered - stored)}); "
        f"classified {by_class}; stop took {stop_seconds:.1f} s"
    )
    if product.returncode != 0:
        print(f"campaign serve exited with {product.returncode}: {errors[-2000:]}")
    ok = ratio >= 0.5 and product_result["p99"] < 50 and stored == answered
    print("goals met" if ok else "goals NOT met")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bare-server":
        run_bare_server(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--client":
        port, paths_file, count, threads, offset = sys.argv[2:7]
        run_client(int(port), paths_file, int(count), int(threads), int(offset))
    else:
        main()
