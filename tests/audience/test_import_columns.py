"""Importing a file whose columns need a word from the person: a column chosen by hand, a join
date read from the file and counted by the list growth report, the consent origin logged."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import Session, select

from campaign.audience.importer import (
    KEEP,
    SKIP,
    ColumnError,
    MissingEmailColumn,
    import_subscribers,
    parse_join_date,
    read_columns,
)
from campaign.audience.subscribers import add_subscriber
from campaign.models import ConsentEvent, Subscriber
from campaign.reports.model import Period
from campaign.reports.queries import subscriber_figures
from campaign.taxonomy import Taxonomy

TAXONOMY = Taxonomy.from_settings()
PARIS = ZoneInfo("Europe/Paris")
ORIGIN = "formulaire papier Mois de l'ESS 2025"


def _file(folder: Path, text: str, name: str = "salon.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _import(session: Session, path: Path, **options: object):
    report = import_subscribers(
        session,
        path,
        list_name=options.pop("list_name", "Salon"),  # type: ignore[arg-type]
        dry_run=bool(options.pop("dry_run", False)),
        actor="tester",
        taxonomy=TAXONOMY,
        zone=PARIS,
        **options,  # type: ignore[arg-type]
    )
    session.commit()
    return report


def _people(session: Session) -> dict[str, Subscriber]:
    session.expire_all()
    return {person.email: person for person in session.exec(select(Subscriber))}


UNUSUAL = (
    "Courriel pro;Prénom;Service;Note interne;Date d'inscription\n"
    "anne@coop.fr;Anne;Compta;à rappeler;14/03/2025\n"
    "paul@coop.fr;Paul;Direction;;2024-11-02\n"
)


def test_a_file_without_a_recognised_email_column_names_its_columns_with_a_code(
    session: Session, tmp_path: Path
) -> None:
    path = _file(tmp_path, UNUSUAL)
    plan = read_columns(path)
    assert not plan.has_email
    assert plan.recognised == {"first_name": "Prénom", "joined_at": "Date d'inscription"}
    assert plan.unrecognised == ["Courriel pro", "Service", "Note interne"]
    assert plan.examples["Courriel pro"] == "anne@coop.fr"
    assert plan.examples["Note interne"] == "à rappeler"  # the first non-empty value

    with pytest.raises(MissingEmailColumn) as refused:
        _import(session, path)
    assert (refused.value.code, refused.value.field) == ("no_email_column", "email")
    assert refused.value.values["columns"] == [
        "Courriel pro",
        "Prénom",
        "Service",
        "Note interne",
        "Date d'inscription",
    ]
    assert "--" not in str(refused.value)  # a stage words no CLI option
    assert _people(session) == {}


def test_the_column_chosen_by_hand_holds_the_addresses_and_the_others_follow_the_choices(
    session: Session, tmp_path: Path
) -> None:
    path = _file(tmp_path, UNUSUAL)
    report = _import(
        session,
        path,
        columns={"Courriel pro": "email", "Service": "organisation", "Note interne": SKIP},
        consent_origin=ORIGIN,
    )
    assert (report.added, report.skipped, report.warnings) == (2, [], [])
    people = _people(session)
    assert set(people) == {"anne@coop.fr", "paul@coop.fr"}
    anne = people["anne@coop.fr"]
    assert (anne.first_name, anne.organisation, anne.attributes) == ("Anne", "Compta", {})
    # The join date is midnight in Paris on the day the file names, stored in UTC.
    assert anne.joined_at == datetime(2025, 3, 13, 23, 0, tzinfo=UTC)
    assert people["paul@coop.fr"].joined_at == datetime(2024, 11, 1, 23, 0, tzinfo=UTC)

    # Every consent line of the import carries the origin given for the whole file.
    lines = session.exec(select(ConsentEvent)).all()
    assert len(lines) == 4  # subscribed, and joined the list, for each of the two
    assert {line.detail for line in lines} == {ORIGIN}
    assert {line.source for line in lines} == {"salon.csv row 2", "salon.csv row 3"}


def test_a_column_kept_as_an_attribute_and_bad_choices_are_refused_with_a_code(
    session: Session, tmp_path: Path
) -> None:
    path = _file(tmp_path, UNUSUAL)
    _import(session, path, columns={"Courriel pro": "email", "Service": KEEP})
    assert _people(session)["anne@coop.fr"].attributes == {
        "Service": "Compta",
        "Note interne": "à rappeler",
    }
    for columns, code, field in (
        ({"Courriel": "email"}, "unknown_column", "Courriel"),
        ({"Courriel pro": "telephone"}, "unknown_field", "Courriel pro"),
        ({"Courriel pro": "email", "Service": "email"}, "field_taken", "Service"),
    ):
        with pytest.raises(ColumnError) as refused:
            _import(session, path, columns=columns)
        assert (refused.value.code, refused.value.field) == (code, field)


def test_join_dates_as_people_type_them_and_excel_stores_them(tmp_path: Path) -> None:
    midnight = datetime(2025, 3, 13, 23, 0, tzinfo=UTC)
    for text in ("14/03/2025", "14/3/2025", "14-03-2025", "14.03.25", "2025-03-14"):
        assert parse_join_date(text, PARIS) == midnight, text
    assert parse_join_date("14/03/2025 09:30", PARIS) == datetime(2025, 3, 14, 8, 30, tzinfo=UTC)
    for text in ("31/02/2025", "mars 2025", "2025", "14/03"):
        assert parse_join_date(text, PARIS) is None, text

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Courriel", "Date d'inscription"])
    sheet.append(["zoe@coop.fr", datetime(2023, 6, 1)])
    path = tmp_path / "salon.xlsx"
    workbook.save(path)
    assert read_columns(path).examples["Date d'inscription"] == "2023-06-01"


def test_an_unusable_join_date_is_reported_and_the_row_still_goes_in(
    session: Session, tmp_path: Path
) -> None:
    path = _file(
        tmp_path,
        "email;date d'inscription\na@coop.fr;bientôt\nb@coop.fr;01/01/2999\nc@coop.fr;01/01/2020\n",
    )
    report = _import(session, path)
    assert report.added == 3
    (warning,) = report.warnings
    assert "row 2 ('bientôt')" in str(warning) and "row 3 ('01/01/2999')" in str(warning)
    people = _people(session)
    assert people["a@coop.fr"].joined_at is None and people["b@coop.fr"].joined_at is None
    assert people["c@coop.fr"].joined_at is not None


def test_a_known_person_takes_the_earlier_join_date_only(session: Session, tmp_path: Path) -> None:
    for email in ("old@coop.fr", "new@coop.fr"):
        add_subscriber(session, email, actor="tester")
    session.commit()
    path = _file(tmp_path, "email;inscrit le\nold@coop.fr;05/02/2019\nnew@coop.fr;05/02/2999\n")
    _import(session, path)
    people = _people(session)
    assert people["old@coop.fr"].joined_at == datetime(2019, 2, 4, 23, 0, tzinfo=UTC)
    assert people["new@coop.fr"].joined_at is None  # a date after their arrival changes nothing


def test_the_list_growth_report_counts_people_from_their_join_date(
    session: Session, tmp_path: Path
) -> None:
    path = _file(
        tmp_path,
        "email;Date d'inscription\n"
        "a@coop.fr;10/01/2025\nb@coop.fr;20/01/2025\nc@coop.fr;03/03/2025\nd@coop.fr;\n",
    )
    _import(session, path)
    now = datetime(2025, 4, 15, 12, 0, tzinfo=UTC)
    # d@ has no date: counted from the day of the import (today), outside this period.
    figures = subscriber_figures(session, Period(date(2025, 1, 1), date(2025, 3, 31), PARIS), now)
    months = [(m.month, m.joined, m.subscribers) for m in figures.months]
    assert months == [
        (date(2025, 1, 1), 2, 2),
        (date(2025, 2, 1), 0, 2),
        (date(2025, 3, 1), 1, 3),
    ]


def test_a_dry_run_with_chosen_columns_saves_nothing(session: Session, tmp_path: Path) -> None:
    path = _file(tmp_path, UNUSUAL)
    report = _import(session, path, columns={"Courriel pro": "email"}, dry_run=True)
    assert report.added == 2 and report.dry_run
    assert _people(session) == {}


def test_the_command_line_names_its_option_for_the_column_to_choose(cli, tmp_path: Path) -> None:
    path = _file(tmp_path, UNUSUAL)
    refused = cli("subscribers", "import", str(path))
    assert refused.exit_code == 1
    assert "salon.csv has no email column" in refused.stderr
    assert "--column 'HEADER=email'" in " ".join(refused.stderr.split())
    imported = cli(
        "subscribers", "import", str(path), "--list", "Salon",
        "--column", "Courriel pro=email", "--consent-origin", ORIGIN, "--json",
    )  # fmt: skip
    assert imported.exit_code == 0, imported.stderr
    assert '"added": 2' in imported.stdout
    shown = json.loads(cli("subscribers", "show", "anne@coop.fr", "--json").stdout)
    assert {line["detail"] for line in shown["consent_log"]} == {ORIGIN}
    assert shown["joined_at"] == "2025-03-13T23:00:00+00:00"  # in the RGPD export too
    wrong = cli("subscribers", "import", str(path), "--column", "Courriel pro=telephone")
    assert wrong.exit_code == 1 and "--column 'Courriel pro'" in wrong.stderr
