"""The newsletter form: what it holds as typed, read from the post (the block editor and
every template's fields with it), and the page that shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Form, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from campaign.dashboard import pagekit, queries
from campaign.dashboard.blockform import (
    BlockEdit,
    block_labels,
    read_blocks,
    read_fields,
    shown_value,
    stored_to_form,
)
from campaign.errors import CampaignError
from campaign.models import Newsletter
from campaign.newsletters import records
from campaign.newsletters.blocks import BLOCK_TYPES
from campaign.newsletters.manifest import TemplateManifest, load_manifest
from campaign.newsletters.render import newsletter_folder
from campaign.taxonomy import Taxonomy

ORDERS = ("date", "registered", "title")
# The form's inputs for the domain fields whose names differ (the others: "events.to" is
# "events_to"); the page shows each message next to its input.
FORM_INPUTS = {
    "segment": "segment_other",
    "segment.region": "segment_regions",
}


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
            **_segment_inputs(newsletter.segment or {}),
            **_rule_inputs(newsletter.event_rule or {}),
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


def _segment_inputs(stored: dict[str, list[str]]) -> dict[str, Any]:
    """A stored segment as the form's inputs: the regions ticked, the other pairs a line each."""
    segment = dict(stored)
    regions = list(segment.pop("region", []))
    other = "\n".join(f"{key}={value}" for key, values in segment.items() for value in values)
    return {"segment_regions": regions, "segment_other": other}


def _rule_inputs(rule: dict[str, Any]) -> dict[str, Any]:
    """A stored event rule as the form's ``events_…`` inputs."""
    return {
        "events_from": rule.get("from") or "",
        "events_to": rule.get("to") or "",
        "events_regions": list(rule.get("regions") or []),
        "events_themes": list(rule.get("themes") or []),
        "events_types": list(rule.get("types") or []),
        "events_max": str(rule.get("max") or ""),
        "events_order": rule.get("order") or "date",
    }


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _positive(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise CampaignError.of("newsletter.events_max_too_small", "events.max")
    return int(text)


def typed_form(
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


async def posted_form(request: Request) -> FormData:
    """The whole form as posted (read once already by the CSRF check: cached)."""
    return await request.form()


def manifests(templates_dir: Any) -> list[TemplateManifest]:
    folder = newsletter_folder(templates_dir)
    return [load_manifest(folder, name) for name in queries.template_names(templates_dir)]


def read_editor(request: Request, form: NewsletterForm, posted: FormData) -> BlockEdit:
    """The blocks and every template's fields as posted, into ``form``."""
    board = pagekit.dashboard(request)
    edit = read_blocks(posted, board.settings.dashboard.media_dir)
    form.blocks = edit.blocks
    form.fields = {
        manifest.folder: read_fields(posted, manifest)
        for manifest in manifests(board.templates_dir)
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
        "manifests": manifests(board.templates_dir),
        "block_types": BLOCK_TYPES,
        "block_labels": block_labels(board.settings.general.language),
    }


def form_page(
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
