"""Subscribers and lists: add, unsubscribe, list, export, and what RGPD asks for (show, erase)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.addresses import InvalidEmail
from campaign.audience.lists import create_list, list_counts, require_list
from campaign.audience.subscribers import (
    EXPORT_COLUMNS,
    add_subscriber,
    describe_subscriber,
    erase_subscriber,
    export_subscribers,
    find_subscriber,
    iter_subscribers,
    unsubscribe,
)
from campaign.errors import CampaignError
from campaign.models import (
    SUPPRESSED,
    ConsentAction,
    ConsentEvent,
    Membership,
    Subscriber,
    SubscriberStatus,
)
from tests.conftest import mode_of

ADMIN = "cli:test"
NATIONAL = "Newsletter nationale"
PRESS = "Presse"


def consent_lines(session: Session, subscriber: Subscriber) -> list[tuple[str, int | None]]:
    events = session.exec(
        select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.id)
    ).all()
    return [(event.action, event.list_id) for event in events]


def counts_by_name(session: Session) -> dict[str, dict]:
    return {row["name"]: row for row in list_counts(session)}


# --- add ---------------------------------------------------------------------------------------


def test_addresses_differing_only_by_case_are_one_person(session: Session) -> None:
    first, outcome = add_subscriber(session, "Jean@X.org", actor=ADMIN)
    second, second_outcome = add_subscriber(session, "  jean@x.org ", actor=ADMIN)
    assert outcome == "added"
    assert second_outcome == "unchanged"
    assert first.id == second.id
    assert first.email == "jean@x.org"
    assert len(session.exec(select(Subscriber)).all()) == 1
    assert find_subscriber(session, "JEAN@X.ORG").id == first.id


def test_adding_a_known_address_updates_the_fields_given_and_keeps_the_others(
    session: Session,
) -> None:
    add_subscriber(
        session, "jean@x.org", profile={"first_name": "Jean", "organisation": "Scop"}, actor=ADMIN
    )
    subscriber, outcome = add_subscriber(
        session, "jean@x.org", profile={"first_name": "Jeanne", "organisation": ""}, actor=ADMIN
    )
    assert outcome == "updated"
    assert subscriber.first_name == "Jeanne"
    assert subscriber.organisation == "Scop"


def test_an_invalid_address_is_refused_with_a_clear_error(session: Session) -> None:
    with pytest.raises(InvalidEmail, match="not-an-address"):
        add_subscriber(session, "not-an-address", actor=ADMIN)
    with pytest.raises(CampaignError):
        add_subscriber(session, "   ", actor=ADMIN)
    assert session.exec(select(Subscriber)).all() == []


def test_an_unknown_profile_field_is_refused(session: Session) -> None:
    with pytest.raises(CampaignError, match="shoe_size"):
        add_subscriber(session, "jean@x.org", profile={"shoe_size": "42"}, actor=ADMIN)


def test_adding_to_lists_creates_them_and_logs_one_consent_line_per_list(
    session: Session,
) -> None:
    subscriber, _ = add_subscriber(
        session, "jean@x.org", list_names=[NATIONAL, PRESS], actor=ADMIN, source="salon"
    )
    national, press = require_list(session, NATIONAL), require_list(session, PRESS)
    members = session.exec(
        select(Membership.list_id).where(Membership.subscriber_id == subscriber.id)
    ).all()
    assert sorted(members) == sorted([national.id, press.id])
    assert consent_lines(session, subscriber) == [
        (ConsentAction.subscribed, None),
        (ConsentAction.subscribed, national.id),
        (ConsentAction.subscribed, press.id),
    ]
    event = session.exec(select(ConsentEvent)).first()
    assert (event.actor, event.method, event.source) == (ADMIN, "manual", "salon")


def test_adding_again_to_the_same_list_logs_nothing_new(session: Session) -> None:
    subscriber, _ = add_subscriber(session, "jean@x.org", list_names=[NATIONAL], actor=ADMIN)
    before = consent_lines(session, subscriber)
    _, outcome = add_subscriber(session, "jean@x.org", list_names=[NATIONAL], actor=ADMIN)
    assert outcome == "unchanged"
    assert consent_lines(session, subscriber) == before


@pytest.mark.parametrize("status", sorted(SUPPRESSED))
def test_adding_never_reactivates_an_unsubscribed_bounced_or_complained_person(
    session: Session, status: SubscriberStatus
) -> None:
    add_subscriber(session, "jean@x.org", status=status, actor=ADMIN)
    subscriber, _ = add_subscriber(
        session,
        "Jean@X.org",
        list_names=[NATIONAL],
        profile={"first_name": "Jean"},
        status=SubscriberStatus.active,
        actor=ADMIN,
    )
    assert subscriber.status == status
    assert counts_by_name(session)[NATIONAL][SubscriberStatus.active] == 0


def test_adding_never_puts_someone_back_on_a_list_they_left(session: Session) -> None:
    add_subscriber(session, "jean@x.org", list_names=[NATIONAL], actor=ADMIN)
    unsubscribe(session, "jean@x.org", list_name=NATIONAL, actor=ADMIN)
    _, outcome = add_subscriber(session, "jean@x.org", list_names=[NATIONAL], actor=ADMIN)
    assert outcome == "unchanged"
    assert describe_subscriber(session, "jean@x.org")["lists"] == []
    assert counts_by_name(session)[NATIONAL]["total"] == 0


# --- unsubscribe -------------------------------------------------------------------------------


def test_unsubscribing_from_everything_changes_the_status_and_logs_it(session: Session) -> None:
    subscriber, _ = add_subscriber(session, "jean@x.org", list_names=[NATIONAL], actor=ADMIN)
    assert unsubscribe(session, "JEAN@x.org", actor=ADMIN) is True
    assert subscriber.status == SubscriberStatus.unsubscribed
    assert consent_lines(session, subscriber)[-1] == (ConsentAction.unsubscribed, None)
    assert unsubscribe(session, "jean@x.org", actor=ADMIN) is False  # already: nothing logged
    assert consent_lines(session, subscriber).count((ConsentAction.unsubscribed, None)) == 1
    counts = counts_by_name(session)[NATIONAL]
    assert (counts[SubscriberStatus.active], counts[SubscriberStatus.unsubscribed]) == (0, 1)


def test_unsubscribing_from_one_list_keeps_the_others_and_the_status(session: Session) -> None:
    subscriber, _ = add_subscriber(session, "jean@x.org", list_names=[NATIONAL, PRESS], actor=ADMIN)
    press = require_list(session, PRESS)
    assert unsubscribe(session, "jean@x.org", list_name=PRESS, actor=ADMIN) is True
    assert subscriber.status == SubscriberStatus.active
    assert describe_subscriber(session, "jean@x.org")["lists"] == [NATIONAL]
    assert consent_lines(session, subscriber)[-1] == (ConsentAction.unsubscribed, press.id)
    assert unsubscribe(session, "jean@x.org", list_name=PRESS, actor=ADMIN) is False


def test_unsubscribing_an_unknown_person_or_from_an_unknown_list_is_an_error(
    session: Session,
) -> None:
    with pytest.raises(CampaignError, match="No subscriber"):
        unsubscribe(session, "nobody@x.org", actor=ADMIN)
    add_subscriber(session, "jean@x.org", actor=ADMIN)
    with pytest.raises(CampaignError, match="No list named 'Inconnue'"):
        unsubscribe(session, "jean@x.org", list_name="Inconnue", actor=ADMIN)


# --- list and export ---------------------------------------------------------------------------


@pytest.fixture
def three_people(session: Session) -> None:
    add_subscriber(
        session,
        "anne@x.org",
        list_names=[NATIONAL],
        profile={"first_name": "Anne", "last_name": "Ésope", "region": "Bretagne"},
        actor=ADMIN,
    )
    add_subscriber(session, "bruno@x.org", list_names=[NATIONAL, PRESS], actor=ADMIN)
    add_subscriber(session, "chloe@x.org", list_names=[PRESS], actor=ADMIN)
    unsubscribe(session, "chloe@x.org", actor=ADMIN)


def test_listing_gives_every_subscriber_oldest_first_with_stable_json_keys(
    session: Session, three_people: None
) -> None:
    rows = list(iter_subscribers(session))
    assert [row["email"] for row in rows] == ["anne@x.org", "bruno@x.org", "chloe@x.org"]
    anne = rows[0]
    for key in ("email", "first_name", "last_name", "organisation", "region", "postcode"):
        assert key in anne
    for key in ("language", "status", "lists", "source", "created_at", "updated_at"):
        assert key in anne
    assert (anne["first_name"], anne["last_name"], anne["region"]) == ("Anne", "Ésope", "Bretagne")
    assert anne["status"] == "active"
    assert anne["lists"] == [NATIONAL]
    assert rows[1]["lists"] == [NATIONAL, PRESS]
    json.dumps(rows)  # JSON-ready as it is


def test_listing_filters_by_status_and_by_list(session: Session, three_people: None) -> None:
    def emails(**filters: object) -> list[str]:
        return [row["email"] for row in iter_subscribers(session, **filters)]

    assert emails(status=SubscriberStatus.active) == ["anne@x.org", "bruno@x.org"]
    assert emails(status=SubscriberStatus.unsubscribed) == ["chloe@x.org"]
    assert emails(list_name=PRESS) == ["bruno@x.org", "chloe@x.org"]
    assert emails(list_name=PRESS, status=SubscriberStatus.active) == ["bruno@x.org"]
    with pytest.raises(CampaignError, match="No list named"):
        emails(list_name="Inconnue")


def test_listing_reads_in_batches_without_losing_or_repeating_anyone(
    session: Session, three_people: None
) -> None:
    rows = list(iter_subscribers(session, batch=2))
    assert [row["email"] for row in rows] == ["anne@x.org", "bruno@x.org", "chloe@x.org"]


def test_the_export_is_a_semicolon_csv_with_a_bom_that_excel_reads(
    session: Session, three_people: None, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    assert export_subscribers(session, path) == 3
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [record["email"] for record in records] == ["anne@x.org", "bruno@x.org", "chloe@x.org"]
    assert records[0]["last_name"] == "Ésope"
    assert records[1]["lists"] == f"{NATIONAL}, {PRESS}"
    assert records[2]["status"] == "unsubscribed"


def test_the_export_applies_the_status_and_list_filters(
    session: Session, three_people: None, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    count = export_subscribers(session, path, status=SubscriberStatus.active, list_name=PRESS)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert count == 1
    assert [row["email"] for row in rows] == ["bruno@x.org"]


def test_the_export_writes_formula_like_text_as_text(session: Session, tmp_path: Path) -> None:
    names = {
        "a@x.org": ("=1+2", "+33 6 12 34 56 78"),
        "b@x.org": ("-Jean", "@SUM(A1:A9)"),
        "c@x.org": ("Anne\t=1+2", "Retour\r=1+2"),  # a leading tab or CR is stripped on entry
        "d@x.org": ("Léa", "Marie-Claire"),
    }
    for address, (first, last) in names.items():
        add_subscriber(
            session, address, profile={"first_name": first, "last_name": last}, actor=ADMIN
        )
    path = tmp_path / "export.csv"
    export_subscribers(session, path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["email"]: row for row in csv.DictReader(handle, delimiter=";")}
    assert {address: (row["first_name"], row["last_name"]) for address, row in rows.items()} == {
        "a@x.org": ("'=1+2", "'+33 6 12 34 56 78"),
        "b@x.org": ("'-Jean", "'@SUM(A1:A9)"),
        "c@x.org": ("Anne\t=1+2", "Retour\r=1+2"),  # quoted: the break stays in its cell
        "d@x.org": ("Léa", "Marie-Claire"),
    }


@pytest.mark.usefixtures("usual_umask")
def test_the_export_file_is_readable_by_its_owner_only(
    session: Session, three_people: None, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text("an older export\n", encoding="utf-8")
    path.chmod(0o644)
    assert export_subscribers(session, path) == 3
    assert mode_of(path) == 0o600


# --- RGPD: show and erase ----------------------------------------------------------------------


def test_show_gives_every_field_every_list_and_the_consent_log(session: Session) -> None:
    add_subscriber(
        session,
        "jean@x.org",
        list_names=[NATIONAL, PRESS],
        profile={"first_name": "Jean", "organisation": "Scop du Lac", "postcode": "35000"},
        actor=ADMIN,
    )
    unsubscribe(session, "jean@x.org", list_name=PRESS, actor=ADMIN)
    shown = describe_subscriber(session, "Jean@X.org")
    assert shown["email"] == "jean@x.org"
    assert (shown["first_name"], shown["organisation"], shown["postcode"]) == (
        "Jean",
        "Scop du Lac",
        "35000",
    )
    assert shown["status"] == "active"
    assert shown["lists"] == [NATIONAL]
    memberships = {m["list"]: m for m in shown["memberships"]}
    assert set(memberships) == {NATIONAL, PRESS}
    assert memberships[NATIONAL]["unsubscribed_at"] is None
    assert memberships[PRESS]["unsubscribed_at"] is not None
    log = [(line["action"], line["list"], line["actor"]) for line in shown["consent_log"]]
    assert log == [
        ("subscribed", None, ADMIN),
        ("subscribed", NATIONAL, ADMIN),
        ("subscribed", PRESS, ADMIN),
        ("unsubscribed", PRESS, ADMIN),
    ]
    assert all(line["at"] for line in shown["consent_log"])
    json.dumps(shown)


def test_show_of_an_unknown_address_is_an_error(session: Session) -> None:
    with pytest.raises(CampaignError, match=r"No subscriber with the address 'nobody@x\.org'"):
        describe_subscriber(session, "nobody@x.org")


def test_erasing_removes_personal_data_but_keeps_the_anonymous_counts(session: Session) -> None:
    months = [datetime(2026, 9, 3, tzinfo=UTC), datetime(2026, 10, 5, tzinfo=UTC)]
    for number, created in enumerate(months):
        subscriber, _ = add_subscriber(
            session, f"other{number}@x.org", list_names=[NATIONAL], actor=ADMIN
        )
        subscriber.created_at = created
    jean, _ = add_subscriber(
        session,
        "jean@x.org",
        list_names=[NATIONAL, PRESS],
        profile={
            "first_name": "Jean",
            "last_name": "Dupont",
            "organisation": "Scop du Lac",
            "postcode": "35000",
            "region": "Bretagne",
        },
        actor=ADMIN,
    )
    jean.created_at = months[1]
    session.flush()

    def created_per_month() -> Counter:
        created = session.exec(select(Subscriber.created_at)).all()
        return Counter((value.year, value.month) for value in created)

    per_month = created_per_month()
    rows_before = len(session.exec(select(Subscriber)).all())
    assert counts_by_name(session)[NATIONAL]["total"] == 3

    erase_subscriber(session, "Jean@X.org", actor=ADMIN)

    session.refresh(jean)
    assert jean.email is None
    assert (jean.first_name, jean.last_name, jean.organisation, jean.postcode) == ("", "", "", "")
    assert jean.attributes == {}
    assert jean.erased_at is not None
    assert jean.status in SUPPRESSED
    assert len(session.exec(select(Subscriber)).all()) == rows_before
    assert created_per_month() == per_month
    counts = counts_by_name(session)
    assert counts[NATIONAL]["total"] == 2
    assert counts[PRESS]["total"] == 0
    assert find_subscriber(session, "jean@x.org") is None
    assert "jean@x.org" not in [row["email"] for row in iter_subscribers(session)]
    assert consent_lines(session, jean)[-1] == (ConsentAction.erased, None)
    assert all(
        not event.detail
        for event in session.exec(select(ConsentEvent).where(ConsentEvent.subscriber_id == jean.id))
    )


def test_erasing_an_unknown_address_is_an_error(session: Session) -> None:
    with pytest.raises(CampaignError, match="No subscriber"):
        erase_subscriber(session, "nobody@x.org", actor=ADMIN)


def test_an_erased_address_can_subscribe_again_as_a_new_person(session: Session) -> None:
    first, _ = add_subscriber(session, "jean@x.org", actor=ADMIN)
    erase_subscriber(session, "jean@x.org", actor=ADMIN)
    again, outcome = add_subscriber(session, "jean@x.org", actor=ADMIN)
    assert outcome == "added"
    assert again.id != first.id


# --- lists -------------------------------------------------------------------------------------


def test_creating_a_list_makes_it_appear_with_zero_counts(session: Session) -> None:
    create_list(session, "  Organisateurs ", "Les structures organisatrices")
    (row,) = list_counts(session)
    assert row["name"] == "Organisateurs"
    assert row["description"] == "Les structures organisatrices"
    assert row["total"] == 0
    assert all(row[status.value] == 0 for status in SubscriberStatus)


def test_creating_a_list_whose_name_exists_is_an_error(session: Session) -> None:
    create_list(session, PRESS)
    with pytest.raises(CampaignError, match="already exists"):
        create_list(session, PRESS)


def test_a_list_needs_a_name(session: Session) -> None:
    with pytest.raises(CampaignError, match="needs a name"):
        create_list(session, "   ")


def test_an_unknown_list_error_names_the_existing_ones(session: Session) -> None:
    create_list(session, PRESS)
    with pytest.raises(CampaignError, match="existing lists: Presse"):
        require_list(session, "Presses")


def test_list_counts_give_the_current_members_per_status(session: Session) -> None:
    for address in ("a@x.org", "b@x.org", "c@x.org", "d@x.org"):
        add_subscriber(session, address, list_names=[NATIONAL], actor=ADMIN)
    add_subscriber(session, "e@x.org", list_names=[NATIONAL], status="bounced", actor=ADMIN)
    unsubscribe(session, "b@x.org", actor=ADMIN)
    unsubscribe(session, "c@x.org", list_name=NATIONAL, actor=ADMIN)  # left: no longer counted
    create_list(session, PRESS)
    counts = counts_by_name(session)
    national = counts[NATIONAL]
    assert national["active"] == 2
    assert national["unsubscribed"] == 1
    assert national["bounced"] == 1
    assert national["pending"] == 0
    assert national["complained"] == 0
    assert national["total"] == 4
    assert counts[PRESS]["total"] == 0
    assert [row["name"] for row in list_counts(session)] == [NATIONAL, PRESS]


def test_show_lists_deliveries_and_erase_blanks_their_address_but_keeps_their_status(
    session: Session,
) -> None:
    from campaign.models import Delivery, Newsletter

    subscriber, _ = add_subscriber(session, "lea@example.org", actor="test")
    newsletter = Newsletter(title="Lettre de novembre", subject="Novembre", template="mois-ess")
    session.add(newsletter)
    session.flush()
    session.add(
        Delivery(
            newsletter_id=newsletter.id,
            subscriber_id=subscriber.id,
            email="lea@example.org",
            status="bounced",
            last_reply="550 5.1.1 <lea@example.org>: unknown user",
        )
    )
    session.commit()

    shown = describe_subscriber(session, "lea@example.org")
    assert [(d["newsletter"], d["status"]) for d in shown["deliveries"]] == [
        ("Lettre de novembre", "bounced")
    ]

    erase_subscriber(session, "lea@example.org", actor="test")
    session.commit()
    delivery = session.exec(select(Delivery)).one()
    assert (delivery.email, delivery.last_reply, delivery.status) == ("", "", "bounced")
