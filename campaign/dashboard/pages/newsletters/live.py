"""Beside the form, as it is typed: the live counts (events and audience) and the preview of
the draft, nothing saved."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from campaign.dashboard import pagekit
from campaign.dashboard.blockform import checked_blocks
from campaign.dashboard.pages.newsletters.form import (
    NewsletterForm,
    posted_form,
    read_editor,
    typed_form,
)
from campaign.dashboard.pages.newsletters.preview import PREVIEW_CSP
from campaign.errors import CampaignError
from campaign.events.catalogue import find_events
from campaign.i18n import N_
from campaign.models import Newsletter
from campaign.newsletters import records
from campaign.newsletters.coverage import audience_size, coverage
from campaign.newsletters.manifest import load_manifest
from campaign.newsletters.preview import block_events, event_query, group_events, newsletter_context
from campaign.newsletters.render import Recipient, newsletter_folder, render_group
from campaign.taxonomy import Taxonomy

router = APIRouter()


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
                when_no_events=records.draft_no_events_choice(form.when_no_events),
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
                context["audience"] = audience_size(session, draft, found)
            else:
                context["coverage"] = coverage(session, draft, settings, taxonomy=taxonomy)
    except CampaignError as exc:
        context.update(error=exc, events=None, audience=None)
    return pagekit.render(request, "newsletters/_live.html", **context)


def _lists_by_name(session: Session, names: list[str]) -> list[Any]:
    from campaign.audience.lists import require_list

    return [require_list(session, name) for name in names]


@router.post("/newsletters/draft-preview", response_class=HTMLResponse)
def draft_preview(
    request: Request,
    form: NewsletterForm = Depends(typed_form),
    posted: FormData = Depends(posted_form),
) -> Response:
    """The form as it stands, rendered for a sample reader, for the preview beside the block
    editor (nothing saved; sandboxed like the preview page's frame)."""
    board = pagekit.dashboard(request)
    settings = board.settings
    edit = read_editor(request, form, posted)
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
            when_no_events=records.draft_no_events_choice(form.when_no_events),
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
