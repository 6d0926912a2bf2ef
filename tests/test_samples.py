"""The shipped sample files: exactly what the generator writes, and as messy as promised."""

from __future__ import annotations

import csv
import importlib.util
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from campaign.addresses import InvalidEmail, normalise_email
from campaign.config import Settings
from campaign.events.importer import import_events
from campaign.models.events import Event
from campaign.newsletters.render import Recipient, render_group
from campaign.taxonomy import Taxonomy

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
TAXONOMY = Taxonomy.from_settings()
PARIS = ZoneInfo("Europe/Paris")
BAD_EVENT_POSITIONS = [41, 97, 158, 233]  # 1-based positions in the export (JSON item number)


@pytest.fixture(scope="module")
def generator() -> Iterator[ModuleType]:
    """scripts/generate_samples.py loaded as a module (scripts/ is not a package)."""
    name = "_campaign_generate_samples"
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "generate_samples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def read_csv(name: str, encoding: str) -> list[dict[str, str]]:
    text = (SAMPLES / name).read_bytes().decode(encoding)
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def is_valid(address: str) -> bool:
    try:
        normalise_email(address)
    except InvalidEmail:
        return False
    return True


def region_of(row: dict[str, str], region_column: str, postcode_column: str) -> str | None:
    return TAXONOMY.region(row[region_column]) or TAXONOMY.region_for_postcode(row[postcode_column])


# --- the files are the generator's ---------------------------------------------------------------


def test_the_shipped_samples_are_exactly_what_the_generator_writes(
    generator: ModuleType, tmp_path: Path
) -> None:
    written = generator.generate(tmp_path)

    names = sorted(sample.name for sample in written)
    assert names == sorted(path.name for path in SAMPLES.iterdir() if path.name in names)
    for sample in written:
        assert (tmp_path / sample.name).read_bytes() == (SAMPLES / sample.name).read_bytes(), (
            f"samples/{sample.name} is out of date: run python scripts/generate_samples.py"
        )


def test_the_generator_writes_the_same_bytes_every_time(
    generator: ModuleType, tmp_path: Path
) -> None:
    first = {sample.name: sample.data for sample in generator.generate(tmp_path / "one")}
    second = {sample.name: sample.data for sample in generator.generate(tmp_path / "two")}

    assert first == second


def test_no_sample_uses_a_real_domain() -> None:
    for path in SAMPLES.glob("*.csv"):
        text = path.read_bytes().decode("cp1252" if "1252" in path.name else "utf-8-sig")
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
            for cell in row:
                if "@" in cell and "." in cell.rsplit("@", 1)[-1]:
                    assert cell.lower().rsplit("@", 1)[-1].startswith("example."), cell


# --- subscribers -------------------------------------------------------------------------------


def test_the_subscriber_sample_is_semicolon_utf8_with_a_bom_and_french_headers() -> None:
    raw = (SAMPLES / "subscribers.csv").read_bytes()

    assert raw.startswith(b"\xef\xbb\xbfAdresse e-mail;Pr\xc3\xa9nom;Nom;Structure;R\xc3\xa9gion")


def test_the_subscriber_sample_has_the_promised_duplicates_bad_addresses_and_regions() -> None:
    rows = read_csv("subscribers.csv", "utf-8-sig")
    addresses = [row["Adresse e-mail"] for row in rows]
    valid = [address for address in addresses if is_valid(address)]

    assert len(rows) == 3000
    assert len(addresses) - len(valid) == 30  # ~1% that no one can mail
    assert len({address.lower() for address in valid}) == 2910
    assert len(valid) - len({address.lower() for address in valid}) == 60  # ~2%, other case
    spellings: dict[str, set[str]] = {}
    for address in valid:
        spellings.setdefault(address.lower(), set()).add(address)
    repeated = [group for group in spellings.values() if len(group) > 1]
    assert len(repeated) >= 50  # the repeats are written in another case, not copied as they are
    regions = {region_of(row, "Région", "Code postal") for row in rows}
    assert regions - {None} == set(TAXONOMY.regions)
    spelt_otherwise = {row["Région"] for row in rows} - set(TAXONOMY.regions) - {""}
    assert {"PACA", "ile de france"} & spelt_otherwise
    blank_with_postcode = [row for row in rows if not row["Région"] and row["Code postal"]]
    assert len(blank_with_postcode) > 100


def test_the_excel_sample_is_windows_1252_with_other_headers_and_known_addresses() -> None:
    raw = (SAMPLES / "subscribers-excel-1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = read_csv("subscribers-excel-1252.csv", "cp1252")
    main = {row["Adresse e-mail"].lower() for row in read_csv("subscribers.csv", "utf-8-sig")}

    assert list(rows[0]) == ["Courriel", "Prénom", "Nom", "Organisme", "Région", "CP"]
    assert len(rows) == 300
    assert sum(row["Courriel"].lower() in main for row in rows) == 60
    assert sum(not is_valid(row["Courriel"]) for row in rows) == 3


def test_the_subscriber_samples_import_with_their_bad_rows_skipped(session: Session) -> None:
    importer = pytest.importorskip("campaign.audience.importer")

    main = importer.import_subscribers(
        session,
        SAMPLES / "subscribers.csv",
        list_name="Newsletter nationale",
        dry_run=False,
        actor="test",
        taxonomy=TAXONOMY,
    )
    excel = importer.import_subscribers(
        session,
        SAMPLES / "subscribers-excel-1252.csv",
        list_name="Newsletter nationale",
        dry_run=False,
        actor="test",
        taxonomy=TAXONOMY,
    )

    assert (main.added, len(main.skipped)) == (2910, 90)  # 30 invalid + 60 repeated
    assert excel.added == 237
    assert excel.updated + excel.unchanged == 60
    assert len(excel.skipped) == 3


# --- events ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "header_rows"), [("events.json", 0), ("events.csv", 1)])
def test_the_event_samples_import_with_four_bad_rows_skipped(
    session: Session, name: str, header_rows: int
) -> None:
    report = import_events(session, SAMPLES / name, dry_run=False, taxonomy=TAXONOMY, zone=PARIS)

    assert (report.added, report.updated, report.unchanged) == (300, 0, 0)
    assert [row.row for row in report.skipped] == [
        position + header_rows for position in BAD_EVENT_POSITIONS
    ]
    assert [str(row.reason).split(" ")[0] for row in report.skipped] == [
        "no",
        "no",
        "start",
        "ends",
    ]
    assert report.warnings == []


def test_the_json_and_csv_event_samples_hold_the_same_events(session: Session) -> None:
    import_events(session, SAMPLES / "events.json", dry_run=False, taxonomy=TAXONOMY, zone=PARIS)
    session.commit()

    report = import_events(
        session, SAMPLES / "events.csv", dry_run=False, taxonomy=TAXONOMY, zone=PARIS
    )

    assert (report.added, report.updated, report.unchanged) == (0, 0, 300)


def test_the_event_samples_cover_every_region_and_theme_through_november(session: Session) -> None:
    import_events(session, SAMPLES / "events.json", dry_run=False, taxonomy=TAXONOMY, zone=PARIS)
    events = session.exec(select(Event)).all()

    assert {event.region for event in events} == set(TAXONOMY.regions)
    assert {event.theme for event in events} == set(TAXONOMY.themes)
    days = {event.starts_at.astimezone(PARIS).date() for event in events}
    assert min(days).isoformat() == "2026-11-01"
    assert max(days).isoformat() == "2026-11-30"
    assert len({event.event_type for event in events}) >= 6
    assert {event.organiser_family for event in events} == {
        "Association",
        "Coopérative",
        "Mutuelle",
        "Fondation",
        "Collectivité",
        "Entreprise sociale",
    }
    assert 3 <= sum(len(event.publics) for event in events) / len(events) <= 4.5
    assert all(event.url.startswith("https://lemois-ess.example.org/") for event in events)


def test_a_letter_over_every_sample_event_never_says_0h(session: Session) -> None:
    """Date-only events were shown "0h – 0h" (midnight, Paris time): now as days."""
    import_events(session, SAMPLES / "events.csv", dry_run=False, taxonomy=TAXONOMY, zone=PARIS)
    events = list(session.exec(select(Event)).all())
    assert sum(event.all_day for event in events) >= 10  # the samples do hold date-only events

    compiled = render_group("mois-ess", {"title": "Le Mois", "events": events}, Settings())
    message = compiled.personalise(Recipient(email="a@example.org"))

    for part in (message.html, message.text):
        assert re.findall(r"(?<!\d)0h", part) == []  # "10h", "20h" are fine
        # M26-0099, on 29/11/2026 alone, and M26-0072, in Guyane on 06/11/2026 to 07/11/2026.
        assert "toute la journée" in part
        assert "du vendredi 6 au samedi 7 novembre 2026" in part
        assert "(heure de La Réunion)" in part and "(heure de Guadeloupe)" in part
