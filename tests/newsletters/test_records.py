"""Newsletter records: create, list, show, edit through the command line; the audience rule."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from campaign.errors import CampaignError
from campaign.models import MailingList, Membership, Subscriber, utcnow
from campaign.newsletters import records
from campaign.taxonomy import Taxonomy


def _setup_lists(cli) -> None:
    assert cli("lists", "create", "Newsletter nationale").exit_code == 0
    assert cli("lists", "create", "Presse").exit_code == 0


def _create(cli, *extra: str):
    return cli(
        "newsletters", "create", "--title", "Le Mois de l'ESS en novembre",
        "--subject", "Les évènements près de chez vous", "--template", "mois-ess",
        "--list", "Newsletter nationale", *extra,
    )  # fmt: skip


def test_create_prints_the_new_id_and_list_show_edit_round_trip(cli) -> None:
    _setup_lists(cli)
    created = _create(
        cli, "--events-from", "2016-11-01", "--events-to", "07/11/2016",
        "--events-region", "subscriber", "--events-theme", "se loger", "--events-max", "5",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    newsletter_id = int(created.stdout.strip())

    shown = cli("newsletters", "show", str(newsletter_id), "--json")
    data = json.loads(shown.stdout)
    assert data["title"] == "Le Mois de l'ESS en novembre"
    assert data["lists"] == ["Newsletter nationale"]
    assert data["status"] == "draft"
    assert data["from_address"] == "lemois@example.org"  # from the settings
    assert data["events"] == {
        "from": "2016-11-01",
        "to": "2016-11-07",
        "regions": ["subscriber"],
        "themes": ["Se loger"],
        "types": [],
        "max": 5,
        "order": "date",
    }

    edited = cli(
        "newsletters", "edit", str(newsletter_id), "--subject", "Nouveau sujet",
        "--list", "Presse", "--list", "Newsletter nationale", "--events-max", "3",
        "--from-name", "Les Prix ESS", "--segment", "region=bretagne", "--json",
    )  # fmt: skip
    assert edited.exit_code == 0, edited.stderr
    data = json.loads(edited.stdout)
    assert data["subject"] == "Nouveau sujet"
    assert data["lists"] == ["Presse", "Newsletter nationale"]
    assert data["events"]["max"] == 3 and data["events"]["from"] == "2016-11-01"
    assert data["from_name"] == "Les Prix ESS"
    assert data["segment"] == {"region": ["Bretagne"]}

    listed = json.loads(cli("newsletters", "list", "--json").stdout)
    assert [row["id"] for row in listed] == [newsletter_id]
    table = cli("newsletters", "list")
    assert "Nouveau" not in table.stdout and "Le Mois de l'ESS" in table.stdout
    assert cli("newsletters", "show", str(newsletter_id)).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--list", "Inconnue"), "No list named 'Inconnue'"),
        (("--template", "nope"), "Unknown template 'nope'"),
        (("--events-region", "Atlantide"), "Unknown region 'Atlantide'"),
        (("--events-from", "2016-11-09", "--events-to", "2016-11-01"), "is before"),
        (("--events-from", "demain"), "is not a date"),
    ],
)
def test_mistakes_are_one_clear_message(cli, args: tuple[str, ...], message: str) -> None:
    _setup_lists(cli)
    result = _create(cli, *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_newsletter_is_a_clear_message(cli) -> None:
    result = cli("newsletters", "show", "42")
    assert result.exit_code == 1
    assert "No newsletter number 42" in result.stderr


def test_audience_is_current_active_members_narrowed_by_segment(session: Session) -> None:
    national = MailingList(name="Newsletter nationale")
    press = MailingList(name="Presse")

    def person(name: str, region: str = "Bretagne", **fields) -> Subscriber:
        return Subscriber(email=f"{name}@example.org", region=region, **fields)

    people = {
        "ana": person("ana", attributes={"famille": "Coopérative"}),
        "bob": person("bob", attributes={"famille": "Association"}),
        "cleo": person("cleo", "Occitanie", attributes={"famille": "cooperative"}),
        "left": person("left"),
        "gone": person("gone", status="unsubscribed"),
        "press": person("press"),
    }
    session.add_all([national, press, *people.values()])
    session.flush()
    for key, person in people.items():
        target = press if key == "press" else national
        session.add(
            Membership(
                subscriber_id=person.id,
                list_id=target.id,
                unsubscribed_at=utcnow() if key == "left" else None,
            )
        )
    session.flush()
    taxonomy = Taxonomy.from_settings(None)
    newsletter = records.create_newsletter(
        session, title="T", subject="S", template="mois-ess",
        list_names=["Newsletter nationale"], taxonomy=taxonomy,
    )  # fmt: skip
    emails = [s.email for s in records.iter_audience(session, newsletter)]
    assert emails == ["ana@example.org", "bob@example.org", "cleo@example.org"]

    newsletter.segment = records.normalise_segment({"famille": ["Coopérative"]}, taxonomy)
    emails = [s.email for s in records.iter_audience(session, newsletter)]
    assert emails == ["ana@example.org", "cleo@example.org"]  # case and accents ignored

    newsletter.segment = records.normalise_segment(
        {"famille": ["coopérative"], "region": ["occitanie"]}, taxonomy
    )
    assert [s.email for s in records.iter_audience(session, newsletter)] == ["cleo@example.org"]


def test_a_sent_newsletter_cannot_be_edited(session: Session) -> None:
    session.add(MailingList(name="L"))
    session.flush()
    taxonomy = Taxonomy.from_settings(None)
    newsletter = records.create_newsletter(
        session,
        title="T",
        subject="S",
        template="prix-ess",
        list_names=["L"],
        taxonomy=taxonomy,
        content={"action_url": "https://lemois-ess.org/vote"},
    )
    newsletter.status = "sent"
    with pytest.raises(CampaignError, match="only a draft"):
        records.edit_newsletter(session, newsletter.id, taxonomy=taxonomy, title="Autre")
