"""What every dashboard page shares: the guard, rendering, forms and local times.

The guard runs before every route but the sign-in page. Without a valid session it sends the
browser to the sign-in page (with ``next``, a local path); on every request that may change
something (any method but GET and HEAD) it checks the session's CSRF token and that the user's
role may change things. Routes reserved to admins add :func:`require_admin`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlsplit

import jinja2
from fastapi import Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import Field
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from campaign import formatting, i18n
from campaign.clock import utcnow
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.messages import Message
from campaign.reports import Labels
from campaign.resources import TemplateTree, template_tree
from campaign.social.networks import NETWORK_NAMES
from campaign.social.posts import problem_of
from campaign.social.tokens import token_message, token_state
from campaign.users import roles
from campaign.users.logins import SLOW_DOWN_SECONDS
from campaign.users.sessions import SignedIn, same_token, signed_in
from campaign.wording import pages as page_words

STATIC = Path(__file__).parent / "static"
COOKIE = "campaign_session"
LOGIN_CSRF_COOKIE = "campaign_login_csrf"
SAFE_METHODS = ("GET", "HEAD")


class NeedsLogin(Exception):
    """No valid session: answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str = "") -> None:
        self.next_path = next_path


class BadQuery(Exception):
    """A value in the address no page of the dashboard makes: answered 400 with a French page."""

    def __init__(self, names: list[str]) -> None:
        self.names = names


# Ids and page numbers: what the database's integers hold (a larger one is a crafted address).
MAX_ID = 2**31 - 1
Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Query(ge=1, le=10_000)]
FormId = Annotated[int, Form(ge=1, le=MAX_ID)]
ListedId = Annotated[int, Field(ge=1, le=MAX_ID)]  # one of a form's list of ids
# Days the dashboard deals with; further ones overflow date arithmetic (and mean nothing here).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
# Characters no form of the dashboard sends (tabs and line breaks may come from a text area).
_CONTROL = {chr(code) for code in range(32) if chr(code) not in "\t\n\r"} | {"\x7f"}


def check_choice(value: str, choices: Iterable[str], name: str) -> str:
    """``value`` if empty or one of ``choices`` (a filter's options), else :class:`BadQuery`."""
    if value and value not in choices:
        raise BadQuery([name])
    return value


def check_query(request: Request) -> None:
    """Every route's first check: no query parameter carries a control character (PostgreSQL
    refuses NUL in text; nothing the pages send has them). Types and ranges are the routes'."""
    bad = [
        name
        for name, value in request.query_params.multi_items()
        if any(char in _CONTROL for char in name + value)
    ]
    if bad:
        raise BadQuery(sorted(set(bad)))


class Refused(Exception):
    """Signed in, but not allowed (role, CSRF): answered 403 with a French page."""

    def __init__(self, reason: str) -> None:
        self.reason = reason  # a key of the 403 template: "csrf", "role", "admin"


@dataclass
class Dashboard:
    settings: Settings
    engine: Engine
    env: jinja2.Environment
    templates_dir: Path | None = None
    slow_down: float = SLOW_DOWN_SECONDS  # see campaign.users.logins

    @property
    def labels(self) -> Labels:
        """The reports' words and number formats in ``[general] language``."""
        folder = template_tree(self.templates_dir, self.settings) / "reports"
        return Labels.load(self.settings.general.language, self.settings.zone, folder)

    @property
    def secure_cookies(self) -> bool:
        return self.settings.web.public_url.startswith("https://")

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as db_session:
            try:
                yield db_session
                db_session.commit()
            except BaseException:
                db_session.rollback()
                raise


def dashboard(request: Request) -> Dashboard:
    return request.app.state.dashboard


def base_path(request: Request) -> str:
    """Where the dashboard is mounted ("/admin"), from the ASGI root path."""
    return request.scope.get("root_path", "").rstrip("/")


def safe_next(value: str | None, base: str) -> str:
    """``value`` if it is a path of this dashboard, else the dashboard's home: no open redirect.

    Refused: absolute URLs, scheme-relative ``//host``, backslashes (``/\\host`` is read as
    ``//host`` by browsers), control characters, dot segments and paths outside the dashboard.
    Each check holds for the value as given and for every percent-decoding of it: browsers
    resolve ``%2e%2e`` as ``..``, and a server or proxy behind may decode once more.
    """
    home = f"{base}/"
    if not value or len(value) > MAX_NEXT:
        return home
    seen = value
    while True:  # each decoding shortens the text, so this ends
        if not _local_path(seen, base):
            return home
        decoded = unquote(seen, errors="replace")
        if decoded == seen:
            return value
        seen = decoded


MAX_NEXT = 2000  # a longer "next" is no page of the dashboard


def _local_path(value: str, base: str) -> bool:
    if any(ord(char) < 32 or ord(char) == 127 or char == "\\" for char in value):
        return False
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return False
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        return False  # "/admin/../x" leaves the dashboard once the browser resolves it
    return not base or value == base or value.startswith((f"{base}/", f"{base}?"))


async def guard(request: Request) -> SignedIn:
    """The signed-in user; refuses changes without the CSRF token or the role to make them."""
    return await _check(request, roles.EDIT)


async def guard_session(request: Request) -> SignedIn:
    """Like :func:`guard`, for what any signed-in user may do (signing out): CSRF only."""
    return await _check(request, roles.READ)


async def _check(request: Request, write_action: str) -> SignedIn:
    board = dashboard(request)
    token = request.cookies.get(COOKIE)

    def lookup() -> SignedIn | None:
        with board.session() as db_session:
            return signed_in(db_session, token)

    user = await run_in_threadpool(lookup)
    if user is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise NeedsLogin(here if request.method in SAFE_METHODS else "")
    request.state.user = user
    if request.method not in SAFE_METHODS:
        form = await request.form()  # its size was checked before it was read (app.py)
        given = request.headers.get("x-csrf-token") or form.get("csrf")
        if not isinstance(given, str) or not same_token(given, user.csrf_token):
            raise Refused("csrf")
        if not roles.may(user.role, write_action):
            raise Refused("role")
    return user


def require_editor(request: Request) -> None:
    """For pages that only lead to a change (the composer, the newsletter form)."""
    if not can_edit(request.state.user):
        raise Refused("role")


def require_admin(request: Request) -> None:
    """For routes only an admin may use (erasing a person's data)."""
    user: SignedIn = request.state.user
    if not roles.may(user.role, roles.ADMINISTER):
        raise Refused("admin")


def can_edit(user: SignedIn | None) -> bool:
    return user is not None and roles.may(user.role, roles.EDIT)


# --- rendering -------------------------------------------------------------------------------


def local(value: datetime | str | None, settings: Settings, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A stored time (or its ISO text, as the JSON descriptions give it) in the configured
    zone; a naive one is UTC, as stored."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return formatting.in_zone(moment, settings.zone).strftime(fmt)


def long_date(value: date | datetime | None, settings: Settings) -> str:
    """« lundi 2 novembre 2026 », « dimanche 1er novembre 2026 » (in the configured zone)."""
    if value is None:
        return ""
    return formatting.long_date(value, settings.zone, locale=settings.general.language)


def moment(value: datetime | None, settings: Settings) -> str:
    """« 10/12/2026 à 10:00 » (in the configured zone, in the pages' language)."""
    if value is None:
        return ""
    return formatting.short_moment(value, settings.zone, locale=settings.general.language)


def event_when(
    event: Any, settings: Settings, *, with_year: bool = True, with_day: bool = True
) -> str:
    """« jeudi 5 novembre 2026, 18h – 20h (heure de La Réunion) », « …, toute la journée »:
    in the event's own zone, named when its clock is not the configured one's."""
    return formatting.event_when(
        event,
        settings.zone,
        locale=settings.general.language,
        with_year=with_year,
        with_day=with_day,
    )


def input_value(value: datetime | None, settings: Settings) -> str:
    """A stored time as a ``datetime-local`` input value in the configured zone."""
    return value.astimezone(settings.zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def parse_local(text: str, settings: Settings, field: str) -> datetime:
    """A ``datetime-local`` value (configured zone) as an aware datetime; ``field`` is the
    input's name, by which the page shows the message."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CampaignError.of("form.not_a_moment", field, text=text) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.zone)


def parse_day(text: str | None) -> date | None:
    """A day typed or sent by a date field; None when empty, not a date or out of range."""
    if not text or not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def query_day(text: str, name: str) -> date | None:
    """A day from the address (``?day=``): None when empty, :class:`BadQuery` when not one."""
    day = parse_day(text)
    if day is None and text.strip():
        raise BadQuery([name])
    return day


@dataclass
class FormErrors:
    """Why a form was refused, worded for the page: each sentence by the input it concerns
    (``by_input``, shown next to it) and all of them in order (``summary``, at the top of the
    form, each linking to its input; ``""`` for one about the whole form)."""

    by_input: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def of(
        cls, error: CampaignError, settings: Settings, inputs: Mapping[str, str] | None = None
    ) -> FormErrors:
        """``error``'s messages in ``[general] language``. A message's field (``events.to``)
        is the input of the same name with ``_`` for ``.`` (``events_to``) unless ``inputs``
        says otherwise; an error that is still a plain sentence is shown as it is."""
        found = cls()
        language, zone = settings.general.language, settings.zone
        if not error.messages:
            found.summary.append(("", str(error)))
        for item in error.messages:
            sentence = page_words.word(item, language, zone)
            target = (inputs or {}).get(item.field, item.field.replace(".", "_"))
            found.summary.append((target, sentence))
            if target:
                found.by_input.setdefault(target, []).append(sentence)
        return found

    def __bool__(self) -> bool:
        return bool(self.summary)


def make_environment(templates: TemplateTree, language: str = "fr") -> jinja2.Environment:
    """The pages' templates (``web/admin/``); ``reports/…`` are the reports stage's own (its chart
    macro).

    Jinja's i18n extension gives them ``_()``, ``ngettext()`` and ``{% trans %}`` over the
    catalogue of ``language`` ([general] language)."""
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader((templates / "web" / "admin").search_path()),
                jinja2.PrefixLoader(
                    {"reports": jinja2.FileSystemLoader((templates / "reports").search_path())}
                ),
            ]
        ),
        autoescape=True,  # every page escapes what users, imports and events put in it
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(language), newstyle=True
    )
    environment.globals["page_language"] = i18n.base_language(language)  # <html lang>
    environment.globals["quote"] = quote
    environment.globals["number"] = formatting.format_number  # macros imported without context
    # Which known refusal of X a post's stored error tells; _macros.html words it in French.
    environment.globals["x_problem"] = problem_of
    return environment


def say(request: Request, sentence: str, **values: Any) -> str:
    """``sentence`` (English, marked ``N_`` where it is written) in the pages' language, its
    ``{names}`` replaced by ``values``: the sentences a route words itself (a confirmation's
    lines, a refusal of a list's name)."""
    language = dashboard(request).settings.general.language
    return i18n.gettext_in(language, sentence).format(**values)


def token_warnings(settings: Settings) -> list[tuple[str, Message]]:
    """``(state, message)`` of each account whose access token ends within 7 days or has
    ended (LinkedIn's ``token_expires``), for the banner of every page."""
    today = utcnow().date()
    found = []
    for _name, account in sorted(settings.social.accounts.items()):
        state = token_state(account.token_expires, today)
        said = token_message(account.handle, NETWORK_NAMES[account.network], state)
        if said is not None:
            found.append((state.state, said))
    return found


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    error_inputs: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` with the common context. An ``error`` given as a :class:`CampaignError` is
    worded for the page (:class:`FormErrors`; ``error_inputs``: the inputs of fields whose
    name differs from the domain's)."""
    board = dashboard(request)
    settings = board.settings
    if isinstance(context.get("error"), CampaignError):
        context["error"] = FormErrors.of(context["error"], settings, error_inputs)
    base = base_path(request)
    user: SignedIn | None = getattr(request.state, "user", None)
    page = board.env.get_template(template).render(
        request=request,
        base=base,
        user=user,
        can_edit=can_edit(user),
        is_admin=user is not None and roles.may(user.role, roles.ADMINISTER),
        csrf=user.csrf_token if user else "",
        local=lambda value, fmt="%d/%m/%Y %H:%M": local(value, settings, fmt),
        long_date=lambda value: long_date(value, settings),
        moment=lambda value: moment(value, settings),
        event_when=lambda event, **options: event_when(event, settings, **options),
        done=request.query_params.get("fait", ""),
        word=lambda item: page_words.word_any(item, settings.general.language, settings.zone),
        label=lambda kind, value: page_words.label(kind, value, settings.general.language),
        token_warnings=token_warnings(settings),
        **context,
    )
    return HTMLResponse(page, status_code=status_code)


@dataclass
class Confirmation:
    """The step before what cannot be undone from the page itself: says what will happen and
    to whom, and posts the same form again with ``confirm=oui`` (no JavaScript involved).

    ``template``: a page of its own extending ``confirm.html`` that words the action (its
    ``context`` gives it the figures); without one, ``title``, ``lines`` and ``button`` are
    shown as given. ``fields``: the form's values, carried as hidden fields. ``checks``: boxes
    that must be ticked, ``(name, label)``, each posted as ``name=oui``.
    """

    action: str  # a dashboard path
    back: str  # a dashboard path
    title: str = ""
    lines: list[str] = field(default_factory=list)
    button: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    checks: list[tuple[str, str]] = field(default_factory=list)
    danger: bool = True
    template: str = "confirm.html"
    context: dict[str, Any] = field(default_factory=dict)


CONFIRMED = "oui"  # the value of ``confirm`` the confirmation step posts


def confirmed(value: str) -> bool:
    """Whether a form came from its confirmation step (``confirm=oui``): without it, a route
    that cannot be undone only shows that step, whatever else the form says."""
    return value == CONFIRMED


def confirm_page(
    request: Request, confirmation: Confirmation, status_code: int = 200
) -> HTMLResponse:
    return render(
        request,
        confirmation.template,
        status_code=status_code,
        confirmation={
            name: getattr(confirmation, name)
            for name in ("action", "back", "title", "lines", "button", "fields", "checks", "danger")
        },
        **confirmation.context,
    )


def see_other(request: Request, path: str, done: str = "") -> RedirectResponse:
    """Back to a dashboard page after a change (POST/redirect/GET), with what was done."""
    url = f"{base_path(request)}{path}"
    if done:
        url += ("&" if "?" in url else "?") + f"fait={quote(done)}"
    return RedirectResponse(url, status_code=303)
