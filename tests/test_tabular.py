"""Reading spreadsheets as people send them: separators, encodings, XLSX, broken files."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from campaign.tabular import FileFormatError, match_headers, open_sheet


def read(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    with open_sheet(path) as sheet:
        return sheet.headers, list(sheet.rows)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_each_separator_is_recognised_from_the_content(tmp_path: Path, separator: str) -> None:
    lines = ["email|Prénom|Nom", "a@exemple.fr|Élise|Martin", "b@exemple.fr|Jean|Dupont"]
    path = write(tmp_path / "list.csv", "\n".join(lines).replace("|", separator) + "\n")

    headers, rows = read(path)

    assert headers == ["email", "Prénom", "Nom"]
    assert rows == [
        (2, {"email": "a@exemple.fr", "Prénom": "Élise", "Nom": "Martin"}),
        (3, {"email": "b@exemple.fr", "Prénom": "Jean", "Nom": "Dupont"}),
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_accents_survive_every_encoding_excel_writes(tmp_path: Path, encoding: str) -> None:
    path = write(
        tmp_path / "list.csv", "Courriel;Prénom;Région\nh@ex.fr;Hélène;Île-de-France\n", encoding
    )

    headers, rows = read(path)

    assert headers == ["Courriel", "Prénom", "Région"]
    assert rows == [(2, {"Courriel": "h@ex.fr", "Prénom": "Hélène", "Région": "Île-de-France"})]


def test_a_windows_1252_accent_far_into_an_ascii_file_is_still_read(tmp_path: Path) -> None:
    lines = ["email;nom"] + [f"p{n}@ex.fr;Martin" for n in range(5000)] + ["z@ex.fr;Frédéric"]
    path = write(tmp_path / "list.csv", "\n".join(lines) + "\n", "cp1252")

    _, rows = read(path)

    assert rows[-1] == (5002, {"email": "z@ex.fr", "nom": "Frédéric"})


def test_blank_lines_are_skipped_but_keep_their_row_numbers(tmp_path: Path) -> None:
    path = write(tmp_path / "list.csv", "email,nom\n\na@ex.fr,A\n , \nb@ex.fr,B\n")

    _, rows = read(path)

    assert [number for number, _ in rows] == [3, 5]


def test_short_and_long_rows_are_padded_or_cut(tmp_path: Path) -> None:
    path = write(tmp_path / "list.csv", "email,nom,ville\na@ex.fr\nb@ex.fr,B,Lyon,extra\n")

    _, rows = read(path)

    assert rows[0][1] == {"email": "a@ex.fr", "nom": "", "ville": ""}
    assert rows[1][1] == {"email": "b@ex.fr", "nom": "B", "ville": "Lyon"}


def test_quoted_cells_may_hold_separators_and_line_breaks(tmp_path: Path) -> None:
    path = write(tmp_path / "list.csv", 'email;note\na@ex.fr;"un; deux\ntrois"\nb@ex.fr;x\n')

    _, rows = read(path)

    assert rows == [
        (2, {"email": "a@ex.fr", "note": "un; deux\ntrois"}),
        (3, {"email": "b@ex.fr", "note": "x"}),
    ]


def test_excel_text_formulas_keep_their_leading_zeros(tmp_path: Path) -> None:
    path = write(tmp_path / "list.csv", 'email;cp\na@ex.fr;="01000"\n')

    _, rows = read(path)

    assert rows[0][1]["cp"] == "01000"


def test_xlsx_first_sheet_is_read_with_numbers_as_typed(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Adresse e-mail", "Code postal", "Prénom", "Taux"])
    sheet.append(["a@ex.fr", 75011, "Zoé", 0.5])
    sheet.append([None, None, None, None])
    sheet.append(["b@ex.fr", 35000.0, None, None])
    workbook.create_sheet("Autre").append(["ignored"])
    path = tmp_path / "list.xlsx"
    workbook.save(path)

    headers, rows = read(path)

    assert headers == ["Adresse e-mail", "Code postal", "Prénom", "Taux"]
    assert rows == [
        (2, {"Adresse e-mail": "a@ex.fr", "Code postal": "75011", "Prénom": "Zoé", "Taux": "0.5"}),
        (4, {"Adresse e-mail": "b@ex.fr", "Code postal": "35000", "Prénom": "", "Taux": ""}),
    ]


def test_progress_reaches_the_file_size_after_the_last_row(tmp_path: Path) -> None:
    path = write(tmp_path / "list.csv", "email\n" + "".join(f"p{n}@ex.fr\n" for n in range(20000)))

    with open_sheet(path) as sheet:
        assert sheet.bytes_read() < sheet.total_bytes
        for _ in sheet.rows:
            pass
        assert sheet.bytes_read() == sheet.total_bytes == path.stat().st_size


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (bytes(range(256)) * 50, "binary"),
        (b"\n\n  \n", "no header"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b"PK\x03\x04not really a zip", "Excel workbook"),
    ],
    ids=["empty", "binary-junk", "blank-lines-only", "old-xls", "broken-zip"],
)
def test_a_file_that_is_not_a_table_is_refused_with_its_name(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "abonnés.csv"
    path.write_bytes(content)

    with pytest.raises(FileFormatError) as error:
        read(path)

    assert "abonnés.csv" in str(error.value)
    assert expected in str(error.value)


def test_headers_match_whatever_their_accents_case_or_punctuation() -> None:
    aliases = {"email": ("email", "e-mail", "courriel"), "region": ("région",), "cp": ("cp",)}

    found = match_headers(["E-MAIL ", "Region", "Nom", "Code"], aliases)

    assert found == {"email": "E-MAIL ", "region": "Region"}


def test_the_first_alias_wins_when_a_file_has_two_candidate_columns() -> None:
    aliases = {"email": ("email", "mail")}

    assert match_headers(["Mail", "Email"], aliases) == {"email": "Email"}
