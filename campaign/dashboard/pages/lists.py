"""Mailing lists: their counts, creating one (editors), renaming, merging and deleting (admins).

Names are compared without case or accents (:mod:`campaign.audience.lists`): a name already
taken that way is refused next to the field with the existing list's name, the rest of what was
typed kept. Merging and deleting go through a confirmation page that says what will happen and
to how many people, posted again with ``confirm=oui``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from campaign.audience import lists as stage
from campaign.dashboard import queries, web
from campaign.errors import CampaignError
from campaign.models import MailingList

router = APIRouter()
ADMIN = [Depends(web.require_admin)]
METHOD = "admin"


@dataclass
class ListsForm:
    """What was typed in one of the page's forms, and what was wrong with it."""

    name: str = ""  # the new list's name
    description: str = ""
    renaming: int = 0  # the list whose rename form was sent
    new_name: str = ""
    merging: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # field id -> French sentence
    suggestion: dict[str, str] = field(default_factory=dict)  # field id -> existing name


def _mailing_list(session: Session, list_id: int) -> MailingList:
    found = session.get(MailingList, list_id)
    if found is None:
        raise HTTPException(404)
    return found


def _page(request: Request, form: ListsForm | None = None, status_code: int = 200) -> Response:
    board = web.dashboard(request)
    with board.session() as session:
        ids = dict(session.exec(select(MailingList.name, MailingList.id)).all())
        rows: list[dict[str, Any]] = [
            {**row, "id": ids[row["name"]]} for row in queries.lists(session)
        ]
    return web.render(
        request,
        "lists/index.html",
        status_code=status_code,
        rows=rows,
        form=asdict(form or ListsForm()),
    )


def _name_error(exc: CampaignError) -> tuple[str, str]:
    """A stage's refusal of a name, in French: (sentence, existing list's name or "")."""
    if isinstance(exc, stage.ListExists):
        return f"Vouliez-vous dire « {exc.existing} » ?", exc.existing
    text = str(exc)
    if "needs a name" in text:
        return "Donnez un nom à la liste.", ""
    if "at most" in text:
        return "Un nom de liste a au plus 200 caractères.", ""
    return text, ""


@router.get("/lists")
def index(request: Request) -> Response:
    return _page(request)


@router.post("/lists/new")
def create(request: Request, name: str = Form(""), description: str = Form("")) -> Response:
    board = web.dashboard(request)
    try:
        with board.session() as session:
            stage.create_list(session, name, description.strip())
    except CampaignError as exc:
        sentence, existing = _name_error(exc)
        form = ListsForm(
            name=name,
            description=description,
            errors={"name": sentence},
            suggestion={"name": existing} if existing else {},
        )
        return _page(request, form, 400)
    return web.see_other(request, "/lists", "list-created")


@router.post("/lists/{list_id}/rename", dependencies=ADMIN)
def rename(request: Request, list_id: web.Id, new_name: str = Form("")) -> Response:
    board = web.dashboard(request)
    try:
        with board.session() as session:
            mailing_list = _mailing_list(session, list_id)
            stage.rename_list(session, mailing_list.name, new_name)
    except CampaignError as exc:
        sentence, existing = _name_error(exc)
        form = ListsForm(
            renaming=list_id,
            new_name=new_name,
            errors={f"rename-{list_id}": sentence},
            suggestion={f"rename-{list_id}": existing} if existing else {},
        )
        return _page(request, form, 400)
    return web.see_other(request, "/lists", "list-renamed")


def _by_name(use: stage.ListUse) -> list[str]:
    # use.settings: the settings naming the list (the public subscription form's lists).
    named = ["les réglages du formulaire d'inscription public"] if use.settings else []
    return [f"le calendrier {item}" for item in use.calendars] + named


@router.post("/lists/{list_id}/merge", dependencies=ADMIN)
def merge(
    request: Request,
    list_id: web.Id,
    into: int = Form(0, ge=0, le=web.MAX_ID),
    confirm: str = Form(""),
) -> Response:
    board = web.dashboard(request)
    with board.session() as session:
        source = _mailing_list(session, list_id)
        target = session.get(MailingList, into) if into else None
        if target is None or target.id == source.id:
            form = ListsForm(
                merging=list_id,
                errors={f"merge-{list_id}": "Choisissez la liste où verser celle-ci."},
            )
            return _page(request, form, 400)
        use = stage.list_use(session, source, board.settings)
        on_target = stage.list_use(session, target, board.settings).members
        source_name, target_name = source.name, target.name
    if confirm != "oui":
        people = use.members + use.former
        lines = [
            f"Les {use.members} personne(s) inscrites à « {source_name} » (et {use.former} qui "
            f"l'avaient quittée) passent dans « {target_name} », qui en compte {on_target} ; "
            "une personne inscrite aux deux n'y figure qu'une fois.",
            f"Le registre des consentements de ces {people} personne(s) est gardé : ses lignes "
            f"nomment désormais « {target_name} », et la fusion y est notée à votre nom.",
        ]
        if use.newsletters:
            lines.append(
                f"{len(use.newsletters)} newsletter(s) destinée(s) à « {source_name} » le "
                f"seront à « {target_name} » : " + ", ".join(use.newsletters[:10]) + "."
            )
        names = _by_name(use)
        if names and stage.fold_name(source_name) != stage.fold_name(target_name):
            lines.append(
                "À corriger ensuite, car ils nomment encore « "
                + source_name
                + " » : "
                + ", ".join(names)
                + "."
            )
        lines.append(f"La liste « {source_name} » est ensuite supprimée. C'est définitif.")
        return web.confirm_page(
            request,
            web.Confirmation(
                title=f"Fusionner « {source_name} » dans « {target_name} » ?",
                lines=lines,
                action=f"/lists/{list_id}/merge",
                button="Fusionner les listes",
                back="/lists",
                fields={"into": str(into)},
            ),
        )
    with board.session() as session:
        stage.merge_lists(
            session,
            source_name,
            target_name,
            actor=f"web:{request.state.user.email}",
            method=METHOD,
        )
    return web.see_other(request, "/lists", "list-merged")


@router.post("/lists/{list_id}/delete", dependencies=ADMIN)
def delete(request: Request, list_id: web.Id, confirm: str = Form("")) -> Response:
    board = web.dashboard(request)
    with board.session() as session:
        mailing_list = _mailing_list(session, list_id)
        use = stage.list_use(session, mailing_list, board.settings)
        name = mailing_list.name
    reasons = []
    if use.members:
        reasons.append(f"{use.members} personne(s) y sont inscrites")
    if use.former:
        reasons.append(f"{use.former} personne(s) l'ont quittée et leur registre la nomme")
    elif use.consent_lines and not use.members:
        reasons.append(f"{use.consent_lines} ligne(s) du registre des consentements la nomment")
    if use.newsletters:
        reasons.append("des newsletters lui sont destinées : " + ", ".join(use.newsletters[:10]))
    reasons += [f"{item} la nomme" for item in _by_name(use)]
    if reasons:
        return web.render(
            request, "lists/refused.html", status_code=400, name=name, reasons=reasons
        )
    if confirm != "oui":
        return web.confirm_page(
            request,
            web.Confirmation(
                title=f"Supprimer la liste « {name} » ?",
                lines=[
                    f"La liste « {name} » est vide (0 personne) et rien ne l'utilise : elle sera "
                    "supprimée. C'est définitif."
                ],
                action=f"/lists/{list_id}/delete",
                button="Supprimer la liste",
                back="/lists",
            ),
        )
    with board.session() as session:
        stage.delete_list(session, name, board.settings)
    return web.see_other(request, "/lists", "list-deleted")
