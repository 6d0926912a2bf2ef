"""Correcting a person, resubscribing them (with what RGPD asks), the consent log naming each
line's list, and the filtered export as CSV or XLSX."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from campaign.audience.lists import require_list
from campaign.audience.subscribers import (
    EXPORT_COLUMNS,
    add_subscriber,
    change_status,
    describe_subscriber,
    export_subscribers,
    find_subscriber,
    resubscribe,
    resubscription,
    unsubscribe,
    update_profile,
)
from campaign.errors import CampaignError
from campaign.models import ConsentAction, SubscriberStatus

ADMIN = "web:admin@example.org"
NATIONAL = "Newsletter nationale"
PRESS = "Presse"


def log(session: Session, email: str) -> list[tuple[str, str | None, str]]:
    lines = describe_subscriber(session, email)["consent_log"]
    return [(line["action"], line["list"], line["method"]) for line in lines]


# --- the consent log names each line's list -------------------------------------------------------


def test_each_consent_line_names_its_own_list_for_every_person(session: Session) -> None:
    # Ids of lists and of memberships differ as soon as a second person joins.
    add_subscriber(session, "first@x.org", list_names=[PRESS], actor=ADMIN)
    add_subscriber(session, "jean@x.org", list_names=[NATIONAL, PRESS], actor=ADMIN)
    unsubscribe(session, "jean@x.org", list_name=PRESS, actor=ADMIN)
    assert log(session, "jean@x.org") == [
        ("subscribed", None, "manual"),
        ("subscribed", NATIONAL, "manual"),
        ("subscribed", PRESS, "manual"),
        ("unsubscribed", PRESS, "manual"),
    ]


def test_a_line_about_a_list_the_person_never_joined_still_names_it(session: Session) -> None:
    person, _ = add_subscriber(session, "jean@x.org", actor=ADMIN)
    add_subscriber(session, "other@x.org", list_names=[PRESS], actor=ADMIN)
    change_status(
        session,
        person,
        SubscriberStatus.pending,
        ConsentAction.updated,
        method="form",
        actor="web",
        mailing_list=require_list(session, PRESS),
    )
    assert log(session, "jean@x.org")[-1] == ("updated", PRESS, "form")


# --- correcting a person -----------------------------------------------------------------------


def test_correcting_fields_logs_what_changed_and_keeps_the_address(session: Session) -> None:
    person, _ = add_subscriber(
        session, "jean@x.org", profile={"first_name": "Jaen", "region": "Normandie"}, actor=ADMIN
    )
    changes = update_profile(
        session,
        person,
        {"first_name": "Jean", "region": "Bretagne", "organisation": "", "postcode": None},
        actor=ADMIN,
        method="admin",
    )
    assert changes == {"first_name": ("Jaen", "Jean"), "region": ("Normandie", "Bretagne")}
    assert (person.first_name, person.region, person.email) == ("Jean", "Bretagne", "jean@x.org")
    last = describe_subscriber(session, "jean@x.org")["consent_log"][-1]
    assert (last["action"], last["method"], last["actor"]) == ("updated", "admin", ADMIN)
    assert last["detail"] == "first_name: 'Jaen' → 'Jean'; region: 'Normandie' → 'Bretagne'"
    assert update_profile(session, person, {"first_name": "Jean"}, actor=ADMIN) == {}
    with pytest.raises(CampaignError, match="address cannot be changed"):
        update_profile(session, person, {"email": "new@x.org"}, actor=ADMIN)
    with pytest.raises(CampaignError, match="postcode has at most 20 characters"):
        update_profile(session, person, {"postcode": "3" * 21}, actor=ADMIN)
    with pytest.raises(CampaignError, match="control character"):
        update_profile(session, person, {"last_name": "Du\x00pont"}, actor=ADMIN)
    assert person.postcode == "" and person.last_name == ""


# --- resubscribing -----------------------------------------------------------------------------


def test_someone_an_admin_unsubscribed_is_resubscribed_with_a_log_line(session: Session) -> None:
    add_subscriber(session, "jean@x.org", list_names=[NATIONAL], actor=ADMIN)
    unsubscribe(session, "jean@x.org", actor=ADMIN, method="admin")
    assert resubscription(session, find_subscriber(session, "jean@x.org")).self_at is None
    assert resubscribe(session, "jean@x.org", actor=ADMIN, method="admin")
    assert find_subscriber(session, "jean@x.org").status == SubscriberStatus.active
    assert log(session, "jean@x.org")[-1] == ("resubscribed", None, "admin")
    assert not resubscribe(session, "jean@x.org", actor=ADMIN)  # nothing left to undo


def test_someone_who_unsubscribed_themselves_needs_their_new_consent(session: Session) -> None:
    person, _ = add_subscriber(session, "jean@x.org", list_names=[NATIONAL], actor=ADMIN)
    change_status(  # as the unsubscribe link of a newsletter does
        session,
        person,
        SubscriberStatus.unsubscribed,
        ConsentAction.unsubscribed,
        method="link",
        actor="web",
    )
    check = resubscription(session, person)
    assert check.undo and check.self_at is not None and check.self_method == "link"
    with pytest.raises(CampaignError, match=r"unsubscribed themselves on \d{4}-\d\d-\d\d"):
        resubscribe(session, "jean@x.org", actor=ADMIN)
    assert person.status == SubscriberStatus.unsubscribed
    assert resubscribe(session, "jean@x.org", actor=ADMIN, method="admin", consent=True)
    last = describe_subscriber(session, "jean@x.org")["consent_log"][-1]
    assert (last["action"], last["detail"]) == ("resubscribed", "with the person's new consent")


@pytest.mark.parametrize(
    ("status", "words"),
    [(SubscriberStatus.bounced, "bounced"), (SubscriberStatus.complained, "complained")],
)
def test_a_bounced_or_complained_address_is_resubscribed_only_when_forced(
    session: Session, status: SubscriberStatus, words: str
) -> None:
    person, _ = add_subscriber(session, "jean@x.org", list_names=[NATIONAL], actor=ADMIN)
    change_status(session, person, status, ConsentAction(status.value), method="bounce", actor="x")
    with pytest.raises(CampaignError, match=rf"jean@x\.org {words}.*Force it only"):
        resubscribe(session, "jean@x.org", actor=ADMIN)
    assert person.status == status
    assert resubscribe(session, "jean@x.org", actor=ADMIN, force=True)
    assert person.status == SubscriberStatus.active
    last = describe_subscriber(session, "jean@x.org")["consent_log"][-1]
    assert last["detail"] == f"forced over status {status.value}"


def test_resubscribing_to_one_list_puts_them_back_on_it(session: Session) -> None:
    add_subscriber(session, "jean@x.org", list_names=[NATIONAL, PRESS], actor=ADMIN)
    unsubscribe(session, "jean@x.org", list_name=PRESS, actor=ADMIN)
    assert describe_subscriber(session, "jean@x.org")["lists"] == [NATIONAL]
    assert resubscribe(session, "jean@x.org", actor=ADMIN, list_name="presse")
    assert describe_subscriber(session, "jean@x.org")["lists"] == [NATIONAL, PRESS]
    assert log(session, "jean@x.org")[-1] == ("resubscribed", PRESS, "manual")


def test_nobody_confirms_an_address_for_its_owner(session: Session) -> None:
    add_subscriber(session, "jean@x.org", status=SubscriberStatus.pending, actor=ADMIN)
    with pytest.raises(CampaignError, match="has not confirmed their address"):
        resubscribe(session, "jean@x.org", actor=ADMIN, consent=True, force=True)


# --- the filtered export -----------------------------------------------------------------------


@pytest.fixture
def people(session: Session) -> None:
    add_subscriber(
        session,
        "anne@x.org",
        list_names=[NATIONAL],
        profile={"first_name": "=HYPERLINK(1)", "region": "Bretagne", "organisation": "Scop"},
        actor=ADMIN,
    )
    add_subscriber(
        session, "bruno@x.org", list_names=[NATIONAL], profile={"region": "Bretagne"}, actor=ADMIN
    )
    add_subscriber(
        session, "chloe@x.org", list_names=[PRESS], profile={"region": "Normandie"}, actor=ADMIN
    )


@pytest.mark.usefixtures("people")
def test_the_export_takes_the_search_and_region_filters(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    assert export_subscribers(session, path, region="Bretagne", text="SCOP") == 1
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [row["email"] for row in rows] == ["anne@x.org"]


@pytest.mark.usefixtures("people")
def test_the_export_as_xlsx_has_the_csv_columns_and_keeps_formulas_as_text(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "export.xlsx"
    assert export_subscribers(session, path, list_name="newsletter nationale") == 2
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == EXPORT_COLUMNS
    assert [row[0] for row in rows[1:]] == ["anne@x.org", "bruno@x.org"]
    first_name = sheet.cell(row=2, column=2)
    assert first_name.value == "=HYPERLINK(1)" and first_name.data_type == "s"
    assert rows[1][EXPORT_COLUMNS.index("lists")] == NATIONAL
