"""The HTML bilan in a real headless Chromium: no error, no request, every chart visible, printable.

Chromium is the Debian package (``/usr/bin/chromium``, installed by ``.ci/run``), driven by
Playwright with ``executable_path``: no browser is ever downloaded. Only a machine with no
Chromium at all (a laptop) skips these tests, with that reason shown in pytest's summary.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from campaign.reports import Labels
from campaign.reports.build.newsletters import (
    NEWSLETTER_COLUMNS,
    _newsletter_row,
    _opens_clicks_chart,
)
from campaign.reports.charts import LineSeries, Series, columns, lines
from campaign.reports.export import to_html
from campaign.reports.model import Column, Period, Report, Section, Table
from campaign.reports.queries import NewsletterFigures
from tests.browsers import no_browser
from tests.reports.conftest import N1_TITLE, N2_TITLE, N3_TITLE

pytestmark = pytest.mark.one_database(
    "the report files' format: the report queries are tested on both engines elsewhere"
)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXPECTED_CHARTS = [
    "opens_clicks",  # opens and clicks per newsletter
    "days",  # the first seven days of each newsletter (three of them)
    "days",
    "days",
    "list_growth",
    "followers-mois_ess",
    "followers-prix_ess",
]


def find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        no_browser(
            "no Chromium on this machine: install the Debian package chromium "
            "(scripts/install-test-peers does) to check the HTML report in a browser"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Visit:
    """A page opened from a file, with every request, console error and page error recorded."""

    def __init__(self, browser, path: Path) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url, wait_until="load")

    def close(self) -> None:
        self.context.close()


# For each chart: its size on screen, and for each mark (bar, line, dot) whether it is drawn
# (painted, inside the chart, not hidden) and is what the page shows at its centre.
MEASURE_CHARTS = """
() => [...document.querySelectorAll("svg.chart")].map((svg) => {
  const size = svg.getBoundingClientRect();
  const marks = [...svg.querySelectorAll("rect.bar, polyline.line, circle.dot")].map((mark) => {
    mark.scrollIntoView({block: "center"});
    const box = svg.getBoundingClientRect();
    const r = mark.getBoundingClientRect();
    const style = getComputedStyle(mark);
    const painted = mark.tagName === "polyline" ? style.stroke : style.fill;
    const value = mark.dataset.value === undefined ? null : Number(mark.dataset.value);
    let onTop = null;
    if (mark.tagName !== "polyline" && r.width > 0 && r.height > 0) {
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      onTop = hit === mark || mark.contains(hit);
    }
    return {
      tag: mark.tagName, value, width: r.width, height: r.height, painted,
      visible: style.visibility === "visible" && style.display !== "none"
               && Number(style.opacity) > 0,
      inside: r.left >= box.left - 1 && r.right <= box.right + 1
              && r.top >= box.top - 1 && r.bottom <= box.bottom + 1,
      onTop,
    };
  });
  return {key: svg.dataset.chart, width: size.width, height: size.height, marks};
})
"""


def assert_charts_visible(charts: list[dict]) -> None:
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 100, chart["key"]
        assert chart["marks"], f"chart {chart['key']} draws nothing"
        for mark in chart["marks"]:
            assert mark["visible"] and mark["inside"], (chart["key"], mark)
            assert mark["painted"] not in ("none", "rgba(0, 0, 0, 0)", ""), (chart["key"], mark)
            if mark["tag"] == "rect" and mark["value"] == 0:
                continue  # a zero bar has no length, by design
            assert mark["width"] > 0.5 and mark["height"] > 0.5, (chart["key"], mark)
            if mark["onTop"] is not None:
                assert mark["onTop"], f"a mark of {chart['key']} is covered: {mark}"


def test_the_bilan_opens_offline_without_errors_and_its_charts_are_visible(
    history_cli, workdir, browser
) -> None:
    cli, _ = history_cli
    result = cli("report", "bilan", "--year", "2016")
    assert result.exit_code == 0, result.stderr
    path = workdir / "bilan-2016.html"
    assert "bilan-2016.html" in result.stdout and path.is_file()
    visit = Visit(browser, path)
    try:
        # The page itself is the one request; nothing else (no font, image, script, favicon).
        assert visit.requests == [visit.url]
        assert visit.errors == []
        page = visit.page
        assert page.title().startswith("Bilan de la communication")
        text = page.inner_text("body")
        for expected in (
            "Titre",
            "Destinataires réels",
            "30 mai 2016",
            "1er décembre 2016",
            "Abonnés mois par mois",
            "Abonnés de @Mois_ESS",
            "Rejets et échecs",
        ):
            assert expected in text
        # A title that looks like HTML is shown as text, not parsed.
        assert "Prix ESS : les <lauréats> & leurs projets" in text
        assert page.locator("lauréats").count() == 0
        charts = page.evaluate(MEASURE_CHARTS)
        assert [chart["key"] for chart in charts] == EXPECTED_CHARTS
        assert_charts_visible(charts)
        # Opens and clicks per newsletter: the longest bar is N1's 7 opens.
        bars = [m for m in charts[0]["marks"] if m["tag"] == "rect"]
        assert [m["value"] for m in bars] == [7, 4, 5, 3, 3, 2]
        assert max(bars, key=lambda m: m["width"])["value"] == 7
        # Printed: the charts are still there, in colour, and the PDF is made.
        page.emulate_media(media="print")
        assert_charts_visible(page.evaluate(MEASURE_CHARTS))
        pdf = page.pdf(format="A4", landscape=True, print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
        assert visit.requests == [visit.url] and visit.errors == []
    finally:
        visit.close()


# Each section of the page: its heading, then each table's title (h3) with what follows it: the
# table's first column heading and number of body rows, or "empty" for the empty-table note.
SECTIONS = """
() => [...document.querySelectorAll("section.report-section")].map((section) => [
  section.querySelector("h2").innerText,
  [...section.querySelectorAll("h3")].map((title) => {
    const next = title.nextElementSibling;
    if (next.tagName !== "TABLE") return [title.innerText, next.className, 0];
    const first = next.querySelector("th").innerText;
    const rows = next.classList.contains("upright") ? 1 : next.querySelectorAll("tbody tr").length;
    return [title.innerText, first, rows];
  }),
])
"""


def test_the_bilan_holds_every_table_of_every_report(history_cli, workdir, browser) -> None:
    """Every table the reports make, under its title, with as many rows as the history gives
    (worked out from tests/reports/conftest.py; an upright table is one row shown sideways)."""
    cli, _ = history_cli
    assert cli("report", "bilan", "--year", "2016").exit_code == 0
    visit = Visit(browser, workdir / "bilan-2016.html")
    try:
        sections = visit.page.evaluate(SECTIONS)
    finally:
        visit.close()

    def detail(links: int, regions: int, reasons: int) -> list[list[object]]:
        return [
            ["Résultats", "Date", 1],
            ["Clics par lien", "Lien", links],
            ["Par région", "Région", regions],
            ["Les sept premiers jours", "Jour", 7],
            ["Rejets et échecs", "Statut", reasons]
            if reasons
            else ["Rejets et échecs", "empty", 0],
        ]

    assert sections == [
        # The key figures first: sentences (lists, no table) about the newsletters and each account.
        ["Chiffres clés", [["Newsletters", "", 0], ["@Mois_ESS", "", 0], ["@Prix_ESS", "", 0]]],
        # N1, N2, N3 (the draft N4 is in no report); the wide table is cut in two, and each
        # part names the newsletters by their title.
        ["Newsletters", [["Newsletters", "Titre", 3], ["Newsletters (suite)", "Titre", 3]]],
        # N1: links L1-L3; regions B, O, N and none (a4); b2's bounce and c1's failure.
        [f"{N1_TITLE} — 30 mai 2016", detail(3, 4, 2)],
        # N2: L4, L5; groups B, O, N; e1 and e2 bounced for the same reason.
        [f"{N2_TITLE} — 18 novembre 2016", detail(2, 3, 1)],
        # N3: L6; a1 and a2, both in Bretagne (one row, shown upright); nothing bounced.
        [f"{N3_TITLE} — 1er décembre 2016", detail(1, 1, 0)],
        [
            "Abonnés",
            [
                ["Abonnés mois par mois", "Mois", 12],
                ["Abonnés par région", "Région", 4],  # B, O, N and none
                ["Abonnés par origine", "Origine", 3],  # the import file, the form, by hand
            ],
        ],
        [
            "Réseaux sociaux",
            [
                ["Comptes", "Compte", 2],  # @Mois_ESS and @Prix_ESS
                ["Comptes (suite)", "Compte", 2],
                ["Publications", "Compte", 3],  # P1, P2, P3 (P4 dry run, P5 draft, P6 in 2015)
            ],
        ],
        # ESS France, cress_bzh, CressIDF (OldFriend spoke in 2015).
        [
            "Influenceurs",
            [["Influenceurs : comptes qui nous ont mentionnés ou repartagés", "Rang", 3]],
        ],
    ]


def test_each_report_alone_as_html(history_cli, workdir, browser) -> None:
    cli, history = history_cli
    commands = {
        "newsletters.html": ("newsletters", "--year", "2016"),
        "n2.html": ("newsletter", str(history.newsletters["N2"])),
        "subscribers.html": ("subscribers", "--year", "2016", "--lang", "en"),
        "social.html": ("social", "--account", "prix_ess"),
    }
    expected = {
        "newsletters.html": ["opens_clicks"],
        "n2.html": ["days"],
        "subscribers.html": ["list_growth"],
        "social.html": ["followers-prix_ess"],
    }
    for name, arguments in commands.items():
        result = cli("report", *arguments, "--out", name)
        assert result.exit_code == 0, result.stderr
        visit = Visit(browser, workdir / name)
        try:
            assert visit.requests == [visit.url] and visit.errors == []
            charts = visit.page.evaluate(MEASURE_CHARTS)
            assert [chart["key"] for chart in charts] == expected[name]
            assert_charts_visible(charts)
        finally:
            visit.close()
    english = (workdir / "subscribers.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and "Subscribers month by month" in english


def test_html_and_xlsx_need_a_file_name(history_cli) -> None:
    cli, _ = history_cli
    result = cli("report", "newsletters", "--format", "html")
    assert result.exit_code == 1
    assert "--out" in result.stderr and "Traceback" not in result.stderr


# --- printed on A4 landscape ----------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")
FR = Labels.load("fr", PARIS)
A4_LANDSCAPE = (841.89, 595.28)  # points
PRINT_WIDTH = round((297 - 2 * 14) / 25.4 * 96)  # CSS px between the @page margins (14 mm)

# Under print media, at the printed width: every table wider than its page (or cut inside its
# box), and every pair of chart texts whose boxes overlap or that stick out of their chart.
MEASURE_PRINT = """
() => {
  const page = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("table")]
    .filter((t) => t.getBoundingClientRect().right > page + 0.5
                   || t.scrollWidth > t.clientWidth + 1)
    .map((t) => [t.previousElementSibling ? t.previousElementSibling.innerText : "",
                 t.getBoundingClientRect().width, t.scrollWidth]);
  const overlaps = [];
  const outside = [];
  for (const svg of document.querySelectorAll("svg.chart")) {
    const frame = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll("text")]
      .map((t) => [t.textContent, t.getBoundingClientRect()]);
    texts.forEach(([text, r]) => {
      if (r.left < frame.left - 0.5 || r.right > frame.right + 0.5 || r.top < frame.top - 0.5
          || r.bottom > frame.bottom + 0.5) outside.push([svg.dataset.chart, text]);
    });
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const [a, p] = texts[i], [b, q] = texts[j];
        if (p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom) {
          overlaps.push([svg.dataset.chart, a, b]);
        }
      }
    }
  }
  return {page, document: document.documentElement.scrollWidth, wide, overlaps, outside,
          texts: document.querySelectorAll("svg.chart text").length};
}
"""


def media_box(pdf: bytes) -> tuple[float, float]:
    """The size in points of the PDF's first page (Chromium writes every page the same)."""
    found = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert found, "a PDF page has a MediaBox"
    return float(found.group(1)), float(found.group(2))


def assert_printable(browser, path: Path) -> dict:
    """``path`` printed by Chromium: A4 landscape by its own @page rule, no table wider than
    the page, no chart text over another or outside its chart."""
    visit = Visit(browser, path)
    try:
        page = visit.page
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        assert media_box(pdf) == pytest.approx(A4_LANDSCAPE, abs=1)
        asked = page.pdf(format="A4", landscape=True, print_background=True)
        assert media_box(asked) == pytest.approx(A4_LANDSCAPE, abs=1)
        page.set_viewport_size({"width": PRINT_WIDTH, "height": 800})
        page.emulate_media(media="print")
        measured = page.evaluate(MEASURE_PRINT)
        assert measured["page"] == PRINT_WIDTH
        assert measured["wide"] == [], "tables wider than the printed page"
        assert measured["document"] <= PRINT_WIDTH
        assert measured["overlaps"] == [], "chart texts over one another"
        assert measured["outside"] == [], "chart texts cut at the chart's edge"
        assert visit.errors == []
        return measured
    finally:
        visit.close()


def test_the_bilan_prints_on_a4_landscape_without_cut_tables_or_overlapping_labels(
    history_cli, workdir, browser
) -> None:
    cli, _ = history_cli
    assert cli("report", "bilan", "--year", "2016").exit_code == 0
    measured = assert_printable(browser, workdir / "bilan-2016.html")
    assert measured["texts"] > 100  # every chart's ticks, categories and values were measured


def test_crowded_tables_and_charts_still_print(workdir, browser) -> None:
    """What a busy year gives: 16 newsletters with long titles and five-digit figures, a URL
    with no place to break, followers measured every day, two years of months, and days whose
    opens and clicks are large and close (their values would sit on one another)."""
    sent = datetime(2016, 1, 12, 9, tzinfo=UTC)
    figures = [
        NewsletterFigures(
            id=n,
            title=f"Édition {n} : le Mois de l'ESS dans toutes les régions, programme complet "
            "des manifestations et appel à candidatures des Prix ESS",
            sent_at=sent + timedelta(days=21 * n),
            addressed=123_456 + n,
            delivered=118_765 + n,
            opens=2_345_678,
            clicks=123_456,
            unique_opens=98_765,
            unique_clicks=45_678,
            machine_opens=1_234_567,
            bot_clicks=98_765,
            unsubscribes=12_345,
            bounces=4_691,
        )
        for n in range(16)
    ]
    rows = [_newsletter_row(f, FR) for f in figures]
    rows[0]["title"] = "https://www.lemois-ess.org/" + "programme-" * 20  # nowhere to break
    newsletters = Table(
        "newsletters",
        NEWSLETTER_COLUMNS,
        rows,
        parts=((*(c.key for c in NEWSLETTER_COLUMNS),),),  # all fifteen columns in one table
    )
    days = columns(
        "days",
        "Jour par jour",
        [(f"jour {d}", FR.date(sent + timedelta(days=d), year=False)) for d in range(1, 8)],
        [
            Series("Ouvertures", [123_456, 123_000, 98_000, 97_500, 12_345, 12_300, 12_000]),
            Series("Clics", [123_400, 122_900, 97_900, 97_600, 12_340, 12_310, 11_990]),
            Series("Machines", [123_450, 122_950, 97_950, 97_550, 12_344, 12_305, 11_995]),
        ],
        FR.integer,
    )
    origin = datetime(2016, 1, 1, tzinfo=UTC)
    followers = lines(
        "followers-busy",
        "Abonnés",
        [LineSeries("@Mois_ESS", [(d, 5_000 + 3 * d) for d in range(366)])],
        [(d, FR.date(origin + timedelta(days=d))) for d in range(0, 366, 7)],  # 53 dates
        FR.integer,
    )
    months = lines(
        "list_growth",
        "Abonnés",
        [LineSeries("Abonnés", [(m, 1_713 + 90 * m) for m in range(25)])],
        [(m, FR.month(datetime(2015 + m // 12, m % 12 + 1, 1))) for m in range(25)],
        FR.integer,
    )
    report = Report(
        "bilan",
        Period.year(2016, PARIS),
        [
            Section(
                "newsletters",
                [newsletters],
                [_opens_clicks_chart(figures, FR), days, followers, months],
            ),
            Section("social", [Table("posts", [Column("text", "text")], [{"text": "x" * 400}])]),
        ],
        datetime(2017, 1, 2, tzinfo=UTC),
    )
    path = workdir / "busy.html"
    path.write_text(to_html(report, FR), encoding="utf-8")
    measured = assert_printable(browser, path)
    assert measured["texts"] > 100
