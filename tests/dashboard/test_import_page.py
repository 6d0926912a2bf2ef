"""The import page keeps the file between the dry run and the import, asks which column holds
the addresses when none is recognised, and needs the consent origin to import."""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlmodel import Session, select

from campaign.dashboard.uploads import HOLD, HeldUploads
from campaign.models import ConsentEvent, Subscriber
from tests.conftest import mode_of
from tests.dashboard.conftest import Served, page_csrf

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)

SHEET = (
    "Courriel pro;Prénom;Service;Date d'inscription\n"
    "anne@coop.fr;Anne;Compta;14/03/2025\n"
    "paul@coop.fr;Paul;Direction;02/11/2024\n"
).encode()
ORIGIN = "formulaire papier Mois de l'ESS 2025"


def _post(client: requests.Session, served: Served, data: dict, file: bytes | None = None):
    url = served.url + "/subscribers/import"
    files = {"file": ("salon.csv", file, "text/csv")} if file is not None else None
    return client.post(url, data={"csrf": page_csrf(client, url), **data}, files=files)


def _token(page: str) -> str:
    match = re.search(r'name="upload" value="([^"]+)"', page)
    assert match, "the page carries the kept file's token"
    return match.group(1)


def _people(served: Served) -> list[Subscriber]:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        return list(session.exec(select(Subscriber)))


def test_the_page_asks_for_the_email_column_and_imports_the_kept_file(
    served: Served, usual_umask: None
) -> None:
    editor = served.client("editor")
    asked = _post(editor, served, {"list_name": "Salon", "action": "essai"}, SHEET)
    assert asked.status_code == 200
    assert "Aucune colonne n'a été reconnue comme l'adresse e-mail" in asked.text
    assert "Colonne « Courriel pro » (par exemple : anne@coop.fr)" in asked.text
    assert "« Date d&#39;inscription » (la date d'inscription)" in asked.text  # recognised
    token = _token(asked.text)
    folder = Path(served.settings.dashboard.import_dir)
    (kept,) = (folder / token).glob("*.csv")
    assert kept.name == "salon.csv" and kept.read_bytes() == SHEET
    assert mode_of(kept) == 0o600 and mode_of(kept.parent) == 0o700 and mode_of(folder) == 0o700
    assert str(folder) not in asked.text  # the page names a token, never a path

    columns = {"column_header": ["Courriel pro", "Service"], "column_field": ["email", "ignore"]}
    trial = _post(
        editor, served, {"upload": token, "list_name": "Salon", "action": "essai", **columns}
    )
    assert trial.status_code == 200 and "rien n'est enregistré" in trial.text
    assert re.search(r"<strong>2</strong> abonnés ajoutés", trial.text)
    assert "Confirmer l'import" in trial.text and _token(trial.text) == token
    assert _people(served) == []

    # Importing without the consent origin checks the file again and asks for it.
    no_origin = _post(editor, served, {"upload": token, "list_name": "Salon", **columns})
    assert no_origin.status_code == 400
    assert "Indiquez l'origine du consentement pour importer" in no_origin.text
    assert _people(served) == [] and kept.exists()

    done = _post(
        editor,
        served,
        {"upload": token, "list_name": "Salon", "consent_origin": ORIGIN, **columns},
    )
    assert done.status_code == 200, done.text
    assert "rien n'est enregistré" not in done.text
    assert re.search(r"<strong>2</strong> abonnés ajoutés", done.text)
    assert not kept.parent.exists()  # deleted once imported
    people = {person.email: person for person in _people(served)}
    assert people["anne@coop.fr"].joined_at == datetime(2025, 3, 13, 23, 0, tzinfo=UTC)
    assert people["anne@coop.fr"].attributes == {}  # "Service": not imported
    with Session(served.engine) as session:  # type: ignore[arg-type]
        details = set(session.exec(select(ConsentEvent.detail)))
    assert details == {ORIGIN}

    again = _post(editor, served, {"upload": token, "consent_origin": ORIGIN, **columns})
    assert again.status_code == 400 and "n'est plus gardé" in again.text


def test_a_kept_file_is_its_uploaders_only(served: Served) -> None:
    editor, admin = served.client("editor"), served.client("admin")
    asked = _post(editor, served, {"action": "essai"}, SHEET)
    token = _token(asked.text)
    other = _post(admin, served, {"upload": token, "consent_origin": ORIGIN})
    assert other.status_code == 400 and "n'est plus gardé" in other.text
    crafted = _post(editor, served, {"upload": "../../etc/passwd", "consent_origin": ORIGIN})
    assert crafted.status_code == 400 and "n'est plus gardé" in crafted.text
    assert _people(served) == []


def test_two_columns_chosen_for_one_field_are_refused_next_to_the_choice(served: Served) -> None:
    editor = served.client("editor")
    token = _token(_post(editor, served, {"action": "essai"}, SHEET).text)
    refused = _post(
        editor,
        served,
        {
            "upload": token,
            "action": "essai",
            "column_header": ["Courriel pro", "Service"],
            "column_field": ["email", "email"],
        },
    )
    assert refused.status_code == 400
    assert "Deux colonnes, « Courriel pro » et « Service », contiennent l'adresse" in refused.text
    assert _token(refused.text) == token  # still kept


def test_kept_files_expire_after_the_hold_and_strays_are_swept(tmp_path: Path) -> None:
    now = [datetime(2026, 11, 5, 10, 0, tzinfo=UTC)]
    uploads = HeldUploads(tmp_path / "imports", clock=lambda: now[0])
    held = uploads.keep(io.BytesIO(b"email\na@coop.fr\n"), "liste.csv", "editor@example.org")
    assert held.expires_at == now[0] + HOLD
    assert uploads.find(held.token, "editor@example.org") == held
    assert uploads.find(held.token, "admin@example.org") is None

    now[0] += HOLD - timedelta(seconds=1)
    assert uploads.find(held.token, "editor@example.org") is not None
    now[0] += timedelta(seconds=2)
    assert uploads.find(held.token, "editor@example.org") is None
    assert not held.path.parent.exists()  # deleted, not only hidden

    stray = tmp_path / "imports" / "leftover.csv"
    stray.write_text("x")
    old = (now[0] - 2 * HOLD).timestamp()

    os.utime(stray, (old, old))
    assert uploads.sweep() == 1 and not stray.exists()


def test_an_expired_file_goes_when_any_page_is_visited(served: Served) -> None:
    editor = served.client("editor")
    token = _token(_post(editor, served, {"action": "essai"}, SHEET).text)
    home = Path(served.settings.dashboard.import_dir) / token
    meta = home / ".upload.json"
    text = meta.read_text()
    kept_at = re.search(r'"kept_at": "([^"]+)"', text).group(1)  # type: ignore[union-attr]
    earlier = datetime.fromisoformat(kept_at) - HOLD - timedelta(minutes=1)
    meta.write_text(text.replace(kept_at, earlier.isoformat()))
    from campaign.dashboard import uploads

    uploads._last_sweep.clear()  # the once-a-minute sweep is due
    assert editor.get(served.url + "/newsletters").status_code == 200
    assert not home.exists()
