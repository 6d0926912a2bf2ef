"""Newsletters: list with figures, create and edit, live counts, preview, test, schedule, pause,
resume and cancel. Each action is one call to :mod:`campaign.newsletters`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import escape
from sqlmodel import Session
from starlette.datastructures import FormData

from campaign.addresses import InvalidEmail, normalise_email
from campaign.dashboard import pagekit, queries
from campaign.dashboard.blockform import (
    BlockEdit,
    block_labels,
    checked_blocks,
    read_blocks,
    read_fields,
    shown_value,
    stored_to_form,
)
from campaign.dashboard.sender_words import refusal_text
from campaign.errors import CampaignError
from campaign.events.catalogue import find_events
from campaign.i18n import N_
from campaign.mail import open_transport
from campaign.models import DeliveryStatus, Newsletter, NewsletterStatus, WhenNoEvents
from campaign.newsletters import allowed, queue, records
from campaign.newsletters.blocks import BLOCK_TYPES
from campaign.newsletters.coverage import coverage
from campaign.newsletters.manifest import TemplateManifest, load_manifest
from campaign.newsletters.preview import (
    addressed_to,
    block_events,
    event_query,
    group_events,
    newsletter_context,
    preview,
)
from campaign.newsletters.render import Recipient, newsletter_folder, render_group
from campaign.reports import Period
from campaign.reports.queries import NewsletterFigures, newsletter_figures
from campaign.sender import SenderRefused, check_real_send
from campaign.taxonomy import Taxonomy
from campaign.tracking.links import check_public_url

router = APIRouter()

# Rows of a newsletter under way that no relay has taken yet: those a cancel stops.
UNSENT_ROWS = (DeliveryStatus.pending, DeliveryStatus.deferred, DeliveryStatus.sending)

ORDERS = ("date", "registered", "title")
# The form's inputs for the domain fields whose names differ (the others: "events.to" is
# "events_to"); the page shows each message next to its input.
FORM_INPUTS = {
    "segment": "segment_other",
    "segment.region": "segment_regions",
}
PREVIEW_CSP = (
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src data:; sandbox"
)


@dataclass
class NewsletterForm:
    """What the create/edit form holds, as typed."""

    title: str = ""
    subject: str = ""
    preheader: str = ""
    template: str = "mois-ess"
    from_name: str = ""
    from_address: str = ""
    lists: list[str] = field(default_factory=list)
    segment_regions: list[str] = field(default_factory=list)
    segment_other: str = ""
    events_from: str = ""
    events_to: str = ""
    events_regions: list[str] = field(default_factory=list)
    events_themes: list[str] = field(default_factory=list)
    events_types: list[str] = field(default_factory=list)
    events_max: str = ""
    events_order: str = "date"
    when_no_events: str = "national"
    no_events_text: str = ""
    intro: str = ""
    # The template fields as typed, by template (the form shows every template's).
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    # The blocks as the editor shows them (see campaign.dashboard.blockform).
    blocks: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_newsletter(cls, session: Session, newsletter: Newsletter) -> NewsletterForm:
        rule = newsletter.event_rule or {}
        segment = dict(newsletter.segment or {})
        content = dict(newsletter.content or {})
        intro = content.pop("intro", "")
        shown = {key: shown_value(value) for key, value in content.items()}
        return cls(
            title=newsletter.title,
            subject=newsletter.subject,
            preheader=newsletter.preheader,
            template=newsletter.template,
            from_name=newsletter.from_name,
            from_address=newsletter.from_address,
            lists=records.list_names(session, newsletter),
            segment_regions=list(segment.pop("region", [])),
            segment_other="\n".join(
                f"{key}={value}" for key, values in segment.items() for value in values
            ),
            events_from=rule.get("from") or "",
            events_to=rule.get("to") or "",
            events_regions=list(rule.get("regions") or []),
            events_themes=list(rule.get("themes") or []),
            events_types=list(rule.get("types") or []),
            events_max=str(rule.get("max") or ""),
            events_order=rule.get("order") or "date",
            when_no_events=newsletter.when_no_events,
            no_events_text=newsletter.no_events_text,
            intro=str(intro),
            fields={
                newsletter.template: {k: v for k, v in shown.items() if v is not None},
            },
            blocks=stored_to_form(newsletter.blocks or []),
        )

    def rule(self) -> records.EventRule:
        return records.EventRule(
            date_from=pagekit.parse_day(self.events_from),
            date_to=pagekit.parse_day(self.events_to),
            regions=self.events_regions,
            themes=self.events_themes,
            types=self.events_types,
            limit=_positive(self.events_max),
            order=self.events_order,
        )

    def segment(self) -> dict[str, list[str]]:
        segment = records.parse_pairs(_lines(self.segment_other), "segment")
        if self.segment_regions:
            segment["region"] = list(self.segment_regions)
        return segment

    def content(self) -> dict[str, Any]:
        """The intro and the chosen template's fields (empty: removed)."""
        return {**self.fields.get(self.template, {}), "intro": self.intro.strip()}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _positive(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise CampaignError.of("newsletter.events_max_too_small", "events.max")
    return int(text)


def _form(
    title: str = Form(""),
    subject: str = Form(""),
    preheader: str = Form(""),
    template: str = Form("mois-ess"),
    from_name: str = Form(""),
    from_address: str = Form(""),
    lists: list[str] = Form([]),
    segment_regions: list[str] = Form([]),
    segment_other: str = Form(""),
    events_from: str = Form(""),
    events_to: str = Form(""),
    events_regions: list[str] = Form([]),
    events_themes: list[str] = Form([]),
    events_types: list[str] = Form([]),
    events_max: str = Form(""),
    events_order: str = Form("date"),
    when_no_events: str = Form("national"),
    no_events_text: str = Form(""),
    intro: str = Form(""),
) -> NewsletterForm:
    return NewsletterForm(**{k: v for k, v in locals().items()})


async def _posted(request: Request) -> FormData:
    """The whole form as posted (read once already by the CSRF check: cached)."""
    return await request.form()


def _manifests(templates_dir: Any) -> list[TemplateManifest]:
    folder = newsletter_folder(templates_dir)
    return [load_manifest(folder, name) for name in queries.template_names(templates_dir)]


def _read_editor(request: Request, form: NewsletterForm, posted: FormData) -> BlockEdit:
    """The blocks and every template's fields as posted, into ``form``."""
    board = pagekit.dashboard(request)
    edit = read_blocks(posted, board.settings.dashboard.media_dir)
    form.blocks = edit.blocks
    form.fields = {
        manifest.folder: read_fields(posted, manifest)
        for manifest in _manifests(board.templates_dir)
    }
    return edit


def _choices(request: Request, session: Session) -> dict[str, Any]:
    board = pagekit.dashboard(request)
    taxonomy = Taxonomy.from_settings(board.settings)
    return {
        "templates": queries.template_names(board.templates_dir),
        "all_lists": [row["name"] for row in queries.lists(session)],
        "regions": taxonomy.regions,
        "themes": taxonomy.themes,
        "types": queries.event_types(session),
        "orders": ORDERS,
        "manifests": _manifests(board.templates_dir),
        "block_types": BLOCK_TYPES,
        "block_labels": block_labels(board.settings.general.language),
    }


def _figures(session: Session, settings: Any, ids: list[int]) -> dict[int, NewsletterFigures]:
    """The reports stage's figures of these sent newsletters, by newsletter."""
    if not ids:
        return {}
    found = newsletter_figures(session, Period(None, None, settings.zone), ids)
    return {figure.id: figure for figure in found}


def _get(session: Session, newsletter_id: int) -> Newsletter:
    try:
        return records.get_newsletter(session, newsletter_id)
    except CampaignError:
        raise HTTPException(404) from None


@router.get("/newsletters")
def index(request: Request) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        newsletters = list(reversed(records.list_newsletters(session)))
        figures = _figures(session, board.settings, [n.id for n in newsletters if n.sent_at])  # type: ignore[misc]
    return pagekit.render(
        request, "newsletters/list.html", newsletters=newsletters, figures=figures
    )


def _form_page(
    request: Request,
    form: NewsletterForm,
    newsletter: Newsletter | None = None,
    error: str | CampaignError = "",
    status_code: int = 200,
    invalid_from: bool = False,
    focus: int | None = None,
) -> Response:
    """The create/edit form; ``invalid_from`` shows the sender address's error by its field,
    ``focus`` the block the keyboard lands on after an editor button."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        choices = _choices(request, session)
    return pagekit.render(
        request,
        "newsletters/form.html",
        status_code=status_code,
        form=form,
        newsletter=newsletter,
        error=error,
        error_inputs=FORM_INPUTS,
        invalid_from=invalid_from,
        focus=focus,
        default_from=board.settings.mail.from_address,
        default_from_name=board.settings.mail.from_name,
        **choices,
    )


@router.get("/newsletters/new", dependencies=[Depends(pagekit.require_editor)])
def new(request: Request) -> Response:
    return _form_page(request, NewsletterForm())


@router.post("/newsletters/new")
def create(
    request: Request,
    form: NewsletterForm = Depends(_form),
    posted: FormData = Depends(_posted),
) -> Response:
    board = pagekit.dashboard(request)
    settings = board.settings
    edit = _read_editor(request, form, posted)
    if edit.action:
        return _form_page(request, form, error=edit.error, focus=edit.focus)
    try:
        taxonomy = Taxonomy.from_settings(settings)
        blocks = checked_blocks(edit, taxonomy=taxonomy, media_dir=settings.dashboard.media_dir)
        with board.session() as session:
            newsletter = records.create_newsletter(
                session,
                title=form.title,
                subject=form.subject,
                template=form.template,
                list_names=form.lists,
                taxonomy=Taxonomy.from_settings(settings),
                preheader=form.preheader,
                from_name=form.from_name,
                from_address=form.from_address,
                segment=form.segment(),
                event_rule=form.rule(),
                content={k: v for k, v in form.content().items() if v},
                blocks=blocks,
                when_no_events=form.when_no_events,
                no_events_text=form.no_events_text,
                actor=f"web:{request.state.user.email}",
                templates_dir=board.templates_dir,
            )
            newsletter_id = newsletter.id
    except records.InvalidFromAddress:
        return _form_page(request, form, status_code=400, invalid_from=True)
    except CampaignError as exc:
        return _form_page(request, form, error=exc, status_code=400)
    return pagekit.see_other(request, f"/newsletters/{newsletter_id}", "newsletter-created")


@router.get("/newsletters/live", response_class=HTMLResponse)
def live(request: Request) -> Response:
    """The live counts beside the form: matching events and audience, as an HTML fragment."""
    board = pagekit.dashboard(request)
    settings = board.settings
    params = request.query_params
    form = NewsletterForm(
        lists=params.getlist("lists"),
        segment_regions=params.getlist("segment_regions"),
        segment_other=params.get("segment_other", ""),
        events_from=params.get("events_from", ""),
        events_to=params.get("events_to", ""),
        events_regions=params.getlist("events_regions"),
        events_themes=params.getlist("events_themes"),
        events_types=params.getlist("events_types"),
        events_max=params.get("events_max", ""),
        events_order=params.get("events_order", "date") or "date",
        when_no_events=params.get("when_no_events", "national") or "national",
    )
    taxonomy = Taxonomy.from_settings(settings)
    context: dict[str, Any] = {
        "error": "",
        "events": None,
        "audience": None,
        "coverage": None,
    }
    try:
        with board.session() as session:
            draft = Newsletter(
                title="",
                subject="",
                template="",
                event_rule=form.rule().to_json(taxonomy),
                when_no_events=(
                    form.when_no_events
                    if form.when_no_events in records.WHEN_NO_EVENTS
                    else WhenNoEvents.national
                ),
            )
            # The lists and segment first: a name that is no list ends here, before events are
            # loaded (the rollback would leave them unreadable for the page).
            lists = _lists_by_name(session, form.lists) if form.lists else []
            segment = records.normalise_segment(form.segment(), taxonomy) if lists else {}
            per_region = records.SUBSCRIBER_REGION in draft.event_rule["regions"]
            query = event_query(draft, settings)
            limit, query.limit = query.limit, None
            matching = find_events(session, query)
            by_region: dict[str, int] = {}
            for event in matching:
                by_region[event.region] = by_region.get(event.region, 0) + 1
            context["events"] = {
                "total": len(matching),
                "limit": limit,
                "per_region": per_region,
                "by_region": sorted(by_region.items()),
                "first": matching[:5],
            }
            if lists:
                draft.list_ids = [row.id for row in lists]
                draft.segment = segment
                found = coverage(session, draft, settings, taxonomy=taxonomy)
                context["coverage"] = found
                context["audience"] = sum(group.readers for group in found.groups)
                if not found.groups:  # a rule without events: nothing was counted
                    context["audience"] = records.count_audience(session, draft)
            else:
                context["coverage"] = coverage(session, draft, settings, taxonomy=taxonomy)
    except CampaignError as exc:
        context.update(error=exc, events=None, audience=None)
    return pagekit.render(request, "newsletters/_live.html", **context)


def _lists_by_name(session: Session, names: list[str]) -> list[Any]:
    from campaign.audience.lists import require_list

    return [require_list(session, name) for name in names]


@router.get("/newsletters/{newsletter_id}")
def show(request: Request, newsletter_id: pagekit.Id) -> Response:
    return _show(request, newsletter_id)


def _show(
    request: Request, newsletter_id: int, error: str | CampaignError = "", status_code: int = 200
) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        newsletter = _get(session, newsletter_id)
        data = records.newsletter_json(session, newsletter, board.settings)
        audience = (
            records.count_audience(session, newsletter)
            if allowed.may(newsletter, allowed.EDIT) is None
            else None
        )
        figures = _figures(session, board.settings, [newsletter_id]).get(newsletter_id)
        counts = queue.counts(session, newsletter_id)
        restorable = allowed.may(newsletter, allowed.RESTORE) is None and queue.sent_nothing(
            session, newsletter_id
        )
    return pagekit.render(
        request,
        "newsletters/show.html",
        status_code=status_code,
        newsletter=newsletter,
        data=data,
        audience=audience,
        figures=figures,
        counts=counts,
        editable=allowed.may(newsletter, allowed.EDIT) is None,
        schedule_value=pagekit.input_value(newsletter.scheduled_at, board.settings),
        schedulable=allowed.may(newsletter, allowed.MOVE) is None,
        sendable=allowed.may(newsletter, allowed.SEND) is None,
        cancellable=allowed.may(newsletter, allowed.CANCEL) is None,
        pausable=allowed.may(newsletter, allowed.PAUSE) is None,
        resumable=allowed.may(newsletter, allowed.RESUME) is None,
        restorable=restorable,
        labels=board.labels,
        poll_interval=board.settings.scheduler.poll_interval,
        error=error,
        statuses=NewsletterStatus,
    )


@router.get("/newsletters/{newsletter_id}/edit", dependencies=[Depends(pagekit.require_editor)])
def edit_form(request: Request, newsletter_id: pagekit.Id) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        newsletter = _get(session, newsletter_id)
        form = NewsletterForm.from_newsletter(session, newsletter)
    return _form_page(request, form, newsletter)


@router.post("/newsletters/{newsletter_id}/edit")
def edit(
    request: Request,
    newsletter_id: pagekit.Id,
    form: NewsletterForm = Depends(_form),
    posted: FormData = Depends(_posted),
) -> Response:
    board = pagekit.dashboard(request)
    settings = board.settings
    with board.session() as session:
        newsletter = _get(session, newsletter_id)
    edit_ = _read_editor(request, form, posted)
    if edit_.action:
        return _form_page(request, form, newsletter, error=edit_.error, focus=edit_.focus)
    try:
        rule = form.rule()
        content = form.content()
        if form.template != newsletter.template:  # the old template's texts go with it
            for key in newsletter.content or {}:
                content.setdefault(key, "")
        blocks = checked_blocks(
            edit_,
            taxonomy=Taxonomy.from_settings(settings),
            media_dir=settings.dashboard.media_dir,
        )
        with board.session() as session:
            records.edit_newsletter(
                session,
                newsletter_id,
                taxonomy=Taxonomy.from_settings(settings),
                templates_dir=board.templates_dir,
                title=form.title,
                subject=form.subject,
                template=form.template,
                list_names=form.lists,
                preheader=form.preheader,
                from_name=form.from_name,
                from_address=form.from_address,
                segment=form.segment(),
                event_changes={
                    "date_from": rule.date_from,
                    "date_to": rule.date_to,
                    "regions": rule.regions,
                    "themes": rule.themes,
                    "types": rule.types,
                    "limit": rule.limit,
                    "order": rule.order,
                },
                content=content,
                blocks=blocks,
                when_no_events=form.when_no_events,
                no_events_text=form.no_events_text,
            )
    except records.InvalidFromAddress:
        return _form_page(request, form, newsletter, status_code=400, invalid_from=True)
    except CampaignError as exc:
        return _form_page(request, form, newsletter, error=exc, status_code=400)
    return pagekit.see_other(request, f"/newsletters/{newsletter_id}", "newsletter-saved")


@router.post("/newsletters/draft-preview", response_class=HTMLResponse)
def draft_preview(
    request: Request,
    form: NewsletterForm = Depends(_form),
    posted: FormData = Depends(_posted),
) -> Response:
    """The form as it stands, rendered for a sample reader, for the preview beside the block
    editor (nothing saved; sandboxed like the preview page's frame)."""
    board = pagekit.dashboard(request)
    settings = board.settings
    edit = _read_editor(request, form, posted)
    headers = {"content-security-policy": PREVIEW_CSP}
    try:
        taxonomy = Taxonomy.from_settings(settings)
        blocks = checked_blocks(edit, taxonomy=taxonomy, media_dir=settings.dashboard.media_dir)
        template = records.check_template(form.template, board.templates_dir)
        manifest = load_manifest(newsletter_folder(board.templates_dir), template)
        content = manifest.check({k: v for k, v in form.content().items() if v})
        draft = Newsletter(
            title=form.title.strip() or pagekit.say(request, N_("(untitled)")),
            subject=form.subject.strip() or pagekit.say(request, N_("(no subject)")),
            preheader=form.preheader.strip(),
            from_name=form.from_name.strip(),
            template=template,
            event_rule=form.rule().to_json(taxonomy),
            content=content,
            blocks=blocks,
            when_no_events=(
                form.when_no_events
                if form.when_no_events in records.WHEN_NO_EVENTS
                else WhenNoEvents.national
            ),
            no_events_text=form.no_events_text,
        )
        with board.session() as session:
            selection = group_events(session, draft, settings)
            context = newsletter_context(
                draft,
                settings,
                selection.events,
                fallback=selection.fallback,
                blocks=block_events(session, draft, settings),
            )
        compiled = render_group(template, context, settings, templates_dir=board.templates_dir)
        sample = Recipient(email="camille@example.org", first_name="Camille")
        html = compiled.personalise(sample).html
    except CampaignError as exc:
        worded = pagekit.FormErrors.of(exc, settings)
        problem = " ".join(sentence for _input, sentence in worded.summary)
        page = board.env.get_template("newsletters/_draft_problem.html").render(problem=problem)
        return HTMLResponse(page, headers=headers)
    return HTMLResponse(html, headers=headers)


@router.post("/newsletters/{newsletter_id}/duplicate")
def duplicate(request: Request, newsletter_id: pagekit.Id) -> Response:
    """A new draft with everything of this newsletter but its time and results."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        _get(session, newsletter_id)
        copy = records.duplicate_newsletter(
            session, newsletter_id, actor=f"web:{request.state.user.email}"
        )
        copy_id = copy.id
    return pagekit.see_other(request, f"/newsletters/{copy_id}", "newsletter-duplicated")


# --- preview and test ----------------------------------------------------------------------------


@router.get("/newsletters/{newsletter_id}/preview")
def preview_page(
    request: Request,
    newsletter_id: pagekit.Id,
    as_email: str = "",
    width: str = "desktop",
    part: str = "html",
) -> Response:
    pagekit.check_choice(width, ("desktop", "mobile"), "width")
    pagekit.check_choice(part, ("html", "text"), "part")
    return _preview(request, newsletter_id, as_email, width, part)


def _preview(
    request: Request,
    newsletter_id: int,
    as_email: str = "",
    width: str = "desktop",
    part: str = "html",
    sent: list[Any] | None = None,
    error: str | CampaignError = "",
    status_code: int = 200,
    to: str | None = None,
    invalid_to: list[str] | None = None,
) -> Response:
    """The preview page; after a test send, ``sent`` (each address's result, shown at the top),
    ``to`` (the addresses as typed) and ``invalid_to`` (those refused, shown by the field)."""
    board = pagekit.dashboard(request)
    result = None
    problem = ""
    with board.session() as session:
        newsletter = _get(session, newsletter_id)
        sample = queries.audience_sample(session, newsletter)
        try:
            result = preview(
                session,
                newsletter,
                board.settings,
                as_email.strip() or None,
                templates_dir=board.templates_dir,
            )
        except CampaignError as exc:
            problem = " ".join(
                sentence for _, sentence in pagekit.FormErrors.of(exc, board.settings).summary
            )
    return pagekit.render(
        request,
        "newsletters/preview.html",
        status_code=status_code,
        newsletter=newsletter,
        result=result,
        problem=problem,
        as_email=as_email.strip() or (result.subscriber.email if result else ""),
        sample=sample,
        width="mobile" if width == "mobile" else "desktop",
        part="text" if part == "text" else "html",
        sent=sent or [],
        error=error,
        to=to,
        invalid_to=invalid_to or [],
    )


@router.get("/newsletters/{newsletter_id}/preview.html", response_class=HTMLResponse)
def preview_html(request: Request, newsletter_id: pagekit.Id, as_email: str = "") -> Response:
    """The HTML one subscriber would receive, for the preview's iframe (sandboxed, no script)."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        newsletter = _get(session, newsletter_id)
        try:
            result = preview(
                session,
                newsletter,
                board.settings,
                as_email.strip() or None,
                templates_dir=board.templates_dir,
            )
        except CampaignError:
            impossible = pagekit.say(request, N_("No preview possible: see the checks."))
            return HTMLResponse(
                f"<p>{escape(impossible)}</p>",
                headers={"content-security-policy": PREVIEW_CSP},
            )
    return HTMLResponse(result.message.html, headers={"content-security-policy": PREVIEW_CSP})


@router.post("/newsletters/{newsletter_id}/test")
def send_test(
    request: Request, newsletter_id: pagekit.Id, to: str = Form(""), as_email: str = Form("")
) -> Response:
    board = pagekit.dashboard(request)
    settings = board.settings
    addresses = [item.strip() for item in to.replace(";", ",").split(",") if item.strip()]
    invalid = [address for address in addresses if not _mailable(address)]
    if invalid or not addresses:
        return _preview(
            request, newsletter_id, as_email, status_code=400, to=to, invalid_to=invalid or [""]
        )
    try:
        with board.session() as session:
            newsletter = _get(session, newsletter_id)
            result = preview(
                session,
                newsletter,
                settings,
                as_email.strip() or None,
                templates_dir=board.templates_dir,
            )
            messages = addressed_to(result, newsletter, settings, addresses)
        transport = open_transport(settings)
        try:
            sent = transport.send(messages)
        finally:
            transport.close()
    except CampaignError as exc:
        return _preview(request, newsletter_id, as_email, error=exc, status_code=400, to=to)
    return _preview(request, newsletter_id, as_email, sent=sent, to=to)


def _mailable(address: str) -> bool:
    """Whether a test address is one a message can be sent to (``moi@cncress``, without a
    dot in its domain, is not)."""
    try:
        normalise_email(address)
    except InvalidEmail:
        return False
    return True


# --- status changes ------------------------------------------------------------------------------


@router.post("/newsletters/{newsletter_id}/schedule")
def schedule(request: Request, newsletter_id: pagekit.Id, at: str = Form(...)) -> Response:
    board = pagekit.dashboard(request)
    try:
        when = pagekit.parse_local(at, board.settings, "at")
        with board.session() as session:
            newsletter = _get(session, newsletter_id)
            check_real_send(
                session, board.settings, newsletter.from_address, f"Newsletter {newsletter_id}"
            )
            records.schedule_newsletter(session, newsletter_id, when)
    except SenderRefused as exc:
        error = refusal_text(request, exc)
        return _show(request, newsletter_id, error=error, status_code=400)
    except CampaignError as exc:
        return _show(request, newsletter_id, error=exc, status_code=400)
    return pagekit.see_other(request, f"/newsletters/{newsletter_id}", "newsletter-scheduled")


def _status_change(request: Request, newsletter_id: int, change: Any, done: str) -> Response:
    board = pagekit.dashboard(request)
    try:
        with board.session() as session:
            _get(session, newsletter_id)
            change(session, newsletter_id)
    except CampaignError as exc:
        return _show(request, newsletter_id, error=exc, status_code=400)
    return pagekit.see_other(request, f"/newsletters/{newsletter_id}", done)


@router.post("/newsletters/{newsletter_id}/pause")
def pause(request: Request, newsletter_id: pagekit.Id) -> Response:
    return _status_change(request, newsletter_id, queue.pause, "newsletter-paused")


@router.post("/newsletters/{newsletter_id}/resume")
def resume(request: Request, newsletter_id: pagekit.Id) -> Response:
    return _status_change(request, newsletter_id, queue.resume, "newsletter-resumed")


def _situation(session: Session, newsletter: Newsletter) -> dict[str, Any]:
    """What a confirmation page says of a newsletter: who it goes to, what already left."""
    assert newsletter.id is not None
    counts = queue.counts(session, newsletter.id)
    queued = sum(counts.values())
    unsent = sum(counts.get(status, 0) for status in UNSENT_ROWS)
    return {
        "newsletter": newsletter,
        "lists": records.list_names(session, newsletter),
        # Before sending, the audience as it stands; once sending, the rows fixed then.
        "audience": queued if queued else records.count_audience(session, newsletter),
        "queued": queued,
        "left": counts.get(DeliveryStatus.sent, 0) + counts.get(DeliveryStatus.bounced, 0),
        "waiting": unsent,
    }


@router.post("/newsletters/{newsletter_id}/cancel")
def cancel(request: Request, newsletter_id: pagekit.Id, confirm: str = Form("")) -> Response:
    """Nothing more of it will be sent: asked first, naming who would have received it."""
    if pagekit.confirmed(confirm):
        return _status_change(request, newsletter_id, queue.cancel, "newsletter-cancelled")
    board = pagekit.dashboard(request)
    with board.session() as session:
        newsletter = _get(session, newsletter_id)
        refusal = allowed.may(newsletter, allowed.CANCEL)
        if refusal is not None:
            return _show(request, newsletter_id, CampaignError(refusal), 400)
        context = _situation(session, newsletter)
    return pagekit.confirm_page(
        request,
        pagekit.Confirmation(
            action=f"/newsletters/{newsletter_id}/cancel",
            back=f"/newsletters/{newsletter_id}",
            template="newsletters/confirm_cancel.html",
            context=context,
        ),
    )


@router.post("/newsletters/{newsletter_id}/send-now")
def send_now(request: Request, newsletter_id: pagekit.Id, confirm: str = Form("")) -> Response:
    """Send it at once, through the scheduler like any scheduled newsletter: asked first,
    naming how many people it goes to; the checks a send makes are made before asking."""
    board = pagekit.dashboard(request)
    settings = board.settings
    try:
        with board.session() as session:
            newsletter = _get(session, newsletter_id)
            allowed.check(newsletter, allowed.SEND)
            queue.check_sender(newsletter, settings)
            check_public_url(settings, f"Newsletter {newsletter_id}")
            if pagekit.confirmed(confirm):
                records.send_now(session, newsletter_id)
                context = {}
            else:
                context = _situation(session, newsletter)
    except CampaignError as exc:
        return _show(request, newsletter_id, error=exc, status_code=400)
    if pagekit.confirmed(confirm):
        return pagekit.see_other(request, f"/newsletters/{newsletter_id}", "newsletter-sending-now")
    return pagekit.confirm_page(
        request,
        pagekit.Confirmation(
            action=f"/newsletters/{newsletter_id}/send-now",
            back=f"/newsletters/{newsletter_id}",
            template="newsletters/confirm_send_now.html",
            danger=False,
            context={**context, "poll_interval": settings.scheduler.poll_interval},
        ),
    )


@router.post("/newsletters/{newsletter_id}/draft")
def back_to_draft(request: Request, newsletter_id: pagekit.Id) -> Response:
    """A cancelled newsletter that sent nothing is a draft again (nothing is lost: asked
    without a confirmation step, it can be cancelled again)."""
    return _status_change(request, newsletter_id, queue.back_to_draft, "newsletter-draft-again")
