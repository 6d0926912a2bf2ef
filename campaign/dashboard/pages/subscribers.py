"""Subscribers: search, filter and export, a person's page (everything held, RGPD export and
erase), adding and correcting a person, unsubscribing and resubscribing them, and importing a
CSV or XLSX file with its report.

What changes people is for admins, and what cannot be undone by the page itself (an
unsubscription, a resubscription against an earlier refusal) goes through a confirmation page
that says what will happen, posted again with ``confirm=oui``.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from campaign.audience import subscribers as audience
from campaign.audience.importer import (
    FIELDS,
    KEEP,
    SKIP,
    ColumnError,
    ColumnPlan,
    MissingEmailColumn,
    import_subscribers,
    read_columns,
)
from campaign.audience.lists import find_list
from campaign.dashboard import pagekit, queries
from campaign.dashboard.uploads import HeldFile, HeldUploads
from campaign.errors import CampaignError
from campaign.i18n import N_
from campaign.models import Subscriber, SubscriberStatus
from campaign.taxonomy import Taxonomy

router = APIRouter()
ADMIN = [Depends(pagekit.require_admin)]
METHOD = "admin"  # the consent log's method for what an admin does on the dashboard
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _person(session: Session, subscriber_id: int) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.erased_at is not None or not subscriber.email:
        raise HTTPException(404)
    return subscriber


@router.get("/subscribers")
def index(
    request: Request,
    q: str = "",
    status: str = "",
    list_name: str = "",
    region: str = "",
    page: pagekit.PageNumber = 1,
) -> Response:
    board = pagekit.dashboard(request)
    pagekit.check_choice(status, [item.value for item in SubscriberStatus], "status")
    with board.session() as session:
        found = queries.search_subscribers(
            session, text=q, status=status, list_name=list_name, region=region, page=page
        )
        lists = queries.lists(session)
    return pagekit.render(
        request,
        "subscribers/list.html",
        found=found,
        q=q,
        status=status,
        list_name=list_name,
        region=region,
        lists=lists,
        regions=Taxonomy.from_settings(board.settings).regions,
        statuses=[item.value for item in SubscriberStatus],
    )


@router.get("/subscribers/export", dependencies=ADMIN)
def export_list(
    request: Request,
    format: str = "csv",
    q: str = "",
    status: str = "",
    list_name: str = "",
    region: str = "",
) -> Response:
    """The people the list page shows with these filters, as a file for Excel: a CSV in UTF-8
    with a BOM and semicolons (as ``subscribers export`` writes it), or an XLSX workbook."""
    board = pagekit.dashboard(request)
    pagekit.check_choice(format, EXPORT_TYPES, "format")
    pagekit.check_choice(status, [item.value for item in SubscriberStatus], "status")
    with tempfile.TemporaryDirectory() as folder, board.session() as session:
        if list_name and find_list(session, list_name) is None:
            raise pagekit.BadQuery(["list_name"])
        path = Path(folder) / f"abonnes.{format}"
        audience.export_subscribers(
            session,
            path,
            status=status or None,
            list_name=list_name or None,
            region=region or None,
            text=q,
        )
        body = path.read_bytes()
    return Response(
        body,
        media_type=EXPORT_TYPES[format],
        headers={"content-disposition": f'attachment; filename="abonnes.{format}"'},
    )


@dataclass
class PersonForm:
    """What the add and edit forms hold, kept as typed when the form is refused."""

    email: str = ""
    first_name: str = ""
    last_name: str = ""
    organisation: str = ""
    region: str = ""
    postcode: str = ""
    lists: list[str] = field(default_factory=list)
    consent_source: str = ""

    def profile(self, taxonomy: Taxonomy) -> dict[str, str]:
        region = self.region.strip()
        region = (
            taxonomy.region(region) or region or taxonomy.region_for_postcode(self.postcode) or ""
        )
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "organisation": self.organisation,
            "region": region,
            "postcode": self.postcode,
        }


def _person_form(
    email: str = Form(""),
    first_name: str = Form(""),
    last_name: str = Form(""),
    organisation: str = Form(""),
    region: str = Form(""),
    postcode: str = Form(""),
    lists: list[str] = Form([]),
    consent_source: str = Form(""),
) -> PersonForm:
    return PersonForm(**{k: v for k, v in locals().items()})


def _form_page(
    request: Request,
    form: PersonForm,
    *,
    subscriber: Subscriber | None = None,
    error: str | CampaignError = "",
    status_code: int = 200,
) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        lists = [row["name"] for row in queries.lists(session)]
        joined: list[str] = []
        if subscriber is not None:
            joined = audience.describe_subscriber(session, subscriber.email or "")["lists"]
            left = [m["list"] for m in _memberships(session, subscriber) if m["left"]]
            lists = [name for name in lists if name not in joined and name not in left]
    return pagekit.render(
        request,
        "subscribers/form.html",
        status_code=status_code,
        form=form,
        subscriber=subscriber,
        joined=joined,
        lists=lists,
        regions=Taxonomy.from_settings(board.settings).regions,
        error=error,
    )


@router.get("/subscribers/new", dependencies=ADMIN)
def new_form(request: Request, depuis: int = Query(0, ge=0, le=pagekit.MAX_ID)) -> Response:
    """The add form; ``depuis``: a person whose new address this is (their fields copied, the
    old person left as they are)."""
    form = PersonForm()
    if depuis:
        board = pagekit.dashboard(request)
        with board.session() as session:
            old = _person(session, depuis)
            form = PersonForm(
                first_name=old.first_name,
                last_name=old.last_name,
                organisation=old.organisation,
                region=old.region,
                postcode=old.postcode,
                lists=audience.describe_subscriber(session, old.email or "")["lists"],
            )
    return _form_page(request, form)


@router.post("/subscribers/new", dependencies=ADMIN)
def create(request: Request, form: PersonForm = Depends(_person_form)) -> Response:
    board = pagekit.dashboard(request)
    taxonomy = Taxonomy.from_settings(board.settings)
    try:
        if not form.email.strip():
            raise CampaignError(pagekit.say(request, N_("Give the person's email address.")))
        if not form.consent_source.strip():
            raise CampaignError(
                pagekit.say(
                    request,
                    N_(
                        "Say how the person gave their consent (the proof of their consent, "
                        "noted in the log)."
                    ),
                )
            )
        with board.session() as session:
            known = audience.find_subscriber(session, form.email)
            if known is not None:
                known_page = f"{pagekit.base_path(request)}/subscribers/{known.id}"
                raise CampaignError(
                    pagekit.say(
                        request,
                        N_(
                            "The address {email} is already known: edit their record ({page}) "
                            "rather than adding it again."
                        ),
                        email=known.email,
                        page=known_page,
                    )
                )
            subscriber, _outcome = audience.add_subscriber(
                session,
                form.email,
                list_names=form.lists,
                profile=form.profile(taxonomy),
                actor=f"web:{request.state.user.email}",
                method=METHOD,
                source=form.consent_source.strip()[:300],
            )
            person_id = subscriber.id
    except CampaignError as exc:
        return _form_page(request, form, error=exc, status_code=400)
    return pagekit.see_other(request, f"/subscribers/{person_id}", "person-added")


@router.get("/subscribers/{subscriber_id}/edit", dependencies=ADMIN)
def edit_form(request: Request, subscriber_id: pagekit.Id) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        subscriber = _person(session, subscriber_id)
    form = PersonForm(
        email=subscriber.email or "",
        first_name=subscriber.first_name,
        last_name=subscriber.last_name,
        organisation=subscriber.organisation,
        region=subscriber.region,
        postcode=subscriber.postcode,
    )
    return _form_page(request, form, subscriber=subscriber)


@router.post("/subscribers/{subscriber_id}/edit", dependencies=ADMIN)
def edit(
    request: Request, subscriber_id: pagekit.Id, form: PersonForm = Depends(_person_form)
) -> Response:
    board = pagekit.dashboard(request)
    taxonomy = Taxonomy.from_settings(board.settings)
    actor = f"web:{request.state.user.email}"
    with board.session() as session:
        subscriber = _person(session, subscriber_id)
    form.email = subscriber.email or ""  # never changed here: a new address is a new person
    try:
        with board.session() as session:
            person = _person(session, subscriber_id)
            audience.update_profile(
                session, person, form.profile(taxonomy), actor=actor, method=METHOD
            )
            for name in form.lists:
                mailing_list = find_list(session, name)
                if mailing_list is None:
                    gone = N_("The list “{name}” no longer exists.")
                    raise CampaignError(pagekit.say(request, gone, name=name))
                audience.join_list(session, person, mailing_list, method=METHOD, actor=actor)
    except CampaignError as exc:
        return _form_page(request, form, subscriber=subscriber, error=exc, status_code=400)
    return pagekit.see_other(request, f"/subscribers/{subscriber_id}", "person-saved")


def _memberships(session: Session, subscriber: Subscriber) -> list[dict[str, object]]:
    data = audience.describe_subscriber(session, subscriber.email or "")
    return [
        {"list": m["list"], "left": m["unsubscribed_at"] is not None} for m in data["memberships"]
    ]


def _when(moment: datetime | None, request: Request) -> str:
    settings = pagekit.dashboard(request).settings
    date, time = (
        pagekit.local(moment, settings, "%d/%m/%Y"),
        pagekit.local(moment, settings, "%H:%M"),
    )
    return pagekit.say(request, N_("{date} at {time}"), date=date, time=time)


@router.post("/subscribers/{subscriber_id}/unsubscribe", dependencies=ADMIN)
def unsubscribe(
    request: Request,
    subscriber_id: pagekit.Id,
    list_name: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        subscriber = _person(session, subscriber_id)
        email = subscriber.email or ""
        current = [m["list"] for m in _memberships(session, subscriber) if not m["left"]]
    if list_name and list_name not in current:
        return _person_page(
            request,
            subscriber_id,
            pagekit.say(request, N_("This person is not subscribed to “{name}”."), name=list_name),
            400,
        )
    if confirm != "oui":
        what = (
            pagekit.say(request, N_("the list “{name}”"), name=list_name)
            if list_name
            else pagekit.say(request, N_("all newsletters (whatever their lists)"))
        )
        return pagekit.confirm_page(
            request,
            pagekit.Confirmation(
                title=pagekit.say(request, N_("Unsubscribe this person?")),
                lines=[
                    pagekit.say(
                        request,
                        N_("1 person, {email}, will be unsubscribed from {what}."),
                        email=email,
                        what=what,
                    ),
                    pagekit.say(
                        request,
                        N_(
                            "They will no longer receive these newsletters. This will be noted "
                            "in the consent log, in your name. Only their new consent will "
                            "allow subscribing them again."
                        ),
                    ),
                ],
                action=f"/subscribers/{subscriber_id}/unsubscribe",
                button=pagekit.say(request, N_("Unsubscribe them")),
                back=f"/subscribers/{subscriber_id}",
                fields={"list_name": list_name},
            ),
        )
    with board.session() as session:
        audience.unsubscribe(
            session,
            email,
            actor=f"web:{request.state.user.email}",
            method=METHOD,
            list_name=list_name or None,
        )
    return pagekit.see_other(request, f"/subscribers/{subscriber_id}", "person-unsubscribed")


@router.post("/subscribers/{subscriber_id}/resubscribe", dependencies=ADMIN)
def resubscribe(
    request: Request,
    subscriber_id: pagekit.Id,
    list_name: str = Form(""),
    confirm: str = Form(""),
    consent: str = Form(""),
    force: str = Form(""),
) -> Response:
    board = pagekit.dashboard(request)
    try:
        with board.session() as session:
            subscriber = _person(session, subscriber_id)
            check = audience.resubscription(session, subscriber, list_name or None)
    except CampaignError:
        missing = pagekit.say(request, N_("The list “{name}” does not exist."), name=list_name)
        return _person_page(request, subscriber_id, missing, 400)
    if check.pending:
        return _person_page(
            request,
            subscriber_id,
            pagekit.say(
                request,
                N_(
                    "This person has not confirmed their address yet: only their confirmation "
                    "makes them active."
                ),
            ),
            400,
        )
    if not check.undo:
        return pagekit.see_other(request, f"/subscribers/{subscriber_id}", "person-resubscribed")
    given = {"consent": consent == "oui", "force": force == "oui"}
    needed = {"consent": check.self_at is not None, "force": bool(check.blocked)}
    if confirm != "oui" or any(needed[key] and not given[key] for key in needed):
        status = 400 if confirm == "oui" else 200
        return _confirm_resubscribe(request, subscriber_id, list_name, check, status)
    try:
        with board.session() as session:
            audience.resubscribe(
                session,
                check.email,
                actor=f"web:{request.state.user.email}",
                method=METHOD,
                list_name=list_name or None,
                consent=given["consent"],
                force=given["force"],
            )
    except CampaignError as exc:
        return _person_page(request, subscriber_id, exc, 400)
    return pagekit.see_other(request, f"/subscribers/{subscriber_id}", "person-resubscribed")


def _confirm_resubscribe(
    request: Request,
    subscriber_id: int,
    list_name: str,
    check: audience.Resubscription,
    status_code: int,
) -> Response:
    """What resubscribing will do, and the boxes the law asks to tick first (``check``: what
    the stage says it needs)."""
    where = (
        pagekit.say(request, N_("the list “{name}”"), name=check.list_name)
        if check.list_name
        else pagekit.say(request, N_("their newsletters"))
    )
    will = N_("1 person, {email}, will be subscribed again to {where}.")
    lines = [pagekit.say(request, will, email=check.email, where=where)]
    checks = []
    if check.blocked:
        lines.append(
            pagekit.say(request, N_("Their address is in error (messages do not reach them)."))
            if check.blocked == SubscriberStatus.bounced
            else pagekit.say(request, N_("They reported a newsletter as junk (complaint)."))
        )
        works = N_("I know their address works again and they want to receive the newsletters")
        checks.append(("force", pagekit.say(request, works)))
    if check.self_at is not None:
        lines.append(
            pagekit.say(
                request,
                N_(
                    "They unsubscribed themselves on {when}. The GDPR allows subscribing them "
                    "again only with their new consent."
                ),
                when=_when(check.self_at, request),
            )
        )
        again = N_("This person gave me their consent again to receive the newsletters")
        checks.append(("consent", pagekit.say(request, again)))
    lines.append(pagekit.say(request, N_("This will be noted in the consent log, in your name.")))
    return pagekit.confirm_page(
        request,
        pagekit.Confirmation(
            title=pagekit.say(request, N_("Subscribe this person again?")),
            lines=lines,
            action=f"/subscribers/{subscriber_id}/resubscribe",
            button=pagekit.say(request, N_("Subscribe them again")),
            back=f"/subscribers/{subscriber_id}",
            fields={"list_name": list_name},
            checks=checks,
            danger=False,
        ),
        status_code=status_code,
    )


@router.get("/subscribers/import")
def import_form(request: Request) -> Response:
    return _import_page(request)


def upload_name(filename: str | None) -> str:
    """The uploaded file's own name (it goes to the consent log and the report), made safe."""
    name = Path((filename or "").replace("\\", "/")).name
    name = re.sub(r"[^\w.\- ]", "_", name).strip(" .") or "import"
    return name[:120]


@dataclass
class ImportForm:
    """What the import form holds, sent back with the kept file's token after a dry run."""

    list_name: str = ""
    consent_origin: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # header -> field, KEEP or SKIP


def _uploads(request: Request) -> HeldUploads:
    return HeldUploads(pagekit.dashboard(request).settings.dashboard.import_dir)


def _import_page(
    request: Request,
    report: object = None,
    error: str | CampaignError = "",
    status_code: int = 200,
    *,
    form: ImportForm | None = None,
    held: HeldFile | None = None,
    plan: ColumnPlan | None = None,
    refusal: ColumnError | None = None,
    missing_origin: bool = False,
    problem: str = "",
) -> Response:
    """``problem``: what the form lacks, worded by the template ("expired": the kept file is
    gone, "no_file")."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        lists = queries.lists(session)
    form = form or ImportForm()
    chosen = dict(form.columns)
    if plan is not None:
        for header in plan.unrecognised:
            chosen.setdefault(header, KEEP)
    return pagekit.render(
        request,
        "subscribers/import.html",
        status_code=status_code,
        lists=lists,
        report=report,
        error=error,
        form=form,
        held=held,
        plan=plan,
        chosen=chosen,
        refusal=refusal,
        missing_origin=missing_origin,
        problem=problem,
        no_email=isinstance(refusal, MissingEmailColumn),
        fields=FIELDS,
        keep=KEEP,
        skip=SKIP,
        expires=pagekit.local(held.expires_at, board.settings, "%H:%M") if held else "",
    )


@router.post("/subscribers/import")
async def import_file(request: Request) -> Response:
    """Check (``action=essai``) or import an uploaded file, or the file kept by a dry run.

    The form's columns come as pairs ``column_header`` / ``column_field`` (what the person
    chose each unrecognised column holds). A real import needs the consent origin; without it
    the file is checked as for a dry run and the page asks for it, the file kept.
    """
    data = await request.form()
    upload = data.get("file")
    headers = [str(value) for value in data.getlist("column_header")]
    fields = [str(value) for value in data.getlist("column_field")]
    form = ImportForm(
        list_name=str(data.get("list_name") or "").strip(),
        consent_origin=" ".join(str(data.get("consent_origin") or "").split()),
        columns={h: f for h, f in zip(headers, fields, strict=False) if h and f},
    )
    trial = data.get("action") == "essai" or bool(data.get("dry_run"))
    user = request.state.user.email
    uploads = _uploads(request)
    token = str(data.get("upload") or "")
    held: HeldFile | None = None
    if isinstance(upload, StarletteUpload) and upload.filename:
        if token and uploads.find(token, user) is not None:
            uploads.discard(token)  # another file chosen instead of the kept one
        held = await run_in_threadpool(
            uploads.keep, upload.file, upload_name(upload.filename), user
        )
        form.columns = {}  # the choices were about the other file
    elif token:
        held = uploads.find(token, user)
        if held is None:
            return _import_page(request, status_code=400, form=form, problem="expired")
    else:
        return _import_page(request, status_code=400, form=form, problem="no_file")
    missing_origin = not trial and not form.consent_origin
    return await run_in_threadpool(
        _run_import, request, held, form, trial or missing_origin, missing_origin
    )


def _run_import(
    request: Request, held: HeldFile, form: ImportForm, dry_run: bool, missing_origin: bool
) -> Response:
    board = pagekit.dashboard(request)
    settings = board.settings
    uploads = _uploads(request)
    try:
        plan = read_columns(held.path)
        with board.session() as session:
            report = import_subscribers(
                session,
                held.path,
                list_name=form.list_name or None,
                dry_run=dry_run,
                actor=f"web:{request.state.user.email}",
                taxonomy=Taxonomy.from_settings(settings),
                columns=form.columns,
                consent_origin=form.consent_origin,
                zone=settings.zone,
            )
    except ColumnError as exc:
        return _import_page(
            request,
            status_code=200 if isinstance(exc, MissingEmailColumn) else 400,
            form=form,
            held=held,
            plan=read_columns(held.path),
            refusal=exc,
        )
    except CampaignError as exc:
        uploads.discard(held.token)  # not a table: nothing to keep it for
        return _import_page(request, error=exc, status_code=400, form=form)
    if not dry_run:
        uploads.discard(held.token)
        return _import_page(request, report=report)
    return _import_page(
        request,
        report=report,
        status_code=400 if missing_origin else 200,
        form=form,
        held=held,
        plan=plan,
        missing_origin=missing_origin,
    )


def _person_page(
    request: Request, subscriber_id: int, error: str | CampaignError = "", status_code: int = 200
) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        subscriber = _person(session, subscriber_id)
        data = audience.describe_subscriber(session, subscriber.email or "")
        undo_all = audience.resubscription(session, subscriber).undo
    # The log's times in [general] timezone, as people read them (stored in UTC).
    consent = [
        {**line, "at": datetime.fromisoformat(line["at"]) if line["at"] else None}
        for line in data["consent_log"]
    ]
    return pagekit.render(
        request,
        "subscribers/person.html",
        status_code=status_code,
        subscriber=subscriber,
        data=data,
        consent=consent,
        zone=board.settings.general.timezone,
        current=[m["list"] for m in data["memberships"] if m["unsubscribed_at"] is None],
        left=[m["list"] for m in data["memberships"] if m["unsubscribed_at"] is not None],
        undo_all=undo_all,
        error=error,
    )


@router.get("/subscribers/{subscriber_id}")
def person(request: Request, subscriber_id: pagekit.Id) -> Response:
    return _person_page(request, subscriber_id)


@router.get("/subscribers/{subscriber_id}/export")
def export(request: Request, subscriber_id: pagekit.Id) -> Response:
    """Everything held about the person, as a JSON file (RGPD right of access)."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        subscriber = _person(session, subscriber_id)
        data = audience.describe_subscriber(session, subscriber.email or "")
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="abonne-{subscriber_id}.json"',
        },
    )


@router.post("/subscribers/{subscriber_id}/erase", dependencies=[Depends(pagekit.require_admin)])
def erase(request: Request, subscriber_id: pagekit.Id, confirm: str = Form("")) -> Response:
    """Erase the person's data: asked first on a page naming the person and their lists."""
    board = pagekit.dashboard(request)
    if not pagekit.confirmed(confirm):
        with board.session() as session:
            subscriber = _person(session, subscriber_id)
            memberships = _memberships(session, subscriber)
        return pagekit.confirm_page(
            request,
            pagekit.Confirmation(
                action=f"/subscribers/{subscriber_id}/erase",
                back=f"/subscribers/{subscriber_id}",
                template="subscribers/confirm_erase.html",
                context={
                    "subscriber": subscriber,
                    "current": [m["list"] for m in memberships if not m["left"]],
                },
            ),
        )
    with board.session() as session:
        subscriber = _person(session, subscriber_id)
        audience.erase_subscriber(
            session, subscriber.email or "", actor=f"web:{request.state.user.email}"
        )
    return pagekit.see_other(request, "/subscribers", "erased")
