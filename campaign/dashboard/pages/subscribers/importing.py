"""Importing a CSV or XLSX file: a dry run ("Essai") keeps the file for the import that
follows, the columns no header names chosen on the page, and the report."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

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
from campaign.dashboard import pagekit, queries
from campaign.dashboard.uploads import HeldFile, HeldUploads, upload_name
from campaign.errors import CampaignError
from campaign.taxonomy import Taxonomy

router = APIRouter()


@router.get("/subscribers/import")
def import_form(request: Request) -> Response:
    return _import_page(request)


@dataclass
class ImportForm:
    """What the import form holds, sent back with the kept file's token after a dry run."""

    list_name: str = ""
    consent_origin: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # header -> field, KEEP or SKIP

    @classmethod
    def posted(cls, data: FormData) -> ImportForm:
        """The form as posted; the columns come as pairs ``column_header`` / ``column_field``."""
        headers = [str(value) for value in data.getlist("column_header")]
        fields = [str(value) for value in data.getlist("column_field")]
        return cls(
            list_name=str(data.get("list_name") or "").strip(),
            consent_origin=" ".join(str(data.get("consent_origin") or "").split()),
            columns={h: f for h, f in zip(headers, fields, strict=False) if h and f},
        )


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
    form = ImportForm.posted(data)
    trial = data.get("action") == "essai" or bool(data.get("dry_run"))
    held, problem = await _held_file(request, data, form)
    if held is None:
        return _import_page(request, status_code=400, form=form, problem=problem)
    missing_origin = not trial and not form.consent_origin
    return await run_in_threadpool(
        _run_import, request, held, form, trial or missing_origin, missing_origin
    )


async def _held_file(
    request: Request, data: FormData, form: ImportForm
) -> tuple[HeldFile | None, str]:
    """The file to read: the one just uploaded (kept at once, in place of one kept before),
    else the one a dry run kept; without one, what the form lacks ("expired", "no_file")."""
    upload = data.get("file")
    user = request.state.user.email
    uploads = _uploads(request)
    token = str(data.get("upload") or "")
    if isinstance(upload, StarletteUpload) and upload.filename:
        if token and uploads.find(token, user) is not None:
            uploads.discard(token)  # another file chosen instead of the kept one
        held = await run_in_threadpool(
            uploads.keep, upload.file, upload_name(upload.filename), user
        )
        form.columns = {}  # the choices were about the other file
        return held, ""
    if token:
        found = uploads.find(token, user)
        return found, "" if found is not None else "expired"
    return None, "no_file"


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
