"""Where a newsletter template went wrong: :class:`RenderError` and the messages it carries.

Jinja says which file and line failed; MRML (the MJML compiler) gives no position at all, so the
first unbalanced MJML tag is looked for here to point at it.
"""

from __future__ import annotations

from html.parser import HTMLParser
from types import TracebackType

import jinja2

from campaign.errors import CampaignError
from campaign.resources import TemplateTree


class RenderError(CampaignError):
    """A template that cannot be rendered: says which file, where, and what is wrong."""

    def __init__(
        self, message: str, *, template: str = "", line: int | None = None, kind: str = ""
    ) -> None:
        super().__init__(message)
        self.template = template
        self.line = line
        self.kind = kind  # "jinja", "undefined", "mjml", "not-found"


def template_error(exc: jinja2.TemplateError, folder: TemplateTree, name: str) -> RenderError:
    """The RenderError for a group-pass template ``name`` of ``folder`` that Jinja refused."""
    if isinstance(exc, jinja2.TemplateNotFound):
        return RenderError(
            f"{exc.name}: template not found (looked in {folder}).",
            template=str(exc.name),
            kind="not-found",
        )
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.filename or exc.name or name
        return RenderError(
            f"{where}, line {exc.lineno}: template syntax error: {exc.message}",
            template=exc.name or name,
            line=exc.lineno,
            kind="jinja",
        )
    where, line = _template_frame(exc.__traceback__, folder, name)
    if isinstance(exc, jinja2.UndefinedError):
        hint = ""
        if "'recipient' is undefined" in str(exc):
            hint = " (per-recipient values are written [[ recipient.… ]], not {{ recipient.… }})"
        return RenderError(
            f"{where}, line {line}: {exc.message}{hint}",
            template=where,
            line=line,
            kind="undefined",
        )
    return RenderError(f"{where}, line {line}: {exc}", template=where, line=line, kind="jinja")


def _template_frame(
    traceback: TracebackType | None, folder: TemplateTree, default: str
) -> tuple[str, int | None]:
    """The innermost template file and line of a Jinja runtime error's traceback."""
    where, line = default, None
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if folder.owns(filename) or filename == "<template>":
            where, line = filename, traceback.tb_lineno
        traceback = traceback.tb_next
    return where, line


# --- MJML error positions -----------------------------------------------------------------------


class _MjmlBalance(HTMLParser):
    """Finds the first unbalanced MJML tag: MRML's own messages carry no position."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, tuple[int, int]]] = []
        self.problem: tuple[str, tuple[int, int]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.startswith("mj") and self.problem is None:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # self-closed: balanced by construction

    def handle_endtag(self, tag: str) -> None:
        if not tag.startswith("mj") or self.problem is not None:
            return
        if not self.stack:
            self.problem = (f"closing </{tag}> without an opening tag", self.getpos())
            return
        opened, position = self.stack[-1]
        if opened != tag:
            self.problem = (
                f"</{tag}> closes <{opened}> opened at line {position[0]}, "
                f"column {position[1] + 1}",
                self.getpos(),
            )
            return
        self.stack.pop()


def locate_mjml_problem(source: str) -> tuple[str, int, int, str] | None:
    """The first unbalanced MJML tag as (what, line, column, text of the line), or None."""
    checker = _MjmlBalance()
    try:
        checker.feed(source)
        checker.close()
    except Exception:  # the locator is best effort; MRML's own verdict still stands
        return None
    problem = checker.problem
    if problem is None and checker.stack:
        tag, position = checker.stack[-1]
        problem = (f"<{tag}> is never closed", position)
    if problem is None:
        return None
    what, (line, column) = problem
    lines = source.splitlines()
    near = lines[line - 1].strip()[:120] if line <= len(lines) else ""
    return what, line, column + 1, near


def mjml_error(source: str, mrml_message: str, template: str) -> RenderError:
    """A RenderError for MJML that MRML refused, with the position when it can be found."""
    problem = locate_mjml_problem(source)
    if problem is None:
        return RenderError(
            f"{template}: invalid MJML after the Jinja pass: {mrml_message}",
            template=template,
            kind="mjml",
        )
    what, line, column, near = problem
    return RenderError(
        f"{template}: invalid MJML at line {line}, column {column} of the rendered MJML: "
        f"{what} ({mrml_message}). Near: {near!r}",
        template=template,
        line=line,
        kind="mjml",
    )
