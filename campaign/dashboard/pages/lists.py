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
from campaign.i18n import N_
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
    errors: dict[str, str] = field(default_factory=dict)  # field id -> the pages' sentence
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


def _name_error(request: Request, exc: CampaignError) -> tuple[str, str]:
    """A stage's refusal of a name in the pages' words: (sentence, existing list's name or "")."""
    settings = web.dashboard(request).settings
    sentence = " ".join(text for _input, text in web.FormErrors.of(exc, settings).summary)
    return sentence, exc.existing if isinstance(exc, stage.ListExists) else ""


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
        sentence, existing = _name_error(request, exc)
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
        sentence, existing = _name_error(request, exc)
        form = ListsForm(
            renaming=list_id,
            new_name=new_name,
            errors={f"rename-{list_id}": sentence},
            suggestion={f"rename-{list_id}": existing} if existing else {},
        )
        return _page(request, form, 400)
    return web.see_other(request, "/lists", "list-renamed")


def _by_name(request: Request, use: stage.ListUse) -> list[str]:
    # use.settings: the settings naming the list (the public subscription form's lists).
    settings = [web.say(request, N_("the public subscription form's settings"))]
    calendars = [web.say(request, N_("the calendar {name}"), name=item) for item in use.calendars]
    return calendars + (settings if use.settings else [])


def _merge_lines(
    request: Request, use: stage.ListUse, source_name: str, target_name: str, on_target: int
) -> list[str]:
    """What merging ``source_name`` into ``target_name`` does, for the confirmation page."""
    people = use.members + use.former
    pair = {"source": source_name, "target": target_name}
    lines = [
        web.say(
            request,
            N_(
                "The {members} person(s) subscribed to “{source}” (and {former} who had "
                "left it) move to “{target}”, which has {on_target}; a person on both "
                "lists is on it only once."
            ),
            members=use.members,
            former=use.former,
            on_target=on_target,
            **pair,
        ),
        web.say(
            request,
            N_(
                "The consent log of these {people} person(s) is kept: its lines now name "
                "“{target}”, and the merge is noted there under your name."
            ),
            people=people,
            **pair,
        ),
    ]
    if use.newsletters:
        lines.append(
            web.say(
                request,
                N_("{count} newsletter(s) meant for “{source}” will be for “{target}”: {names}."),
                count=len(use.newsletters),
                names=", ".join(use.newsletters[:10]),
                **pair,
            )
        )
    naming = _by_name(request, use)
    if naming and stage.fold_name(source_name) != stage.fold_name(target_name):
        lines.append(
            web.say(
                request,
                N_("To correct afterwards, as they still name “{source}”: {names}."),
                source=source_name,
                names=", ".join(naming),
            )
        )
    lines.append(
        web.say(
            request,
            N_("The list “{source}” is then deleted. This cannot be undone."),
            source=source_name,
        )
    )
    return lines


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
                errors={
                    f"merge-{list_id}": web.say(
                        request, N_("Choose the list to pour this one into.")
                    )
                },
            )
            return _page(request, form, 400)
        use = stage.list_use(session, source, board.settings)
        on_target = stage.list_use(session, target, board.settings).members
        source_name, target_name = source.name, target.name
    if confirm != "oui":
        lines = _merge_lines(request, use, source_name, target_name, on_target)
        names = {"source": source_name, "target": target_name}
        return web.confirm_page(
            request,
            web.Confirmation(
                title=web.say(request, N_("Merge “{source}” into “{target}”?"), **names),
                lines=lines,
                action=f"/lists/{list_id}/merge",
                button=web.say(request, N_("Merge the lists")),
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


def _delete_refusals(request: Request, use: stage.ListUse) -> list[str]:
    """Why a list cannot be deleted, in the pages' words (empty: it can)."""
    reasons = []
    if use.members:
        text = N_("{count} person(s) are subscribed to it")
        reasons.append(web.say(request, text, count=use.members))
    if use.former:
        text = N_("{count} person(s) have left it and their consent log names it")
        reasons.append(web.say(request, text, count=use.former))
    elif use.consent_lines and not use.members:
        text = N_("{count} line(s) of the consent log name it")
        reasons.append(web.say(request, text, count=use.consent_lines))
    if use.newsletters:
        text = N_("newsletters are meant for it: {names}")
        reasons.append(web.say(request, text, names=", ".join(use.newsletters[:10])))
    for item in _by_name(request, use):
        reasons.append(web.say(request, N_("{what} names it"), what=item))
    return reasons


@router.post("/lists/{list_id}/delete", dependencies=ADMIN)
def delete(request: Request, list_id: web.Id, confirm: str = Form("")) -> Response:
    board = web.dashboard(request)
    with board.session() as session:
        mailing_list = _mailing_list(session, list_id)
        use = stage.list_use(session, mailing_list, board.settings)
        name = mailing_list.name
    reasons = _delete_refusals(request, use)
    if reasons:
        return web.render(
            request, "lists/refused.html", status_code=400, name=name, reasons=reasons
        )
    if confirm != "oui":
        return web.confirm_page(
            request,
            web.Confirmation(
                title=web.say(request, N_("Delete the list “{name}”?"), name=name),
                lines=[
                    web.say(
                        request,
                        N_(
                            "The list “{name}” is empty (0 people) and nothing uses it: it will "
                            "be deleted. This cannot be undone."
                        ),
                        name=name,
                    )
                ],
                action=f"/lists/{list_id}/delete",
                button=web.say(request, N_("Delete the list")),
                back="/lists",
            ),
        )
    with board.session() as session:
        stage.delete_list(session, name, board.settings)
    return web.see_other(request, "/lists", "list-deleted")
