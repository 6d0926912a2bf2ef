"""Benchmark: personalising a compiled newsletter vs rendering it whole for each recipient.

The architecture's "render once, personalise cheaply" rule is justified here with figures: 10,000
recipients, 20 events each, personalised from one compiled group, beside the naive way (Jinja →
MJML → inlined CSS per recipient), timed on a sample and extrapolated. Goal: ≥100× faster and
under 0.2 ms per recipient. Run: ``.venv/bin/python bench/render.py``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from campaign.config import Settings
from campaign.models.events import Event
from campaign.newsletters.render import Recipient, render_group

RECIPIENTS = 10_000
EVENTS = 20
BASELINE_SAMPLE = 100


def events() -> list[Event]:
    return [
        Event(
            source_id=str(i),
            title=f"Rencontre de l'économie sociale et solidaire n°{i}",
            description="Une soirée d'échanges entre coopératives, associations et habitants. " * 2,
            starts_at=datetime(2016, 11, 7 + i % 5, 8 + i % 9, 30, tzinfo=UTC),
            venue="Maison des associations",
            city="Rennes",
            postcode="35000",
            region="Bretagne",
            theme=("Se loger", "Travailler", "Consommer")[i % 3],
            organiser_name=f"Coopérative {i}",
            url=f"https://lemois-ess.org/evenements/{i}",
            image_url=f"https://lemois-ess.org/images/{i}.jpg",
        )
        for i in range(EVENTS)
    ]


def recipient(number: int) -> Recipient:
    return Recipient(
        email=f"personne{number}@example.org",
        first_name=f"Prénom{number}",
        last_name="Nom",
        region="Bretagne",
        unsubscribe_url=f"https://lemois-ess.org/u/{number:08d}",
        view_url=f"https://lemois-ess.org/v/{number:08d}",
        pixel_url=f"https://lemois-ess.org/p/{number:08d}.gif",
    )


def main() -> None:
    settings = Settings()
    context = {"title": "Le Mois de l'ESS, c'est maintenant !", "events": events()}
    people = [recipient(n) for n in range(RECIPIENTS)]

    start = time.perf_counter()
    compiled = render_group("mois-ess", context, settings)
    group_seconds = time.perf_counter() - start

    start = time.perf_counter()
    for person in people:
        message = compiled.personalise(person)
    fast = (time.perf_counter() - start) / RECIPIENTS
    html_kb = len(message.html.encode()) / 1024

    start = time.perf_counter()
    for person in people[:BASELINE_SAMPLE]:
        render_group("mois-ess", context, settings).personalise(person)
    naive = (time.perf_counter() - start) / BASELINE_SAMPLE

    print(
        f"HTML size: {html_kb:.1f} KB, {EVENTS} events; group render (once): "
        f"{group_seconds * 1000:.1f} ms"
    )
    print(
        f"render once + personalise: {fast * 1000:.4f} ms per recipient "
        f"({RECIPIENTS} recipients, {fast * RECIPIENTS:.2f} s in all)"
    )
    print(
        f"naive full render per recipient: {naive * 1000:.3f} ms per recipient "
        f"(timed on {BASELINE_SAMPLE}, extrapolated to {RECIPIENTS}: "
        f"{naive * RECIPIENTS:.1f} s)"
    )
    print(
        f"speed-up: {naive / fast:.0f}x (goal ≥100x); "
        f"per recipient {'under' if fast < 0.0002 else 'OVER'} the 0.2 ms goal"
    )


if __name__ == "__main__":
    main()
