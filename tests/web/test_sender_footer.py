"""The public pages' footer and the confirmation email name the sender identity in force: the
one an admin stored in the database over the config file's."""

from __future__ import annotations

from sqlmodel import Session

from campaign.config import Settings
from campaign.sender import save_sender
from campaign.web.templates import ConfirmationEmail, Pages

STORED = {
    "from_name": "Les Prix ESS",
    "from_address": "prix@prix-ess.org",
    "reply_to": "equipe@prix-ess.org",
    "postal_address": "ESS France, 34 bis rue Vignon, 75009 Paris",
}


def test_public_pages_and_the_confirmation_email_take_the_stored_identity(engine) -> None:
    settings = Settings()
    with Session(engine) as session:
        save_sender(session, STORED, actor="web:admin@example.org")
        session.commit()
    page = Pages(settings, engine=engine).not_found().body.decode()
    assert "Les Prix ESS — ESS France, 34 bis rue Vignon, 75009 Paris" in page
    assert "00 rue de l&#39;Exemple" not in page

    message = ConfirmationEmail(settings, engine=engine).message(
        to="anne@coop.fr",
        first_name="Anne",
        list_name="Newsletter nationale",
        confirm_url="https://liens.lemois-ess.org/confirmation/x",
        valid_days=7,
    )
    assert (message.from_name, message.from_address, message.reply_to) == (
        "Les Prix ESS",
        "prix@prix-ess.org",
        "equipe@prix-ess.org",
    )
    assert "ESS France, 34 bis rue Vignon" in message.text


def test_without_a_database_the_file_identity_applies() -> None:
    page = Pages(Settings()).not_found().body.decode()
    assert "Le Mois de l&#39;ESS — CNCRESS, 00 rue de l&#39;Exemple, 75000 Paris" in page
