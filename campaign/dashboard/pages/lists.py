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
from campaign.dashboard import pagekit, queries
from campaign.errors import CampaignError
from campaign.i18n import N_
from campaign.models import MailingList

router = APIRouter()
ADMIN = [Depends(pagekit.require_admin)]
METHOD = "admin"


@dataclass
class ListsForm:
    """What was typed in one of the page's forms, and what was wrong with it."""

    name: str = ""  # the new list's name
    description: str = ""
    renaming: int = 0  # the list whose rename form was sent
    new_name: str = ""
    merging: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # field id -> sentence, worded
    suggestion: dict[str, str] = field(default_factory=dict)  # field id -> existing name


def _mailing_list(session: Session, list_id: int) -> MailingList:
    found = session.get(MailingList, list_id)
    if found is None:
        raise HTTPException(404)
    return found


def _page(request: Request, form: ListsForm | None = None, status_code: int = 200) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        ids = dict(session.exec(select(MailingList.name, MailingList.id)).all())
        rows: list[dict[str, Any]] = [
            {**row, "id": ids[row["name"]]} for row in queries.lists(session)
        ]
    return pagekit.render(
        request,
        "lists/index.html",
        status_code=status_code,
        rows=rows,
        form=asdict(form or ListsForm()),
    )


def _name_error(request: Request, exc: CampaignError) -> tuple[str, str]:
    """A stage's refusal of a name (``list.no_name``, ``list.name_too_long``,
    ``list.exists``) in the pages' language: (sentence, existing list's name or "")."""
    settings = pagekit.dashboard(request).settings
    sentence = " ".join(text for _input, text in pagekit.FormErrors.of(exc, settings).summary)
    return sentence, exc.existing if isinstance(exc, stage.ListExists) else ""


@router.get("/lists")
def index(request: Request) -> Response:
    return _page(request)


@router.post("/lists/new")
def create(request: Request, name: str = Form(""), description: str = Form("")) -> Response:
    board = pagekit.dashboard(request)
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
    return pagekit.see_other(request, "/lists", "list-created")


@router.post("/lists/{list_id}/rename", dependencies=ADMIN)
def rename(request: Request, list_id: pagekit.Id, new_name: str = Form("")) -> Response:
    board = pagekit.dashboard(request)
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
    return pagekit.see_other(request, "/lists", "list-renamed")


def _by_name(request: Request, use: stage.ListUse) -> list[str]:
    # use.settings: the settings naming the list (the public subscription form's lists).
    settings = N_("the settings of the public subscription form")
    named = [pagekit.say(request, settings)] if use.settings else []
    calendar = N_("the calendar {name}")
    return [pagekit.say(request, calendar, name=item) for item in use.calendars] + named


@router.post("/lists/{list_id}/merge", dependencies=ADMIN)
def merge(
    request: Request,
    list_id: pagekit.Id,
    into: int = Form(0, ge=0, le=pagekit.MAX_ID),
    confirm: str = Form(""),
) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        source = _mailing_list(session, list_id)
        target = session.get(MailingList, into) if into else None
        if target is None or target.id == source.id:
            form = ListsForm(
                merging=list_id,
                errors={
                    f"merge-{list_id}": pagekit.say(
                        request, N_("Choose the list to pour this one into.")
                    )
                },
            )
            return _page(request, form, 400)
        use = stage.list_use(session, source, board.settings)
        on_target = stage.list_use(session, target, board.settings).members
        source_name, target_name = source.name, target.name
    if confirm != "oui":
        names = {"source": source_name, "target": target_name}
        return _confirm_merge(request, list_id, into, use, on_target, names)
    with board.session() as session:
        stage.merge_lists(
            session,
            source_name,
            target_name,
            actor=f"web:{request.state.user.email}",
            method=METHOD,
        )
    return pagekit.see_other(request, "/lists", "list-merged")


def _confirm_merge(
    request: Request, list_id: int, into: int, use: stage.ListUse, on_target: int, names: dict
) -> Response:
    """What merging list ``list_id`` into list ``into`` will do, to confirm (``names``: their
    names, ``source`` and ``target``)."""
    source, target = names["source"], names["target"]
    lines = [
        pagekit.say(
            request,
            N_(
                "The {members} person(s) subscribed to “{source}” (and {former} who had left "
                "it) move to “{target}”, which has {on_target}; a person subscribed to both "
                "appears there only once."
            ),
            members=use.members,
            former=use.former,
            on_target=on_target,
            **names,
        ),
        pagekit.say(
            request,
            N_(
                "The consent log of these {people} person(s) is kept: its lines name "
                "“{target}” from now on, and the merge is noted there in your name."
            ),
            people=use.members + use.former,
            target=target,
        ),
    ]
    if use.newsletters:
        meant = N_(
            "{count} newsletter(s) meant for “{source}” will be meant for “{target}”: {names}."
        )
        lines.append(
            pagekit.say(
                request,
                meant,
                count=len(use.newsletters),
                names=", ".join(use.newsletters[:10]),
                **names,
            )
        )
    places = _by_name(request, use)
    if places and stage.fold_name(source) != stage.fold_name(target):
        later = N_("To correct afterwards, as they still name “{source}”: {places}.")
        lines.append(pagekit.say(request, later, source=source, places=", ".join(places)))
    final = N_("The list “{source}” is then deleted. This is final.")
    lines.append(pagekit.say(request, final, source=source))
    return pagekit.confirm_page(
        request,
        pagekit.Confirmation(
            title=pagekit.say(request, N_("Merge “{source}” into “{target}”?"), **names),
            lines=lines,
            action=f"/lists/{list_id}/merge",
            button=pagekit.say(request, N_("Merge the lists")),
            back="/lists",
            fields={"into": str(into)},
        ),
    )


@router.post("/lists/{list_id}/delete", dependencies=ADMIN)
def delete(request: Request, list_id: pagekit.Id, confirm: str = Form("")) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        mailing_list = _mailing_list(session, list_id)
        use = stage.list_use(session, mailing_list, board.settings)
        name = mailing_list.name
    reasons = []
    if use.members:
        reasons.append(
            pagekit.say(request, N_("{count} person(s) are subscribed to it"), count=use.members)
        )
    if use.former:
        left = N_("{count} person(s) left it and their consent log names it")
        reasons.append(pagekit.say(request, left, count=use.former))
    elif use.consent_lines and not use.members:
        lines = N_("{count} line(s) of the consent log name it")
        reasons.append(pagekit.say(request, lines, count=use.consent_lines))
    if use.newsletters:
        meant = N_("newsletters are meant for it: {names}")
        reasons.append(pagekit.say(request, meant, names=", ".join(use.newsletters[:10])))
    reasons += [
        pagekit.say(request, N_("{what} names it"), what=item) for item in _by_name(request, use)
    ]
    if reasons:
        return pagekit.render(
            request, "lists/refused.html", status_code=400, name=name, reasons=reasons
        )
    if confirm != "oui":
        return pagekit.confirm_page(
            request,
            pagekit.Confirmation(
                title=pagekit.say(request, N_("Delete the list “{name}”?"), name=name),
                lines=[
                    pagekit.say(
                        request,
                        N_(
                            "The list “{name}” is empty (0 people) and nothing uses it: it will "
                            "be deleted. This is final."
                        ),
                        name=name,
                    )
                ],
                action=f"/lists/{list_id}/delete",
                button=pagekit.say(request, N_("Delete the list")),
                back="/lists",
            ),
        )
    with board.session() as session:
        stage.delete_list(session, name, board.settings)
    return pagekit.see_other(request, "/lists", "list-deleted")
