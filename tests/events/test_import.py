"""Importing the events website's export: JSON and CSV/XLSX, French and English, upserts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from campaign.events.importer import import_events, parse_when, split_list
from campaign.models.events import Event
from campaign.tabular import FileFormatError
from campaign.taxonomy import Taxonomy

PARIS = ZoneInfo("Europe/Paris")
TAXONOMY = Taxonomy.from_settings()

FRENCH_HEADERS = (
    "Identifiant;Titre;Description;Date de début;Date de fin;Lieu;Adresse;Code postal;Ville;"
    "Région;Type;Thème du jour;Publics;Organisateur;Famille;Secteur;Effectif;Co-organisateurs;"
    "Date d'inscription;Lien;Image"
)


def english_event(source_id: str = "E1", **changes: object) -> dict:
    event = {
        "id": source_id,
        "title": "Débat : la finance solidaire",
        "description": "Un échange ouvert à tous.",
        "start": "2026-11-05T18:30:00",
        "end": "2026-11-05T20:00:00",
        "venue": "Médiathèque",
        "address": "3 rue des Écoles",
        "postcode": "35000",
        "city": "Rennes",
        "region": "Bretagne",
        "type": "Débat",
        "theme": "Entreprendre, épargner et investir",
        "publics": ["Grand public", "Jeunes"],
        "organiser": "Coopérative La Navette",
        "family": "Coopérative",
        "sector": "Finance solidaire",
        "size": "1 à 9 salariés",
        "co_organisers": ["Association Le Phare"],
        "registered_at": "2026-09-12T10:00:00+02:00",
        "url": "https://lemois-ess.example.org/manifestations/e1",
        "image": "",
    }
    event.update(changes)
    return event


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(path: Path, *lines: str, header: str = FRENCH_HEADERS) -> Path:
    path.write_text("\n".join((header, *lines)) + "\n", encoding="utf-8-sig")
    return path


def french_row(source_id: str = "F1", **changes: str) -> str:
    fields = {
        "id": source_id,
        "title": "Portes ouvertes à la recyclerie",
        "description": "Visite des ateliers.",
        "start": "05/11/2026 14:30",
        "end": "05/11/2026 17:00",
        "venue": "La Recyclerie",
        "address": "12 quai de la Gare",
        "postcode": "13001",
        "city": "Marseille",
        "region": "PACA",
        "type": "Portes ouvertes",
        "theme": "consommer",
        "publics": "Grand public, Militants | Jeunes",
        "organiser": "Entreprise d'insertion Rebonds",
        "family": "Entreprise sociale",
        "sector": "Environnement",
        "size": "10 à 49 salariés",
        "co": "Mairie de Valbrune",
        "registered": "20/09/2026 09:15",
        "url": "https://lemois-ess.example.org/manifestations/f1",
        "image": "",
    }
    fields.update(changes)
    return ";".join(fields.values())


def run(session: Session, path: Path, *, dry_run: bool = False):
    return import_events(session, path, dry_run=dry_run, taxonomy=TAXONOMY, zone=PARIS)


def stored(session: Session) -> dict[str, Event]:
    return {event.source_id: event for event in session.exec(select(Event)).all()}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- reading -----------------------------------------------------------------------------------


def test_a_json_list_with_english_keys_adds_every_field(session: Session, tmp_path: Path) -> None:
    report = run(session, write_json(tmp_path / "events.json", [english_event()]))

    assert (report.added, report.updated, report.unchanged, report.skipped) == (1, 0, 0, [])
    event = stored(session)["E1"]
    assert event.title == "Débat : la finance solidaire"
    assert event.starts_at == utc(2026, 11, 5, 17, 30)
    assert event.ends_at == utc(2026, 11, 5, 19, 0)
    assert (event.venue, event.city, event.postcode, event.region) == (
        "Médiathèque",
        "Rennes",
        "35000",
        "Bretagne",
    )
    assert (event.event_type, event.theme) == ("Débat", "Entreprendre, épargner et investir")
    assert event.publics == ["Grand public", "Jeunes"]
    assert (event.organiser_name, event.organiser_family) == (
        "Coopérative La Navette",
        "Coopérative",
    )
    assert (event.organiser_sector, event.organiser_size) == ("Finance solidaire", "1 à 9 salariés")
    assert event.co_organisers == ["Association Le Phare"]
    assert event.registered_at == utc(2026, 9, 12, 8, 0)
    assert event.url == "https://lemois-ess.example.org/manifestations/e1"
    assert event.extra == {}


def test_a_json_object_holding_an_events_list_is_read_too(session: Session, tmp_path: Path) -> None:
    data = {"exported_at": "2026-10-30", "events": [english_event("A"), english_event("B")]}

    report = run(session, write_json(tmp_path / "export.json", data))

    assert report.added == 2
    assert set(stored(session)) == {"A", "B"}


def test_a_french_csv_export_is_read_with_its_headers_and_dates(
    session: Session, tmp_path: Path
) -> None:
    report = run(session, write_csv(tmp_path / "export.csv", french_row()))

    assert (report.added, report.skipped, report.warnings) == (1, [], [])
    event = stored(session)["F1"]
    assert event.starts_at == utc(2026, 11, 5, 13, 30)
    assert event.ends_at == utc(2026, 11, 5, 16, 0)
    assert event.region == "Provence-Alpes-Côte d'Azur"
    assert event.theme == "Consommer"
    assert event.publics == ["Grand public", "Militants", "Jeunes"]
    assert event.co_organisers == ["Mairie de Valbrune"]
    assert event.registered_at == utc(2026, 9, 20, 7, 15)
    assert event.organiser_family == "Entreprise sociale"


def test_english_csv_headers_separated_by_commas_work_as_well(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "source_id,title,start,end,city,postcode,type,theme,publics,organiser,family\n"
        'X9,Ciné-débat,2026-11-12 20:00,,Lille,59000,Projection,Se cultiver,"Jeunes;Militants",'
        "Collectif Le Chaudron,Association\n",
        encoding="utf-8",
    )

    report = run(session, path)

    assert report.added == 1
    event = stored(session)["X9"]
    assert event.starts_at == utc(2026, 11, 12, 19, 0)
    assert event.ends_at is None
    assert event.region == "Hauts-de-France"  # from the postcode
    assert event.publics == ["Jeunes", "Militants"]
    assert event.organiser_name == "Collectif Le Chaudron"


def test_an_xlsx_export_is_read_with_real_date_cells(session: Session, tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Identifiant", "Titre", "Début", "Fin", "Région", "Thème"])
    sheet.append([1234, "Forum de l'ESS", datetime(2026, 11, 20, 9, 0), None, "idf", "Travailler"])
    path = tmp_path / "export.xlsx"
    workbook.save(path)

    report = run(session, path)

    assert report.added == 1
    event = stored(session)["1234"]
    assert event.starts_at == utc(2026, 11, 20, 8, 0)
    assert event.region == "Île-de-France"


def test_columns_the_catalogue_does_not_know_are_kept_in_extra(
    session: Session, tmp_path: Path
) -> None:
    path = write_json(
        tmp_path / "events.json", [english_event(accessibility="PMR", capacity=80, note="")]
    )

    run(session, path)

    assert stored(session)["E1"].extra == {"accessibility": "PMR", "capacity": 80}


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("05/11/2026 14:30", utc(2026, 11, 5, 13, 30)),
        ("5/11/2026 14h30", utc(2026, 11, 5, 13, 30)),
        ("2026-11-05T14:30", utc(2026, 11, 5, 13, 30)),
        ("2026-11-05 14:30:00", utc(2026, 11, 5, 13, 30)),
        ("2026-11-05T14:30:00+01:00", utc(2026, 11, 5, 13, 30)),
        ("2026-11-05T13:30:00Z", utc(2026, 11, 5, 13, 30)),
        ("24/10/2026 14:30", utc(2026, 10, 24, 12, 30)),  # summer time: UTC+2
        ("26/10/2026 14:30", utc(2026, 10, 26, 13, 30)),  # after the change on 25 Oct: UTC+1
    ],
)
def test_dates_in_french_or_iso_form_are_paris_times_stored_in_utc(
    written: str, expected: datetime
) -> None:
    when, all_day = parse_when(written, PARIS)
    assert when == expected
    assert when.tzinfo == UTC
    assert not all_day


@pytest.mark.parametrize("written", ["05/11/2026", "2026-11-05"])
def test_a_day_alone_is_local_midnight(written: str) -> None:
    assert parse_when(written, PARIS) == (utc(2026, 11, 4, 23, 0), True)


def test_times_are_stored_in_utc_on_both_sides_of_the_october_clock_change(
    session: Session, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        french_row("before", start="24/10/2026 10:00", end=""),
        french_row("after", start="02/11/2026 10:00", end=""),
    )

    run(session, path)

    events = stored(session)
    assert events["before"].starts_at == utc(2026, 10, 24, 8, 0)
    assert events["after"].starts_at == utc(2026, 11, 2, 9, 0)


def test_an_all_day_event_ending_the_same_day_is_kept(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", french_row("D", start="07/11/2026", end="07/11/2026"))

    report = run(session, path)

    assert report.added == 1
    event = stored(session)["D"]
    assert event.all_day
    assert event.starts_at == utc(2026, 11, 6, 23, 0)  # midnight in Paris
    assert event.ends_at == utc(2026, 11, 7, 23, 0)  # over at the midnight after its day


# --- lists, regions, themes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "Grand public, Jeunes, Militants",
        "Grand public; Jeunes;Militants",
        "Grand public | Jeunes | Militants",
        '["Grand public", "Jeunes", "Militants"]',
        ["Grand public", "Jeunes", "Militants", "Jeunes"],
    ],
)
def test_publics_are_split_on_commas_semicolons_pipes_or_read_as_a_json_list(
    written: str | list[str],
) -> None:
    assert split_list(written) == ["Grand public", "Jeunes", "Militants"]


def test_regions_and_themes_are_canonicalised_and_a_blank_region_comes_from_the_postcode(
    session: Session, tmp_path: Path
) -> None:
    path = write_json(
        tmp_path / "events.json",
        [
            english_event("1", region="ile de france", theme="SE LOGER"),
            english_event("2", region="", postcode="97400", theme="s'evader"),
            english_event("3", region="", postcode="", theme=""),
        ],
    )

    report = run(session, path)

    assert report.warnings == []
    events = stored(session)
    assert (events["1"].region, events["1"].theme) == ("Île-de-France", "Se loger")
    assert (events["2"].region, events["2"].theme) == ("La Réunion", "S'évader")
    assert (events["3"].region, events["3"].theme) == ("", "")


def test_an_unknown_region_or_theme_is_kept_as_written_with_one_warning_for_all_its_rows(
    session: Session, tmp_path: Path
) -> None:
    path = write_json(
        tmp_path / "events.json",
        [
            english_event("1", region="Atlantide"),
            english_event("2", region="Atlantide", theme="Jardiner"),
            english_event("3"),
        ],
    )

    report = run(session, path)

    assert report.added == 3
    assert report.warnings == [
        "Unknown region 'Atlantide' kept as written (rows 1, 2).",
        "Unknown daily theme 'Jardiner' kept as written (row 2).",
    ]
    events = stored(session)
    assert (events["2"].region, events["2"].theme) == ("Atlantide", "Jardiner")


# --- upserts -----------------------------------------------------------------------------------


def test_importing_the_same_file_again_leaves_every_event_unchanged(
    session: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "export.csv", french_row("1"), french_row("2"))
    run(session, path)
    session.commit()
    first_update = stored(session)["1"].updated_at

    report = run(session, path)

    assert (report.added, report.updated, report.unchanged) == (0, 0, 2)
    assert stored(session)["1"].updated_at == first_update


def test_an_edited_event_is_updated_and_the_others_stay_unchanged(
    session: Session, tmp_path: Path
) -> None:
    run(session, write_json(tmp_path / "v1.json", [english_event("1"), english_event("2")]))
    session.commit()
    edited = [
        english_event("1", start="2026-11-06T18:30:00", end="2026-11-06T20:00:00"),
        english_event("2"),
        english_event("3"),
    ]

    report = run(session, write_json(tmp_path / "v2.json", edited))
    session.commit()

    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    events = stored(session)
    assert len(events) == 3
    assert events["1"].starts_at == utc(2026, 11, 6, 17, 30)


def test_the_same_events_in_json_then_in_csv_are_unchanged(
    session: Session, tmp_path: Path
) -> None:
    run(session, write_csv(tmp_path / "export.csv", french_row("1")))
    session.commit()
    same = english_event(
        "1",
        title="Portes ouvertes à la recyclerie",
        description="Visite des ateliers.",
        start="2026-11-05T14:30:00+01:00",
        end="2026-11-05T17:00",
        venue="La Recyclerie",
        address="12 quai de la Gare",
        postcode="13001",
        city="Marseille",
        region="Provence-Alpes-Côte d'Azur",
        type="Portes ouvertes",
        theme="Consommer",
        publics=["Grand public", "Militants", "Jeunes"],
        organiser="Entreprise d'insertion Rebonds",
        family="Entreprise sociale",
        sector="Environnement",
        size="10 à 49 salariés",
        co_organisers=["Mairie de Valbrune"],
        registered_at="2026-09-20T09:15:00",
        url="https://lemois-ess.example.org/manifestations/f1",
    )

    report = run(session, write_json(tmp_path / "export.json", [same]))

    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)


# --- bad rows and bad files --------------------------------------------------------------------


def test_bad_rows_are_skipped_with_their_row_numbers_and_the_valid_rows_go_through(
    session: Session, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        french_row("ok-1"),  # row 2
        french_row(""),  # row 3: no id
        french_row("no-title", title=""),  # row 4
        "",  # row 5: blank, counted but not reported
        french_row("bad-date", start="31/11/2026 10:00"),  # row 6
        french_row("backwards", start="05/11/2026 18:00", end="05/11/2026 16:00"),  # row 7
        french_row("no-start", start=""),  # row 8
        french_row("ok-1", title="Encore"),  # row 9: same id as row 2
        french_row("ok-2"),  # row 10
    )

    report = run(session, path)

    assert (report.added, report.updated, report.unchanged) == (2, 0, 0)
    assert [(row.row, row.value, str(row.reason)) for row in report.skipped] == [
        (3, "", "no id"),
        (4, "no-title", "no title"),
        (
            6,
            "bad-date",
            "start date '31/11/2026 10:00' is not a date (write 05/11/2026 14:30 or "
            "2026-11-05T14:30)",
        ),
        (7, "backwards", "ends (05/11/2026 16:00) before it starts (05/11/2026 18:00)"),
        (8, "no-start", "no start date"),
        (9, "ok-1", "same id as row 2"),
    ]
    assert set(stored(session)) == {"ok-1", "ok-2"}
    assert stored(session)["ok-1"].title == "Portes ouvertes à la recyclerie"


def test_json_rows_are_numbered_from_one_and_non_objects_are_skipped(
    session: Session, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "events.json", [english_event("1"), "oops", english_event("")])

    report = run(session, path)

    assert report.added == 1
    assert [(row.row, str(row.reason)) for row in report.skipped] == [
        (2, "not an event object: 'oops'"),
        (3, "no id"),
    ]


def test_an_unreadable_registration_date_is_a_warning_not_a_lost_event(
    session: Session, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "events.json", [english_event(registered_at="hier")])

    report = run(session, path)

    assert report.added == 1
    assert report.warnings == ["Registration date unreadable, left empty (row 1)."]
    assert stored(session)["E1"].registered_at is None


def test_a_csv_without_an_id_column_is_refused_and_changes_nothing(
    session: Session, tmp_path: Path
) -> None:
    run(session, write_json(tmp_path / "first.json", [english_event("1")]))
    session.commit()
    path = tmp_path / "no-id.csv"
    path.write_text("Titre;Début\nForum;05/11/2026\n", encoding="utf-8")

    with pytest.raises(FileFormatError, match=r"no-id\.csv: no id column"):
        run(session, path)

    session.rollback()
    assert set(stored(session)) == {"1"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"id": "1", "title": "x",', "invalid JSON"),
        ('{"total": 3}', "expected a list of events"),
        ('[{"title": "Sans identifiant", "start": "2026-11-05"}]', "no event has an id"),
    ],
)
def test_a_malformed_json_file_is_refused_naming_the_file_and_changes_nothing(
    session: Session, tmp_path: Path, content: str, message: str
) -> None:
    run(session, write_json(tmp_path / "first.json", [english_event("1")]))
    session.commit()
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(FileFormatError, match=message) as error:
        run(session, path)

    assert "broken.json" in str(error.value)
    session.rollback()
    assert set(stored(session)) == {"1"}


def test_a_dry_run_counts_exactly_but_writes_nothing(session: Session, tmp_path: Path) -> None:
    run(session, write_json(tmp_path / "v1.json", [english_event("1"), english_event("2")]))
    session.commit()
    edited = [english_event("1", title="Nouveau titre"), english_event("2"), english_event("3")]

    report = run(session, write_json(tmp_path / "v2.json", edited), dry_run=True)
    session.commit()

    assert report.dry_run
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    session.expire_all()
    events = stored(session)
    assert set(events) == {"1", "2"}
    assert events["1"].title == "Débat : la finance solidaire"


# --- through the command line ------------------------------------------------------------------


def test_the_import_command_reports_in_json(cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", french_row("1"), french_row("", title="x"))

    result = cli("events", "import", path, "--json")

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["added"], report["rows"]) == (1, 2)
    assert report["skipped"] == [{"row": 3, "reason": "no id", "value": ""}]
    assert "Traceback" not in result.stderr


def test_the_import_command_dry_run_saves_nothing(cli, tmp_path: Path) -> None:
    path = write_json(tmp_path / "events.json", [english_event("1")])

    dry = cli("events", "import", path, "--dry-run", "--json")
    real = cli("events", "import", path, "--json")

    assert json.loads(dry.stdout)["added"] == 1
    assert json.loads(real.stdout)["added"] == 1


def test_the_import_command_explains_a_malformed_file_without_a_traceback(
    cli, tmp_path: Path
) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")

    result = cli("events", "import", path)

    assert result.exit_code == 1
    assert "broken.json" in result.stderr
    assert "invalid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_import_command_prints_a_summary_for_people(cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", french_row("1"), french_row("2", title=""))

    result = cli("events", "import", path)

    assert result.exit_code == 0, result.stderr
    assert "1 added" in result.stdout
    assert "no title" in result.stdout
