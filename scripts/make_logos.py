"""Draw the shipped templates' logos (``templates/newsletters/*/logo.png``) with Chromium.

The logos are the campaigns' names set in their colours, drawn at twice the size they are shown
(400 × 100 px for 200 px in the letter) so they stay sharp on high-density screens. A team with
its own logo replaces the file (or puts one in its own templates folder). Run:
``.venv/bin/python scripts/make_logos.py`` (Debian's Chromium, as the browser tests use).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1] / "templates" / "newsletters"
LOGOS = {
    "mois-ess": ("Le Mois", "de l'ESS", "#c2185b"),
    "prix-ess": ("Les Prix", "ESS", "#1565c0"),
}
PAGE = """<!doctype html><html><body style="margin:0">
<div id="logo" style="width:400px;height:100px;display:flex;align-items:center;
 justify-content:center;background:#ffffff;font-family:Helvetica,Arial,sans-serif">
 <span style="font-size:44px;font-weight:700;color:{color}">{first}</span>
 <span style="font-size:44px;font-weight:300;color:#333333;margin-left:12px">{second}</span>
</div></body></html>"""


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 400, "height": 100})
        for template, (first, second, color) in LOGOS.items():
            page.set_content(PAGE.format(first=first, second=second, color=color))
            page.locator("#logo").screenshot(path=str(ROOT / template / "logo.png"))
            print(ROOT / template / "logo.png")
        browser.close()


if __name__ == "__main__":
    main()
