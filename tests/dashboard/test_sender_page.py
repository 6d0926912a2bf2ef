"""Réglages: an admin changes the sender identity (stored over the config file, the page saying
which applies); over SMTP the sample identity is refused, in French, before a send is planned."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlmodel import Session

from campaign.models import MailingList, Newsletter, NewsletterStatus, utcnow
from campaign.sender import sender_identity
from tests.dashboard.conftest import Served, page_csrf

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)

IDENTITY = {
    "from_name": "Les Prix ESS",
    "from_address": "prix@prix-ess.org",
    "reply_to": "",
    "postal_address": "ESS France, 34 bis rue Vignon, 75009 Paris",
}


def _post(client, served: Served, path: str, data: dict, page: str = "/settings"):  # type: ignore[no-untyped-def]
    return client.post(
        served.url + path,
        data={"csrf": page_csrf(client, served.url + page), **data},
        allow_redirects=False,
    )


def test_an_admin_stores_the_sender_identity_and_the_page_says_which_applies(
    served: Served,
) -> None:
    admin = served.client("admin")
    before = admin.get(served.url + "/settings").text
    assert "Adresse d&#39;expédition — valeur du fichier de configuration" in before.replace(
        "'", "&#39;"
    )
    assert 'value="lemois@example.org"' in before
    # The outbox takes the sample identity; the page says SMTP would refuse it.
    assert "l&#39;envoi réel (SMTP) la refusera" in before.replace("'", "&#39;")

    saved = _post(admin, served, "/settings/sender", IDENTITY)
    assert saved.status_code == 200
    page = saved.text.replace("'", "&#39;")
    assert "L&#39;identité de l&#39;expéditeur est enregistrée" in page
    assert "valeur réglée dans le tableau de bord le" in page and "par admin@example.org" in page
    assert "Les Prix ESS &lt;prix@prix-ess.org&gt;" in page
    assert 'id="sender-placeholders"' not in page
    with Session(served.engine) as session:  # type: ignore[arg-type]
        identity = sender_identity(session, served.settings)
    assert identity.from_address == "prix@prix-ess.org" and identity.source("from_name") == (
        "database"
    )

    reset = _post(admin, served, "/settings/sender", {**IDENTITY, "reset": "1"})
    assert "de nouveau celle du fichier de configuration" in reset.text.replace("&#39;", "'")
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert sender_identity(session, served.settings).stored == {}


def test_a_refused_identity_is_said_in_french_and_keeps_what_was_typed(served: Served) -> None:
    admin = served.client("admin")
    refused = _post(admin, served, "/settings/sender", {**IDENTITY, "from_address": "prix-at-ess"})
    assert refused.status_code == 400
    text = refused.text.replace("&#39;", "'")
    assert "L'adresse d'expédition, « prix-at-ess », n'est pas une adresse e-mail valide." in text
    assert 'value="prix-at-ess"' in text and 'value="Les Prix ESS"' in text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert sender_identity(session, served.settings).stored == {}


def test_only_an_admin_changes_the_sender_identity(served: Served) -> None:
    editor = served.client("editor")
    assert _post(editor, served, "/settings/sender", IDENTITY).status_code == 403
    assert 'id="sender-form"' not in editor.get(served.url + "/settings").text


def test_over_smtp_the_sample_identity_is_refused_in_french_before_a_send_is_planned(
    serve,
) -> None:
    served = serve(mail={"transport": "smtp", "smtp": {"host": "127.0.0.1", "port": 2525}})
    with Session(served.engine) as session:  # type: ignore[arg-type]
        mailing_list = MailingList(name="Newsletter nationale")
        session.add(mailing_list)
        session.flush()
        newsletter = Newsletter(
            title="Le Mois", subject="Novembre", template="mois-ess", list_ids=[mailing_list.id]
        )
        session.add(newsletter)
        session.commit()
        number = newsletter.id
    admin = served.client("admin")
    settings_page = admin.get(served.url + "/settings").text.replace("&#39;", "'")
    assert "Aucune newsletter ne partira par SMTP avec cette identité" in settings_page

    zone = served.settings.zone
    when = datetime.combine(utcnow().astimezone(zone).date() + timedelta(days=3), time(9, 0))
    show = f"/newsletters/{number}"
    planned = _post(
        admin, served, f"{show}/schedule", {"at": when.strftime("%Y-%m-%dT%H:%M")}, show
    )
    assert planned.status_code == 400
    text = planned.text.replace("&#39;", "'")
    assert "L'adresse d'expédition, « lemois@example.org », est une adresse d'exemple" in text
    assert "Identité de l'expéditeur" in text
    assert "[mail]" not in text
    moved = _post(  # the calendar's drag and drop plans it too: refused alike
        admin,
        served,
        "/calendar/move",
        {"kind": "newsletter", "item_id": str(number), "at": when.strftime("%Y-%m-%dT%H:%M")},
        "/calendar",
    )
    assert moved.status_code == 400
    text = moved.text.replace("&#39;", "'")
    assert "L'adresse d'expédition, « lemois@example.org », est une adresse d'exemple" in text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(Newsletter, number).status == NewsletterStatus.draft

    _post(admin, served, "/settings/sender", {**IDENTITY})
    planned = _post(
        admin, served, f"{show}/schedule", {"at": when.strftime("%Y-%m-%dT%H:%M")}, show
    )
    assert planned.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(Newsletter, number).status == NewsletterStatus.scheduled
