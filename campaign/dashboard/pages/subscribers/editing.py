"""Adding a person (with their consent's origin) and correcting one."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from campaign.audience import people
from campaign.audience import subscribers as audience
from campaign.dashboard import pagekit, queries
from campaign.dashboard.pages.subscribers.shared import (
    ADMIN,
    METHOD,
    list_memberships,
    person_or_404,
)
from campaign.errors import CampaignError
from campaign.models import Subscriber
from campaign.taxonomy import Taxonomy

router = APIRouter()


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
        region = people.person_region(taxonomy, self.region, self.postcode)
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
            left = [m["list"] for m in list_memberships(session, subscriber) if m["left"]]
            lists = [name for name in lists if name not in joined and name not in left]
    return pagekit.render(
        request,
        "subscribers/form.html",
        status_code=status_code,
        error_inputs={"lists": ""},  # the lists' boxes: the refusal is about the whole form
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
            old = person_or_404(session, depuis)
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
        with board.session() as session:
            subscriber = people.add_person(
                session,
                form.email,
                consent_source=form.consent_source,
                list_names=form.lists,
                profile=form.profile(taxonomy),
                actor=f"web:{request.state.user.email}",
                method=METHOD,
            )
            person_id = subscriber.id
    except CampaignError as exc:
        return _form_page(request, form, error=_linked(request, exc), status_code=400)
    return pagekit.see_other(request, f"/subscribers/{person_id}", "person-added")


def _linked(request: Request, error: CampaignError) -> CampaignError:
    """The link to the record of an address already known (the stage gives its id)."""
    base = pagekit.base_path(request)
    error.messages = [
        replace(item, values={**item.values, "page": f"{base}/subscribers/{item.values['id']}"})
        if item.code == "person.known"
        else item
        for item in error.messages
    ]
    return error


@router.get("/subscribers/{subscriber_id}/edit", dependencies=ADMIN)
def edit_form(request: Request, subscriber_id: pagekit.Id) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        subscriber = person_or_404(session, subscriber_id)
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
        subscriber = person_or_404(session, subscriber_id)
    form.email = subscriber.email or ""  # never changed here: a new address is a new person
    try:
        with board.session() as session:
            person = person_or_404(session, subscriber_id)
            audience.update_profile(
                session, person, form.profile(taxonomy), actor=actor, method=METHOD
            )
            people.join_lists(session, person, form.lists, method=METHOD, actor=actor)
    except CampaignError as exc:
        return _form_page(request, form, subscriber=subscriber, error=exc, status_code=400)
    return pagekit.see_other(request, f"/subscribers/{subscriber_id}", "person-saved")
