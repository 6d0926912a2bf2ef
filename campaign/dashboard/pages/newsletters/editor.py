"""Creating, editing and duplicating a newsletter through its form."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from campaign.dashboard import pagekit
from campaign.dashboard.blockform import checked_blocks
from campaign.dashboard.pages.newsletters.form import (
    NewsletterForm,
    form_page,
    posted_form,
    read_editor,
    typed_form,
)
from campaign.dashboard.pages.newsletters.listing import get_or_404
from campaign.errors import CampaignError
from campaign.newsletters import records
from campaign.taxonomy import Taxonomy

router = APIRouter()


@router.get("/newsletters/new", dependencies=[Depends(pagekit.require_editor)])
def new(request: Request) -> Response:
    return form_page(request, NewsletterForm())


@router.post("/newsletters/new")
def create(
    request: Request,
    form: NewsletterForm = Depends(typed_form),
    posted: FormData = Depends(posted_form),
) -> Response:
    board = pagekit.dashboard(request)
    settings = board.settings
    edit = read_editor(request, form, posted)
    if edit.action:
        return form_page(request, form, error=edit.error, focus=edit.focus)
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
        return form_page(request, form, status_code=400, invalid_from=True)
    except CampaignError as exc:
        return form_page(request, form, error=exc, status_code=400)
    return pagekit.see_other(request, f"/newsletters/{newsletter_id}", "newsletter-created")


@router.get("/newsletters/{newsletter_id}/edit", dependencies=[Depends(pagekit.require_editor)])
def edit_form(request: Request, newsletter_id: pagekit.Id) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        newsletter = get_or_404(session, newsletter_id)
        form = NewsletterForm.from_newsletter(session, newsletter)
    return form_page(request, form, newsletter)


@router.post("/newsletters/{newsletter_id}/edit")
def edit(
    request: Request,
    newsletter_id: pagekit.Id,
    form: NewsletterForm = Depends(typed_form),
    posted: FormData = Depends(posted_form),
) -> Response:
    board = pagekit.dashboard(request)
    settings = board.settings
    with board.session() as session:
        newsletter = get_or_404(session, newsletter_id)
    edit_ = read_editor(request, form, posted)
    if edit_.action:
        return form_page(request, form, newsletter, error=edit_.error, focus=edit_.focus)
    try:
        rule = form.rule()
        content = form.content()
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
        return form_page(request, form, newsletter, status_code=400, invalid_from=True)
    except CampaignError as exc:
        return form_page(request, form, newsletter, error=exc, status_code=400)
    return pagekit.see_other(request, f"/newsletters/{newsletter_id}", "newsletter-saved")


@router.post("/newsletters/{newsletter_id}/duplicate")
def duplicate(request: Request, newsletter_id: pagekit.Id) -> Response:
    """A new draft with everything of this newsletter but its time and results."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        get_or_404(session, newsletter_id)
        copy = records.duplicate_newsletter(
            session, newsletter_id, actor=f"web:{request.state.user.email}"
        )
        copy_id = copy.id
    return pagekit.see_other(request, f"/newsletters/{copy_id}", "newsletter-duplicated")
