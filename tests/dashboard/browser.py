"""Headless Chromium for the end-to-end tests: the system's browser, never a downloaded one.

Every request leaving the machine is refused and recorded, so a test can prove that pages load
nothing from the internet. Screenshots go to ``test-artifacts/dashboard/`` (ignored by git).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.browsers import no_browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def require_chromium() -> None:
    if not Path(CHROMIUM).is_file():
        no_browser(f"no Chromium at {CHROMIUM}: install Debian's chromium package to run this")


@dataclass
class Offsite:
    """Requests to anywhere but this machine, refused: (resource type, frame URL, URL)."""

    refused: list[tuple[str, str, str]] = field(default_factory=list)


@contextmanager
def browser_page(width: int = 1280, height: int = 900) -> Iterator[tuple[object, Offsite]]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    offsite = Offsite()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="fr-FR"
            )

            def route(route, request) -> None:  # type: ignore[no-untyped-def]
                host = urlsplit(request.url).hostname or ""
                if request.url.startswith(("data:", "about:")) or host in LOCAL_HOSTS:
                    route.continue_()
                    return
                frame = request.frame.url if request.frame else ""
                offsite.refused.append((request.resource_type, frame, request.url))
                route.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page, offsite
        finally:
            browser.close()


# Form fields a screen reader would announce without a name: no aria-label, no aria-labelledby
# pointing at text, no <label> around them or for their id holding text of its own.
UNLABELLED_FIELDS = """
() => {
  const text = (node) => (node ? node.textContent.trim() : "");
  const own = (label) => {
    const copy = label.cloneNode(true);
    copy.querySelectorAll('input, select, textarea').forEach((inner) => inner.remove());
    return copy.textContent.trim() !== "";
  };
  return Array.from(document.querySelectorAll('input, select, textarea'))
    .filter((el) => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type))
    .filter((el) => {
      if ((el.getAttribute('aria-label') || '').trim()) return false;
      const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
      if (ids.some((id) => text(document.getElementById(id)))) return false;
      const around = el.closest('label');
      if (around && own(around)) return false;
      const labels = el.id ? document.querySelectorAll('label[for="' + el.id + '"]') : [];
      return !Array.from(labels).some((label) => own(label));
    })
    .map((el) => el.outerHTML.slice(0, 120));
}
"""


def screenshot(page, name: str, engine: str) -> Path:  # type: ignore[no-untyped-def]
    """Save the whole page, after checking it is not wider than the window and that every
    form field on it has a label."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
    unlabelled = page.evaluate(UNLABELLED_FIELDS)
    assert unlabelled == [], f"{name}: fields without a label on {page.url}: {unlabelled}"
    folder = ARTIFACTS / engine
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
