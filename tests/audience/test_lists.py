"""Lists named without case or accents, renamed, merged (set-based) and deleted only when
nothing is lost."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.audience.importer import import_subscribers
from campaign.audience.lists import (
    ListExists,
    create_list,
    delete_list,
    find_list,
    list_counts,
    merge_lists,
    rename_list,
)
from campaign.audience.subscribers import (
    add_subscriber,
    describe_subscriber,
    find_subscriber,
    unsubscribe,
)
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import ConsentEvent, MailingList, Membership, Newsletter, utcnow
from campaign.taxonomy import Taxonomy

ADMIN = "cli:test"
NATIONAL = "Newsletter nationale"


def names(session: Session) -> list[str]:
    return [row["name"] for row in list_counts(session)]


def membership(session: Session, email: str, list_name: str) -> Membership | None:
    person = find_subscriber(session, email)
    mailing_list = find_list(session, list_name)
    return session.exec(
        select(Membership).where(
            Membership.subscriber_id == person.id, Membership.list_id == mailing_list.id
        )
    ).first()


# --- names compared without case or accents ------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["Newsletter Nationale", "NEWSLETTER  nationale ", "Newsletter natiônale"]
)
def test_a_list_whose_name_differs_only_by_case_or_accents_is_refused_naming_it(
    session: Session, typed: str
) -> None:
    create_list(session, NATIONAL)
    with pytest.raises(
        ListExists, match=r"A list named 'Newsletter nationale' already exists"
    ) as exc:
        create_list(session, typed)
    assert exc.value.existing == NATIONAL
    assert names(session) == [NATIONAL]


def test_the_same_name_found_whatever_its_case_or_accents(session: Session) -> None:
    national = create_list(session, NATIONAL)
    assert find_list(session, "newsletter NATIONALE").id == national.id
    assert find_list(session, "Newsletter natiônale").id == national.id
    assert find_list(session, "Newsletter") is None
    add_subscriber(session, "a@x.org", list_names=["Newsletter Nationale"], actor=ADMIN)
    assert names(session) == [NATIONAL]
    assert describe_subscriber(session, "a@x.org")["lists"] == [NATIONAL]


def test_an_import_naming_a_list_with_other_case_joins_the_existing_one(
    session: Session, tmp_path: Path
) -> None:
    create_list(session, NATIONAL)
    sheet = tmp_path / "partenaires.csv"
    sheet.write_text("courriel;prénom\nanne@x.org;Anne\n", encoding="utf-8")
    report = import_subscribers(
        session,
        sheet,
        list_name="Newsletter Nationale",
        dry_run=False,
        actor=ADMIN,
        taxonomy=Taxonomy.from_settings(Settings()),
    )
    assert report.added == 1
    assert names(session) == [NATIONAL]
    assert describe_subscriber(session, "anne@x.org")["lists"] == [NATIONAL]
    assert any("is the existing list 'Newsletter nationale'" in w for w in report.warnings)


def test_two_old_lists_differing_only_by_case_are_ambiguous_unless_spelled_exactly(
    session: Session,
) -> None:
    # As databases made before names were compared so may hold them.
    session.add_all([MailingList(name="Presse"), MailingList(name="PRESSE")])
    session.flush()
    assert find_list(session, "PRESSE").name == "PRESSE"
    with pytest.raises(CampaignError, match=r"merge them with: campaign lists merge"):
        find_list(session, "presse")


# --- rename ------------------------------------------------------------------------------------


def test_renaming_keeps_members_and_refuses_a_name_taken_without_case(session: Session) -> None:
    add_subscriber(session, "a@x.org", list_names=["Presse"], actor=ADMIN)
    create_list(session, NATIONAL)
    rename_list(session, "presse", "Journalistes")
    assert describe_subscriber(session, "a@x.org")["lists"] == ["Journalistes"]
    with pytest.raises(ListExists) as exc:
        rename_list(session, "Journalistes", "newsletter Nationale")
    assert exc.value.existing == NATIONAL
    rename_list(session, "journalistes", "JOURNALISTES")  # its own name, other case: allowed
    assert names(session) == ["JOURNALISTES", NATIONAL]


# --- merge -------------------------------------------------------------------------------------


def _two_lists(session: Session) -> None:
    """``only-a`` on A, ``only-b`` on B, ``both`` on both, ``left-a`` who left A, and two people
    on both whose more recent decision differs: ``back`` left B then joined A later,
    ``gone`` joined B then left A later."""
    for email, lists in [
        ("only-a@x.org", ["A"]),
        ("only-b@x.org", ["B"]),
        ("both@x.org", ["A", "B"]),
        ("left-a@x.org", ["A"]),
        ("back@x.org", ["A", "B"]),
        ("gone@x.org", ["A", "B"]),
    ]:
        add_subscriber(session, email, list_names=lists, actor=ADMIN)
    unsubscribe(session, "left-a@x.org", list_name="A", actor=ADMIN)
    now = utcnow()
    back_b = membership(session, "back@x.org", "B")
    back_b.unsubscribed_at = now - timedelta(days=30)
    membership(session, "back@x.org", "A").subscribed_at = now - timedelta(days=2)
    gone_b = membership(session, "gone@x.org", "B")
    gone_b.subscribed_at = now - timedelta(days=30)
    membership(session, "gone@x.org", "A").unsubscribed_at = now - timedelta(days=1)
    session.flush()


def test_merging_moves_everyone_once_keeps_the_log_and_deletes_the_list(session: Session) -> None:
    _two_lists(session)
    a_id = find_list(session, "A").id
    b_id = find_list(session, "B").id
    newsletter = Newsletter(title="N", subject="S", template="mois-ess", list_ids=[a_id, b_id])
    other = Newsletter(title="O", subject="S", template="mois-ess", list_ids=[a_id])
    session.add_all([newsletter, other])
    session.flush()
    lines_before = session.exec(select(ConsentEvent).where(ConsentEvent.list_id == a_id)).all()
    assert lines_before

    outcome = merge_lists(session, "a", "b", actor=ADMIN, method="manual")
    session.commit()

    assert (outcome.source, outcome.target, outcome.moved, outcome.both) == ("A", "B", 2, 3)
    assert outcome.newsletters == 2
    assert names(session) == ["B"]
    rows = session.exec(select(Membership)).all()
    assert {row.list_id for row in rows} == {b_id}
    per_person = [row.subscriber_id for row in rows]
    assert len(per_person) == len(set(per_person)) == 6  # everyone once
    current = {
        email: describe_subscriber(session, email)["lists"]
        for email in ("only-a@x.org", "only-b@x.org", "both@x.org", "left-a@x.org")
    }
    assert current == {
        "only-a@x.org": ["B"],
        "only-b@x.org": ["B"],
        "both@x.org": ["B"],
        "left-a@x.org": [],  # who had left A has left B: never mailed against their choice
    }
    # On both lists, the more recent decision wins.
    assert describe_subscriber(session, "back@x.org")["lists"] == ["B"]
    assert describe_subscriber(session, "gone@x.org")["lists"] == []
    # Consent lines about A now name B, none is lost, and each person of A has a merge line.
    assert session.exec(select(ConsentEvent).where(ConsentEvent.list_id == a_id)).all() == []
    log = describe_subscriber(session, "left-a@x.org")["consent_log"]
    assert [(line["action"], line["list"]) for line in log] == [
        ("subscribed", None),
        ("subscribed", "B"),
        ("unsubscribed", "B"),
        ("updated", "B"),
    ]
    assert log[-1]["detail"] == "list « A » merged into « B »" and log[-1]["actor"] == ADMIN
    session.refresh(newsletter)
    session.refresh(other)
    assert (newsletter.list_ids, other.list_ids) == ([b_id], [b_id])


def test_a_list_cannot_be_merged_into_itself(session: Session) -> None:
    create_list(session, NATIONAL)
    with pytest.raises(CampaignError, match="are the same list"):
        merge_lists(session, NATIONAL, "newsletter NATIONALE", actor=ADMIN, method="manual")


# --- delete ------------------------------------------------------------------------------------


def test_an_empty_unused_list_is_deleted(session: Session) -> None:
    create_list(session, "Vide")
    assert delete_list(session, "vide", Settings()) == "Vide"
    assert names(session) == []


def test_deleting_a_list_with_members_or_former_members_is_refused(session: Session) -> None:
    add_subscriber(session, "a@x.org", list_names=["Presse"], actor=ADMIN)
    with pytest.raises(CampaignError, match=r"'Presse' is not empty or still used \(1 member"):
        delete_list(session, "Presse", None)
    unsubscribe(session, "a@x.org", list_name="Presse", actor=ADMIN)
    with pytest.raises(CampaignError, match=r"1 former member\(s\) whose consent log names it"):
        delete_list(session, "Presse", None)
    assert names(session) == ["Presse"]


def test_deleting_a_list_a_newsletter_is_for_is_refused(session: Session) -> None:
    presse = create_list(session, "Presse")
    session.add(Newsletter(title="Lettre de mars", subject="S", template="t", list_ids=[presse.id]))
    session.flush()
    with pytest.raises(CampaignError, match=r"newsletter\(s\) 'Lettre de mars'"):
        delete_list(session, "Presse", None)


def test_deleting_a_list_a_calendar_or_the_subscribe_form_names_is_refused(
    session: Session, tmp_path: Path
) -> None:
    create_list(session, "Presse")
    create_list(session, "Formulaire")
    folder = tmp_path / "schedules"
    folder.mkdir()
    (folder / "mois.toml").write_text(
        '[[newsletter]]\nkey = "lancement"\nlists = ["presse"]\n', encoding="utf-8"
    )
    (folder / "broken.toml").write_text("this is = not [toml", encoding="utf-8")
    settings = Settings.model_validate(
        {"scheduler": {"calendars": str(folder)}, "subscribe": {"lists": ["Formulaire"]}}
    )
    with pytest.raises(CampaignError, match=r"calendar entries mois\.toml \(lancement\)"):
        delete_list(session, "Presse", settings)
    with pytest.raises(CampaignError, match=r"\[subscribe\] lists"):
        delete_list(session, "Formulaire", settings)
    assert names(session) == ["Formulaire", "Presse"]
