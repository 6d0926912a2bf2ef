"""Importing subscribers from real files: the rules an import must keep, on both engines."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, select

from campaign.audience.importer import import_subscribers
from campaign.audience.subscribers import add_subscriber, change_status
from campaign.importing import ImportSummary
from campaign.models import (
    ConsentAction,
    ConsentEvent,
    MailingList,
    Membership,
    Subscriber,
    SubscriberStatus,
)
from campaign.tabular import FileFormatError
from campaign.taxonomy import Taxonomy

TAXONOMY = Taxonomy.from_settings()


def csv_file(
    folder: Path, lines: list[str], name: str = "abonnes.csv", encoding: str = "utf-8"
) -> Path:
    path = folder / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def run_import(
    session: Session, path: Path, *, list_name: str | None = None, dry_run: bool = False
) -> ImportSummary:
    report = import_subscribers(
        session, path, list_name=list_name, dry_run=dry_run, actor="tester", taxonomy=TAXONOMY
    )
    session.commit()
    return report


def subscribers(session: Session) -> dict[str, Subscriber]:
    session.expire_all()
    return {s.email: s for s in session.exec(select(Subscriber))}


def counts(session: Session) -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        len(session.exec(select(model)).all())
        for model in (Subscriber, MailingList, Membership, ConsentEvent)
    )


def test_french_headers_in_windows_1252_import_with_accents(
    session: Session, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        [
            "Adresse électronique;Prénom;Nom de famille;Organisme;Région;CP;Fonction",
            "Helene.Robin@Exemple.FR;Hélène;Robin;Coopérative du Bocage;PACA;;Présidente",
            "loic@exemple.fr;Loïc;Blanc;;;1000;",
            "zoe@exemple.fr;Zoé;Girard;;Bretagne;75011;",
        ],
        encoding="cp1252",
    )

    report = run_import(session, path)

    assert (report.added, report.updated, report.unchanged, report.skipped) == (3, 0, 0, [])
    people = subscribers(session)
    helene = people["helene.robin@exemple.fr"]
    assert (helene.first_name, helene.last_name, helene.organisation) == (
        "Hélène",
        "Robin",
        "Coopérative du Bocage",
    )
    assert helene.region == "Provence-Alpes-Côte d'Azur"
    assert helene.attributes == {"Fonction": "Présidente"}
    assert (helene.status, helene.source) == ("active", "import:abonnes.csv")
    # A postcode alone gives the region; the leading zero Excel dropped comes back.
    assert (people["loic@exemple.fr"].postcode, people["loic@exemple.fr"].region) == (
        "01000",
        "Auvergne-Rhône-Alpes",
    )
    # A region given wins over the postcode's.
    assert people["zoe@exemple.fr"].region == "Bretagne"


def test_english_headers_in_an_xlsx_workbook_import(session: Session, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["E-mail", "First name", "Last name", "Organization", "Postcode", "Language"])
    sheet.append(["anne@example.org", "Anne", "Smith", "Fair Coop", 35000, "English"])
    path = tmp_path / "contacts.xlsx"
    workbook.save(path)

    report = run_import(session, path)

    assert report.added == 1
    anne = subscribers(session)["anne@example.org"]
    assert (anne.first_name, anne.organisation, anne.postcode) == ("Anne", "Fair Coop", "35000")
    assert (anne.region, anne.language) == ("Bretagne", "en")


def test_bad_addresses_are_skipped_with_their_exact_row_number_and_reason(
    session: Session, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        [
            "email,nom",
            "ok@exemple.fr,A",
            "pas-une-adresse,B",
            "",
            ",C",
            "x@@y.fr,D",
            "ok2@exemple.fr,E",
        ],
    )

    report = run_import(session, path)

    assert report.added == 2
    assert [(s.row, s.value) for s in report.skipped] == [
        (3, "pas-une-adresse"),
        (5, ""),
        (6, "x@@y.fr"),
    ]
    assert str(report.skipped[0].reason).startswith("invalid email address")
    assert str(report.skipped[1].reason) == "no email address"
    assert [s.reason.code for s in report.skipped[:2]] == [
        "import.invalid_email",
        "import.no_email",
    ]
    assert report.rows == 5


def test_an_address_repeated_in_the_file_is_imported_once(session: Session, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path, ["email;prénom", "a@ex.fr;Anne", "b@ex.fr;Bruno", "A@EX.FR;Annie", "b@ex.fr;"]
    )

    report = run_import(session, path)

    assert report.added == 2
    assert [(s.row, str(s.reason), s.value) for s in report.skipped] == [
        (4, "duplicate of row 2", "a@ex.fr"),
        (5, "duplicate of row 3", "b@ex.fr"),
    ]
    assert subscribers(session)["a@ex.fr"].first_name == "Anne"


def test_duplicates_are_found_across_batches(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("campaign.audience.importer.BATCH_SIZE", 3)
    lines = ["email"] + [f"p{n}@ex.fr" for n in range(10)] + ["p1@ex.fr"]

    report = run_import(session, csv_file(tmp_path, lines))

    assert report.added == 10
    assert [(s.row, str(s.reason)) for s in report.skipped] == [(12, "duplicate of row 3")]


def test_an_existing_subscriber_is_updated_not_duplicated(session: Session, tmp_path: Path) -> None:
    add_subscriber(
        session, "jean@ex.fr", profile={"first_name": "Jean", "last_name": "Dupont"}, actor="t"
    )
    add_subscriber(session, "marie@ex.fr", profile={"first_name": "Marie"}, actor="t")
    session.commit()
    path = csv_file(
        tmp_path,
        [
            "email;prénom;nom;structure",
            "JEAN@ex.fr;;Dupont;Mutuelle Solidaire",  # empty first name must not erase "Jean"
            "marie@ex.fr;Marie;;",  # nothing new
            "neuf@ex.fr;Noël;;",
        ],
    )

    report = run_import(session, path)

    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    people = subscribers(session)
    assert len(people) == 3
    jean = people["jean@ex.fr"]
    assert (jean.first_name, jean.last_name, jean.organisation) == (
        "Jean",
        "Dupont",
        "Mutuelle Solidaire",
    )
    assert jean.source == "manual"


def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    session: Session, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, ["email;prénom;Téléphone", "a@ex.fr;Anne;0102", "b@ex.fr;Bruno;"])
    run_import(session, path, list_name="Presse")
    before = counts(session)

    again = run_import(session, path, list_name="Presse")

    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert counts(session) == before


@pytest.mark.parametrize("status", ["unsubscribed", "bounced", "complained"])
def test_someone_who_left_is_never_made_active_again(
    session: Session, tmp_path: Path, status: str
) -> None:
    person, _ = add_subscriber(session, "parti@ex.fr", actor="t")
    change_status(
        session, person, SubscriberStatus(status), ConsentAction(status), method="manual", actor="t"
    )
    session.commit()
    path = csv_file(tmp_path, ["email;prénom", "parti@ex.fr;Paul", "autre@ex.fr;Ava"])

    report = run_import(session, path, list_name="Newsletter nationale")

    assert subscribers(session)["parti@ex.fr"].status == status
    assert subscribers(session)["parti@ex.fr"].first_name == "Paul"  # profile may be refreshed
    assert (report.added, report.updated) == (1, 1)
    assert any("row" in str(w) and "2" in str(w) and "stay so" in str(w) for w in report.warnings)
    members = session.exec(select(Membership.subscriber_id)).all()
    assert person.id not in members
    lines = session.exec(
        select(ConsentEvent).where(
            ConsentEvent.subscriber_id == person.id, ConsentEvent.method == "import"
        )
    ).all()
    assert lines == []


def test_list_option_creates_the_list_and_logs_consent_for_every_row(
    session: Session, tmp_path: Path
) -> None:
    add_subscriber(session, "ancien@ex.fr", actor="t")
    session.commit()
    path = csv_file(tmp_path, ["courriel", "ancien@ex.fr", "nouveau@ex.fr"], name="presse.csv")

    report = run_import(session, path, list_name="Presse")

    assert (report.added, report.updated, report.unchanged) == (1, 1, 0)  # joining is an update
    press = session.exec(select(MailingList).where(MailingList.name == "Presse")).one()
    people = subscribers(session)
    members = set(
        session.exec(select(Membership.subscriber_id).where(Membership.list_id == press.id))
    )
    assert members == {people["ancien@ex.fr"].id, people["nouveau@ex.fr"].id}
    log = {
        (e.subscriber_id, e.list_id, e.action, e.method, e.source, e.actor)
        for e in session.exec(select(ConsentEvent).where(ConsentEvent.method == "import"))
    }
    new_id, old_id = people["nouveau@ex.fr"].id, people["ancien@ex.fr"].id
    assert log == {
        (new_id, None, "subscribed", "import", "presse.csv row 3", "tester"),
        (new_id, press.id, "subscribed", "import", "presse.csv row 3", "tester"),
        (old_id, press.id, "subscribed", "import", "presse.csv row 2", "tester"),
    }


def test_someone_who_left_a_list_is_not_put_back_on_it(session: Session, tmp_path: Path) -> None:
    from campaign.audience.subscribers import unsubscribe

    add_subscriber(session, "a@ex.fr", list_names=["Presse"], actor="t")
    unsubscribe(session, "a@ex.fr", actor="t", list_name="Presse")
    session.commit()

    report = run_import(session, csv_file(tmp_path, ["email", "a@ex.fr"]), list_name="Presse")

    assert report.unchanged == 1
    membership = session.exec(select(Membership)).one()
    assert membership.unsubscribed_at is not None


def test_unknown_regions_are_kept_and_reported_once(session: Session, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path, ["email;région", "a@ex.fr;Atlantide", "b@ex.fr;Atlantide", "c@ex.fr;idf"]
    )

    report = run_import(session, path)

    assert subscribers(session)["a@ex.fr"].region == "Atlantide"
    assert subscribers(session)["c@ex.fr"].region == "Île-de-France"
    assert len(report.warnings) == 1
    assert "2 rows" in str(report.warnings[0]) and "'Atlantide'" in str(report.warnings[0])


def test_a_dry_run_reports_the_same_and_writes_nothing(session: Session, tmp_path: Path) -> None:
    add_subscriber(session, "a@ex.fr", actor="t")
    session.commit()
    before = counts(session)
    path = csv_file(tmp_path, ["email;nom", "a@ex.fr;Martin", "b@ex.fr;B", "bad;X", "b@ex.fr;"])

    dry = run_import(session, path, list_name="Nouvelle liste", dry_run=True)

    assert counts(session) == before
    assert subscribers(session)["a@ex.fr"].last_name == ""
    real = run_import(session, path, list_name="Nouvelle liste")
    assert dry.dry_run and not real.dry_run
    assert (dry.added, dry.updated, dry.unchanged, dry.skipped, dry.warnings) == (
        real.added,
        real.updated,
        real.unchanged,
        real.skipped,
        real.warnings,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 20, "binary"),
        (b"", "empty"),
        ("nom;prénom\nMartin;Anne\n".encode(), "no email column"),
        (b"a@ex.fr;Anne\nb@ex.fr;Bruno\n", "add a row of column names"),
    ],
    ids=["binary-junk", "empty", "no-email-column", "no-header-row"],
)
def test_a_malformed_file_is_refused_clearly_and_changes_nothing(
    session: Session, tmp_path: Path, content: bytes, message: str
) -> None:
    add_subscriber(session, "a@ex.fr", actor="t")
    session.commit()
    before = counts(session)
    path = tmp_path / "liste.csv"
    path.write_bytes(content)

    with pytest.raises(FileFormatError, match=message):
        import_subscribers(
            session, path, list_name="Presse", dry_run=False, actor="t", taxonomy=TAXONOMY
        )
    session.rollback()

    assert counts(session) == before


def test_progress_is_reported_up_to_the_whole_file(session: Session, tmp_path: Path) -> None:
    path = csv_file(tmp_path, ["email"] + [f"p{n}@ex.fr" for n in range(2500)])
    calls: list[tuple[int, int]] = []

    import_subscribers(
        session,
        path,
        list_name=None,
        dry_run=False,
        actor="t",
        taxonomy=TAXONOMY,
        progress=lambda done, total: calls.append((done, total)),
    )

    size = path.stat().st_size
    assert len(calls) >= 3
    assert calls[-1] == (size, size)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_cli_import_prints_the_report_as_json(cli, tmp_path: Path) -> None:
    path = csv_file(tmp_path, ["Courriel;Prénom", "a@ex.fr;Anne", "faux;B", "a@ex.fr;A"])

    result = cli("subscribers", "import", str(path), "--list", "Presse", "--json")

    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {
        "file",
        "dry_run",
        "added",
        "updated",
        "unchanged",
        "skipped",
        "warnings",
        "rows",
    }
    assert (data["added"], data["rows"], data["dry_run"]) == (1, 3, False)
    assert [s["row"] for s in data["skipped"]] == [3, 4]
    assert set(data["skipped"][0]) == {"row", "reason", "value"}


def test_cli_dry_run_then_real_import_in_plain_text(cli, tmp_path: Path) -> None:
    path = csv_file(tmp_path, ["email", "a@ex.fr", "b@ex.fr"])

    dry = cli("subscribers", "import", str(path), "--dry-run")
    real = cli("subscribers", "import", str(path), "--json")

    assert dry.exit_code == 0 and "Dry run" in dry.stdout
    assert json.loads(real.stdout)["added"] == 2


@pytest.mark.parametrize(
    "content", [b"\x00\x01\x02junk" * 100, b"nom\nMartin\n"], ids=["junk", "no-email"]
)
def test_cli_refuses_a_bad_file_without_a_traceback(cli, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "liste.csv"
    path.write_bytes(content)

    result = cli("subscribers", "import", str(path), "--json")

    assert result.exit_code == 1
    assert "liste.csv" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    listed = cli("subscribers", "list", "--json")
    assert json.loads(listed.stdout) == []
