"""People and lists on the dashboard, over real HTTP: adding and correcting a person,
unsubscribing and resubscribing them through a confirmation step, the filtered export, the
consent log in local time with each line's list, and the lists page (create, rename, merge,
delete)."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from campaign.audience.lists import find_list
from campaign.audience.subscribers import (
    add_subscriber,
    change_status,
    describe_subscriber,
    find_subscriber,
)
from campaign.models import (
    ConsentAction,
    ConsentEvent,
    MailingList,
    Newsletter,
    Subscriber,
    SubscriberStatus,
)
from tests.dashboard.conftest import Served, page_csrf

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)

NATIONAL = "Newsletter nationale"


def _post(client, url: str, data: dict, csrf_from: str | None = None):  # type: ignore[no-untyped-def]
    token = page_csrf(client, csrf_from or url.rsplit("/", 1)[0])
    return client.post(url, data={"csrf": token, **data}, allow_redirects=False)


def _person(served: Served, email: str, lists: tuple[str, ...] = (NATIONAL,), **profile: str):
    with Session(served.engine) as session:  # type: ignore[arg-type]
        person, _ = add_subscriber(
            session, email, list_names=list(lists), profile=profile, actor="test"
        )
        session.commit()
        return person.id


def _shown(served: Served, email: str) -> dict:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        return describe_subscriber(session, email)


# --- adding and correcting a person -------------------------------------------------------------


def test_an_admin_adds_a_person_with_their_consent_noted_under_their_name(served: Served) -> None:
    _person(served, "deja@example.org")
    admin = served.client("admin")
    form = served.url + "/subscribers/new"
    assert served.client("editor").get(form).status_code == 403
    page = admin.get(form)
    assert page.status_code == 200 and NATIONAL in page.text
    typed = {
        "email": "nina@example.org",
        "first_name": "Nina",
        "last_name": "Durand",
        "organisation": "Scop du Lac",
        "region": "Bretagne",
        "postcode": "35000",
        "lists": NATIONAL,
    }
    # Without the proof of consent: refused, and everything typed is still there.
    refused = _post(admin, form, typed, csrf_from=form)
    assert refused.status_code == 400
    assert "comment la personne a donné son accord" in refused.text
    for value in ("nina@example.org", "Nina", "Durand", "Scop du Lac", "35000"):
        assert f'value="{value}"' in refused.text
    assert re.search(r'value="Newsletter nationale" checked', refused.text)

    done = _post(admin, form, {**typed, "consent_source": "bulletin signé au forum"}, form)
    assert done.status_code == 303
    shown = _shown(served, "nina@example.org")
    assert (shown["first_name"], shown["region"], shown["lists"]) == (
        "Nina",
        "Bretagne",
        [NATIONAL],
    )
    first = shown["consent_log"][0]
    assert (first["method"], first["actor"], first["source"]) == (
        "admin",
        "web:admin@example.org",
        "bulletin signé au forum",
    )
    assert shown["consent_log"][1]["list"] == NATIONAL

    again = _post(admin, form, {**typed, "email": "DEJA@example.org", "consent_source": "x"}, form)
    assert again.status_code == 400 and "déjà connue" in again.text


def test_an_admin_corrects_a_person_but_never_their_address(served: Served) -> None:
    person_id = _person(served, "jean@example.org", first_name="Jaen", region="Normandie")
    with Session(served.engine) as session:  # type: ignore[arg-type]
        session.add(MailingList(name="Presse"))
        session.commit()
    admin = served.client("admin")
    edit = f"{served.url}/subscribers/{person_id}/edit"
    assert served.client("editor").get(edit).status_code == 403
    page = admin.get(edit)
    assert 'value="Jaen"' in page.text and "nouvelle adresse" in page.text.lower()
    typed = {
        "first_name": "Jean",
        "last_name": "Dupont",
        "region": "Bretagne",
        "postcode": "3" * 21,
    }
    refused = _post(admin, edit, typed, csrf_from=edit)
    assert refused.status_code == 400 and "postcode has at most 20 characters" in refused.text
    assert 'value="Jean"' in refused.text and 'value="Dupont"' in refused.text
    assert "3" * 21 in refused.text
    assert _shown(served, "jean@example.org")["first_name"] == "Jaen"

    saved = _post(
        admin,
        edit,
        {**typed, "postcode": "35000", "email": "autre@example.org", "lists": "Presse"},
        csrf_from=edit,
    )
    assert saved.status_code == 303
    shown = _shown(served, "jean@example.org")
    assert (shown["first_name"], shown["region"], shown["postcode"]) == (
        "Jean",
        "Bretagne",
        "35000",
    )
    assert shown["lists"] == [NATIONAL, "Presse"]
    assert [line["method"] for line in shown["consent_log"][-2:]] == ["admin", "admin"]
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert find_subscriber(session, "autre@example.org") is None

    # A new address: a new person with the same fields, the old one left as it is.
    fresh = admin.get(f"{served.url}/subscribers/new", params={"depuis": person_id})
    assert 'value="Jean"' in fresh.text and 'value="Dupont"' in fresh.text
    assert 'id="email" name="email" type="email" required maxlength="320" value=""' in fresh.text


# --- unsubscribing and resubscribing ------------------------------------------------------------


def test_unsubscribing_asks_first_then_is_logged_under_the_admin_s_name(served: Served) -> None:
    person_id = _person(served, "jean@example.org", lists=(NATIONAL, "Presse"))
    admin = served.client("admin")
    page = f"{served.url}/subscribers/{person_id}"
    url = f"{page}/unsubscribe"
    asked = _post(admin, url, {"list_name": "Presse"}, csrf_from=page)
    assert asked.status_code == 200
    assert "1 personne, jean@example.org, sera désinscrite de la liste « Presse »" in asked.text
    assert 'name="confirm" value="oui"' in asked.text
    assert _shown(served, "jean@example.org")["lists"] == [NATIONAL, "Presse"]

    done = _post(admin, url, {"list_name": "Presse", "confirm": "oui"}, csrf_from=page)
    assert done.status_code == 303
    assert _shown(served, "jean@example.org")["lists"] == [NATIONAL]

    asked = _post(admin, url, {}, csrf_from=page)
    assert "sera désinscrite de toutes les newsletters" in asked.text
    assert _post(admin, url, {"confirm": "oui"}, csrf_from=page).status_code == 303
    shown = _shown(served, "jean@example.org")
    assert shown["status"] == "unsubscribed"
    last = shown["consent_log"][-1]
    assert (last["action"], last["method"], last["actor"]) == (
        "unsubscribed",
        "admin",
        "web:admin@example.org",
    )
    editor = served.client("editor")
    assert _post(editor, url, {"confirm": "oui"}, csrf_from=page).status_code == 403


def test_resubscribing_someone_who_left_themselves_names_the_date_and_needs_their_consent(
    served: Served,
) -> None:
    person_id = _person(served, "jean@example.org")
    with Session(served.engine) as session:  # type: ignore[arg-type]
        person = session.get(Subscriber, person_id)
        change_status(  # as the unsubscribe link of a newsletter does
            session,
            person,
            SubscriberStatus.unsubscribed,
            ConsentAction.unsubscribed,
            method="link",
            actor="web",
        )
        session.flush()
        line = session.exec(select(ConsentEvent).order_by(ConsentEvent.id.desc())).first()
        line.at = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 3:30 in Paris (summer time)
        session.commit()
    admin = served.client("admin")
    page = f"{served.url}/subscribers/{person_id}"
    url = f"{page}/resubscribe"
    asked = _post(admin, url, {}, csrf_from=page)
    assert asked.status_code == 200
    assert "Elle s'est désinscrite elle-même le 29/03/2026 à 03:30" in html.unescape(asked.text)
    assert 'name="consent" value="oui" required' in asked.text
    # Confirmed without ticking the consent: asked again, nothing changes.
    again = _post(admin, url, {"confirm": "oui"}, csrf_from=page)
    assert again.status_code == 400 and "désinscrite elle-même" in again.text
    assert _shown(served, "jean@example.org")["status"] == "unsubscribed"

    done = _post(admin, url, {"confirm": "oui", "consent": "oui"}, csrf_from=page)
    assert done.status_code == 303
    shown = _shown(served, "jean@example.org")
    assert shown["status"] == "active"
    last = shown["consent_log"][-1]
    assert (last["action"], last["method"], last["actor"], last["detail"]) == (
        "resubscribed",
        "admin",
        "web:admin@example.org",
        "with the person's new consent",
    )


def test_resubscribing_a_bounced_address_must_be_forced(served: Served) -> None:
    person_id = _person(served, "jean@example.org")
    with Session(served.engine) as session:  # type: ignore[arg-type]
        person = session.get(Subscriber, person_id)
        change_status(
            session,
            person,
            SubscriberStatus.bounced,
            ConsentAction.bounced,
            method="bounce",
            actor="x",
        )
        session.commit()
    admin = served.client("admin")
    page = f"{served.url}/subscribers/{person_id}"
    url = f"{page}/resubscribe"
    asked = _post(admin, url, {}, csrf_from=page)
    assert "Son adresse est en erreur" in asked.text and 'name="force"' in asked.text
    assert _post(admin, url, {"confirm": "oui"}, csrf_from=page).status_code == 400
    assert _shown(served, "jean@example.org")["status"] == "bounced"
    assert _post(admin, url, {"confirm": "oui", "force": "oui"}, csrf_from=page).status_code == 303
    assert _shown(served, "jean@example.org")["status"] == "active"


# --- the person page and the export -------------------------------------------------------------


def test_the_consent_log_names_each_line_s_list_in_local_french_time(served: Served) -> None:
    _person(served, "first@example.org", lists=("Presse",))
    person_id = _person(served, "jean@example.org", lists=(NATIONAL, "Presse"))
    with Session(served.engine) as session:  # type: ignore[arg-type]
        for line in session.exec(
            select(ConsentEvent).where(ConsentEvent.subscriber_id == person_id)
        ):
            line.at = datetime(2026, 1, 15, 23, 5, tzinfo=UTC)  # 16 January, 0:05 in Paris
        session.commit()
    page = served.client("viewer").get(f"{served.url}/subscribers/{person_id}").text
    assert "heure Europe/Paris" in page
    rows = re.findall(r"<tr><td>([^<]*)</td><td>inscription</td><td>([^<]*)</td>", page)
    assert rows == [
        ("16/01/2026 à 00:05", "toutes les newsletters"),
        ("16/01/2026 à 00:05", NATIONAL),
        ("16/01/2026 à 00:05", "Presse"),
    ]


def test_the_filtered_list_exports_for_excel_as_csv_and_xlsx(served: Served) -> None:
    _person(served, "anne@example.org", region="Bretagne", organisation="=1+2")
    _person(served, "bruno@example.org", region="Bretagne")
    _person(served, "chloe@example.org", region="Normandie")
    admin = served.client("admin")
    listing = admin.get(served.url + "/subscribers", params={"region": "Bretagne"}).text
    assert (
        "/subscribers/export?format=xlsx&amp;q=&amp;list_name=&amp;status=&amp;region=Bretagne"
        in listing
    )
    url = served.url + "/subscribers/export"
    answer = admin.get(url, params={"format": "csv", "region": "Bretagne"})
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="abonnes.csv"'
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert [(row["email"], row["organisation"]) for row in rows] == [
        ("anne@example.org", "'=1+2"),
        ("bruno@example.org", ""),
    ]
    answer = admin.get(url, params={"format": "xlsx", "q": "chloe", "list_name": NATIONAL})
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["chloe@example.org"]
    assert admin.get(url, params={"format": "pdf"}).status_code == 400
    assert admin.get(url, params={"list_name": "Inconnue"}).status_code == 400
    assert served.client("editor").get(url).status_code == 403
    assert (
        "/subscribers/export" not in served.client("editor").get(served.url + "/subscribers").text
    )


# --- lists --------------------------------------------------------------------------------------


def test_a_list_named_like_an_existing_one_is_refused_next_to_the_field(served: Served) -> None:
    _person(served, "a@example.org")
    editor = served.client("editor")
    url = served.url + "/lists/new"
    refused = _post(
        editor,
        url,
        {"name": "Newsletter Nationale", "description": "doublon"},
        served.url + "/lists",
    )
    assert refused.status_code == 400
    assert "Vouliez-vous dire « Newsletter nationale » ?" in refused.text
    assert 'aria-describedby="name-error"' in refused.text and 'id="name-error"' in refused.text
    assert 'value="Newsletter Nationale"' in refused.text and 'value="doublon"' in refused.text
    created = _post(editor, url, {"name": "Presse"}, served.url + "/lists")
    assert created.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert sorted(session.exec(select(MailingList.name))) == [NATIONAL, "Presse"]


def test_the_import_form_joins_the_existing_list_when_only_case_differs(served: Served) -> None:
    _person(served, "a@example.org")
    editor = served.client("editor")
    page = served.url + "/subscribers/import"
    answer = editor.post(
        page,
        data={
            "csrf": page_csrf(editor, page),
            "list_name": "NEWSLETTER nationale",
            "consent_origin": "salon 2025",
        },
        files={"file": ("n.csv", b"courriel\nnew@example.org\n", "text/csv")},
    )
    assert answer.status_code == 200 and "is the existing list" in answer.text
    assert _shown(served, "new@example.org")["lists"] == [NATIONAL]


def test_an_admin_renames_a_list_and_a_clash_keeps_what_was_typed(served: Served) -> None:
    _person(served, "a@example.org", lists=(NATIONAL, "Presse"))
    with Session(served.engine) as session:  # type: ignore[arg-type]
        presse_id = find_list(session, "Presse").id
    admin = served.client("admin")
    url = f"{served.url}/lists/{presse_id}/rename"
    lists_page = served.url + "/lists"
    refused = _post(admin, url, {"new_name": "newsletter NATIONALE"}, lists_page)
    assert refused.status_code == 400
    assert "Vouliez-vous dire « Newsletter nationale » ?" in refused.text
    assert 'value="newsletter NATIONALE"' in refused.text
    assert _post(served.client("editor"), url, {"new_name": "X"}, lists_page).status_code == 403
    assert _post(admin, url, {"new_name": "Journalistes"}, lists_page).status_code == 303
    assert _shown(served, "a@example.org")["lists"] == ["Journalistes", NATIONAL]


def test_merging_two_lists_asks_first_naming_the_people_then_merges(served: Served) -> None:
    _person(served, "a@example.org", lists=("Newsletter Nationale",))
    with Session(served.engine) as session:  # type: ignore[arg-type]
        session.add(MailingList(name=NATIONAL))  # made before names were compared so
        session.commit()
        source, target = (
            session.exec(select(MailingList).where(MailingList.name == name)).one().id
            for name in ("Newsletter Nationale", NATIONAL)
        )
        session.add(Newsletter(title="Lettre", subject="S", template="mois-ess", list_ids=[source]))
        session.commit()
    _person(served, "b@example.org", lists=(NATIONAL,))
    _person(served, "c@example.org", lists=("Newsletter Nationale", NATIONAL))
    admin = served.client("admin")
    url = f"{served.url}/lists/{source}/merge"
    lists_page = served.url + "/lists"
    asked = _post(admin, url, {"into": str(target)}, lists_page)
    assert asked.status_code == 200
    text = html.unescape(asked.text)
    assert "Fusionner « Newsletter Nationale » dans « Newsletter nationale » ?" in text
    assert "Les 2 personne(s) inscrites à « Newsletter Nationale »" in text
    assert "qui en compte 2" in text and "1 newsletter(s)" in text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(MailingList, source) is not None
    assert _post(admin, url, {"into": "0"}, lists_page).status_code == 400
    done = _post(admin, url, {"into": str(target), "confirm": "oui"}, lists_page)
    assert done.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(MailingList, source) is None
        assert session.exec(select(Newsletter)).one().list_ids == [target]
    for email in ("a@example.org", "b@example.org", "c@example.org"):
        assert _shown(served, email)["lists"] == [NATIONAL]


def test_deleting_a_list_is_refused_with_the_reason_or_asked_then_done(served: Served) -> None:
    _person(served, "a@example.org", lists=("Presse",))
    with Session(served.engine) as session:  # type: ignore[arg-type]
        session.add(MailingList(name="Vide"))
        session.commit()
        presse = find_list(session, "Presse").id
        empty = find_list(session, "Vide").id
    admin = served.client("admin")
    lists_page = served.url + "/lists"
    refused = _post(admin, f"{served.url}/lists/{presse}/delete", {"confirm": "oui"}, lists_page)
    assert refused.status_code == 400 and "1 personne(s) y sont inscrites" in refused.text
    url = f"{served.url}/lists/{empty}/delete"
    asked = _post(admin, url, {}, lists_page)
    assert asked.status_code == 200 and "« Vide » est vide (0 personne)" in asked.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(MailingList, empty) is not None
    assert _post(admin, url, {"confirm": "oui"}, lists_page).status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert sorted(session.exec(select(MailingList.name))) == ["Presse"]


# --- in a real browser ---------------------------------------------------------------------------


def test_editing_a_person_and_merging_two_lists_in_a_real_browser(served: Served) -> None:
    """Through the real pages in Chromium: correct a person's name and region, then merge two
    lists that differ only by case; screenshots of each page at laptop then phone width (each
    checked to fit the window and to label every field)."""
    from tests.dashboard.browser import browser_page, screenshot
    from tests.dashboard.test_browser import _engine_name

    engine = _engine_name(served)
    person_id = _person(served, "jean@example.org", first_name="Jaen", region="Normandie")
    with Session(served.engine) as session:  # type: ignore[arg-type]
        session.add(MailingList(name="Newsletter Nationale"))  # made before names were compared
        session.commit()
    _person(served, "anne@example.org", lists=("Newsletter Nationale",))
    _person(served, "bruno@example.org", lists=("Newsletter Nationale", NATIONAL))
    base = served.url
    with browser_page() as (page, offsite):
        page.goto(f"{base}/login")
        page.get_by_label("Adresse e-mail").fill("admin@example.org")
        page.get_by_label("Mot de passe").fill("un mot de passe solide")
        page.get_by_label("Mot de passe").press("Enter")
        page.wait_for_url(re.compile(r"/admin/$"))

        # Correcting a person: a typo in the first name, a wrong region.
        page.goto(f"{base}/subscribers/{person_id}")
        page.get_by_role("link", name="Modifier la fiche").click()
        assert page.get_by_label("Adresse e-mail").input_value() == "jean@example.org"
        page.get_by_label("Prénom").fill("Jean")
        page.get_by_label("Région", exact=False).select_option("Bretagne")
        screenshot(page, "laptop-admin-personne-modification", engine)
        page.get_by_role("button", name="Enregistrer").click()
        page.wait_for_url(re.compile(rf"/subscribers/{person_id}\?fait=person-saved$"))
        assert "La fiche est enregistrée." in page.inner_text("main")
        facts = page.inner_text("dl.facts")
        assert "Bretagne" in facts and "Normandie" not in facts
        assert "Jean" in page.inner_text("h1")
        screenshot(page, "laptop-admin-personne-fiche", engine)

        # Merging the two lists that differ only by case.
        page.goto(f"{base}/lists")
        screenshot(page, "laptop-admin-listes", engine)
        page.locator("summary").get_by_text("Newsletter Nationale", exact=True).click()
        page.get_by_label("Verser « Newsletter Nationale » dans", exact=True).select_option(
            label=NATIONAL
        )
        page.locator("details[open]").get_by_role("button", name="Fusionner…").click()
        page.wait_for_url(re.compile(r"/lists/\d+/merge$"))
        assert "Fusionner « Newsletter Nationale » dans « Newsletter nationale » ?" in (
            page.inner_text("h1")
        )
        assert "Les 2 personne(s) inscrites" in page.inner_text("main")
        screenshot(page, "laptop-admin-listes-fusion", engine)
        page.get_by_role("button", name="Fusionner les listes").click()
        page.wait_for_url(re.compile(r"/lists\?fait=list-merged$"))
        assert "Les listes sont fusionnées." in page.inner_text("main")
        table = page.inner_text("table")
        assert "Newsletter Nationale" not in table and NATIONAL in table

        # The same pages at phone width.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/subscribers/{person_id}/edit")
        screenshot(page, "phone-admin-personne-modification", engine)
        page.goto(f"{base}/subscribers/{person_id}")
        screenshot(page, "phone-admin-personne-fiche", engine)
        page.get_by_role("button", name="Désinscrire…").click()
        page.wait_for_url(re.compile(r"/unsubscribe$"))
        assert "1 personne, jean@example.org, sera désinscrite" in page.inner_text("main")
        screenshot(page, "phone-admin-personne-desinscription", engine)
        page.get_by_role("link", name="Annuler").click()
        page.goto(f"{base}/lists")
        page.locator("summary").first.click()
        screenshot(page, "phone-admin-listes", engine)
    assert offsite.refused == []
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert sorted(session.exec(select(MailingList.name))) == [NATIONAL]
        assert find_subscriber(session, "jean@example.org").status == "active"
    for email in ("anne@example.org", "bruno@example.org"):
        assert _shown(served, email)["lists"] == [NATIONAL]
