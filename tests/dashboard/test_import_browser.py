"""An import in the real Chromium: an unusual email column chosen by hand, a "Date
d'inscription" read, the consent origin given, from "Essai" to "Confirmer l'import" without
choosing the file again."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.models import ConsentEvent, Subscriber
from tests.dashboard.browser import browser_page, screenshot
from tests.dashboard.conftest import PASSWORD, Served

pytestmark = pytest.mark.one_database(
    "a page in a real browser, a door: the stages it calls are tested on both engines"
)

ORIGIN = "formulaire papier Mois de l'ESS 2025"


def test_an_import_with_a_column_chosen_by_hand_goes_from_essai_to_confirmer(
    served: Served, tmp_path: Path
) -> None:
    engine = "postgresql" if "postgresql" in served.settings.database.url else "sqlite"
    sheet = tmp_path / "salon-ess.csv"
    sheet.write_text(
        "Courriel pro;Prénom;Nom;Service;Date d'inscription\n"
        "anne@coop.fr;Anne;Martin;Compta;14/03/2025\n"
        "paul@coop.fr;Paul;Durand;Direction;2024-11-02\n"
        "pas-une-adresse;Zoé;Petit;Accueil;01/01/2025\n",
        encoding="utf-8",
    )
    with browser_page() as (page, offsite):
        page.goto(f"{served.url}/login")
        page.get_by_label("Adresse e-mail").fill("editor@example.org")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_label("Mot de passe").press("Enter")
        page.wait_for_url(re.compile(r"/admin/$"))

        page.goto(f"{served.url}/subscribers/import")
        page.get_by_label("Fichier CSV ou XLSX", exact=False).set_input_files(str(sheet))
        page.get_by_label("Liste où inscrire", exact=False).fill("Salon ESS")
        page.get_by_role("button", name="Essai").click()

        # No column is the email: the page asks, the file kept.
        page.get_by_role("alert").filter(has_text="adresse e-mail").wait_for()
        assert "Fichier gardé : salon-ess.csv" in page.locator("#held-file").inner_text()
        screenshot(page, "import-colonne-a-choisir", engine)
        page.get_by_label("Colonne « Courriel pro »", exact=False).select_option("email")
        page.get_by_label("Colonne « Service »", exact=False).select_option(label="ne pas importer")
        page.get_by_role("button", name="Essai").click()

        report = page.locator("section.report")
        assert "essai : rien n'est enregistré" in report.inner_text()
        assert report.locator("li strong").first.inner_text() == "2"
        with Session(served.engine) as session:  # type: ignore[arg-type]
            assert session.exec(select(Subscriber)).all() == []
        # The choices are still made; the file is not chosen again.
        assert page.get_by_label("Colonne « Courriel pro »", exact=False).input_value() == "email"
        assert page.get_by_label("Liste où inscrire", exact=False).input_value() == "Salon ESS"
        page.get_by_label("Origine du consentement", exact=False).fill(ORIGIN)
        screenshot(page, "import-essai", engine)
        page.get_by_role("button", name="Confirmer l'import").click()

        report = page.locator("section.report")
        report.wait_for()
        assert "rien n'est enregistré" not in report.inner_text()
        assert report.locator("li strong").first.inner_text() == "2"
        assert page.locator("#held-file").count() == 0  # imported: no longer kept
        screenshot(page, "import-confirme", engine)
        assert offsite.refused == []

    with Session(served.engine) as session:  # type: ignore[arg-type]
        people = {p.email: p for p in session.exec(select(Subscriber))}
        assert set(people) == {"anne@coop.fr", "paul@coop.fr"}
        assert people["anne@coop.fr"].joined_at == datetime(2025, 3, 13, 23, 0, tzinfo=UTC)
        assert people["paul@coop.fr"].joined_at == datetime(2024, 11, 1, 23, 0, tzinfo=UTC)
        assert people["anne@coop.fr"].attributes == {}
        assert set(session.exec(select(ConsentEvent.detail))) == {ORIGIN}
    assert list(Path(served.settings.dashboard.import_dir).iterdir()) == []
