"""No module over 500 lines, no function over 80, no block of complexity over 15 (issue #20).

Small pieces are what a reviewer can hold in mind and a test can cover; these limits say when
one has grown past that. The code written before them holds offenders: each is listed below
with its figure today, and the lists only shrink. A listed entry fails when it grows past its
figure (split it rather than raise the figure) and when it no longer offends (remove it, so it
cannot grow back unnoticed). Anything new over a limit fails at once.

Measures, for every ``.py`` file under ``campaign/``:

- module length: physical lines, as ``wc -l`` counts them (blank and comment lines included);
- function length: ``end_lineno - lineno + 1`` from :mod:`ast` (decorators excluded), for every
  function and method, nested ones named ``outer.inner``;
- cyclomatic complexity: radon's, for every block it reports (functions, methods, classes),
  as ``radon cc -s campaign`` prints it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "campaign"

MODULE_LIMIT = 500
FUNCTION_LIMIT = 80
COMPLEXITY_LIMIT = 15

# Known offenders, with their figure when the limits came in: shrink only.
MODULE_LINES: dict[str, int] = {
    "campaign/config.py": 917,
    "campaign/dashboard/pages/newsletters.py": 841,
    "campaign/dashboard/pages/posts.py": 708,
    "campaign/dashboard/pages/subscribers.py": 718,
    "campaign/mail/smtp.py": 635,
    "campaign/newsletters/queue.py": 955,
    "campaign/newsletters/records.py": 523,
    "campaign/newsletters/render.py": 763,
    "campaign/scheduling/calendar.py": 1199,
    "campaign/scheduling/sync.py": 544,
    "campaign/social/bluesky.py": 603,
    "campaign/social/posts.py": 645,
    "campaign/social/x.py": 753,
    "campaign/wording/cli.py": 697,  # catalogues of sentences: to split by stage
    "campaign/wording/pages.py": 794,  # (they grow with every message)
}
FUNCTION_LINES: dict[str, int] = {
    "campaign/migrations/versions/0001_foundation.py::upgrade": 103,
    "campaign/newsletters/queue.py::_send_batch": 90,
    "campaign/scheduling/calendar.py::_newsletter": 89,
    "campaign/scheduling/calendar.py::read_calendar": 112,
    "campaign/social/planning.py::plan_event_posts": 114,
}
COMPLEXITY: dict[str, int] = {
    "campaign/bounces/reports.py::_read": 30,
    "campaign/cli/schedule.py::sync": 18,
    "campaign/dashboard/blockform.py::read_blocks": 19,
    "campaign/dashboard/pages/newsletters.py::NewsletterForm.from_newsletter": 17,
    "campaign/dashboard/pages/subscribers.py::import_file": 18,
    "campaign/db.py::database_error": 17,
    "campaign/doctor.py::check_dkim": 16,
    "campaign/mail/mime.py::Composer._body": 18,
    "campaign/newsletters/blocks.py::_image": 16,
    "campaign/newsletters/flat.py::_steps": 20,
    "campaign/newsletters/markdown.py::to_text": 21,
    "campaign/newsletters/queue.py::_send_batch": 30,
    "campaign/newsletters/records.py::edit_newsletter": 23,
    "campaign/newsletters/records.py::EventRule": 17,
    "campaign/newsletters/records.py::EventRule.to_json": 16,
    "campaign/scheduling/calendar.py::_newsletter": 25,
    "campaign/scheduling/calendar.py::_event_rule": 20,
    "campaign/scheduling/calendar.py::_post": 17,
    "campaign/scheduling/calendar.py::_recurring": 27,
    "campaign/scheduling/calendar.py::read_calendar": 24,
    "campaign/scheduling/listing.py::planned_items": 23,
    "campaign/scheduling/shift.py::shift_calendar": 17,
    "campaign/scheduling/sync.py::apply_calendars": 23,
    "campaign/scheduling/sync.py::_Sync.event_posts": 20,
    "campaign/social/bluesky.py::BlueskyTransport._find_published": 19,
    "campaign/social/bluesky.py::BlueskyTransport._publish_part": 17,
    "campaign/social/bluesky.py::BlueskyTransport.mentions": 17,
    "campaign/social/metrics.py::_sync_account": 23,
    "campaign/social/planning.py::plan_event_posts": 35,
    "campaign/social/posts.py::create_post": 17,
    "campaign/social/posts.py::edit_post": 22,
    "campaign/social/posts.py::_publish": 20,
    "campaign/taxonomy.py::Taxonomy.from_settings": 22,
    "campaign/tracking/hits.py::HitRecorder._cycle": 23,
    "campaign/users/logins.py::attempt_login": 18,
    "campaign/wording/cli.py::word": 31,
    "campaign/wording/cli.py::_more_values": 16,
    "campaign/wording/pages.py::word": 18,
    "campaign/xlsx.py::_SheetReader.start": 20,
}


def _sources() -> list[tuple[str, str]]:
    """Every module under campaign/ as (path relative to the repository, text)."""
    return [
        (path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def _function_lengths(tree: ast.AST) -> dict[str, int]:
    """Length of every function and method by qualified name (``Class.method``, ``f.inner``)."""
    lengths: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + child.name
                assert child.end_lineno is not None
                lengths[name] = child.end_lineno - child.lineno + 1
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return lengths


def _measures() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Module lines, function lines and block complexity, keyed ``path`` or ``path::name``."""
    modules: dict[str, int] = {}
    functions: dict[str, int] = {}
    complexity: dict[str, int] = {}
    for path, text in _sources():
        modules[path] = len(text.splitlines())
        for name, length in _function_lengths(ast.parse(text, filename=path)).items():
            functions[f"{path}::{name}"] = length
        for block in cc_visit(text):
            complexity[f"{path}::{block.fullname}"] = block.complexity
    return modules, functions, complexity


def _ratchet(
    measured: dict[str, int], allowed: dict[str, int], limit: int, what: str, allowlist: str
) -> list[str]:
    """Every breach of ``limit`` not allowed, and every allowed entry grown or cured."""
    problems = []
    for key, figure in sorted(measured.items()):
        if figure <= limit:
            continue
        if key not in allowed:
            problems.append(
                f"{key}: {what} {figure}, over the limit of {limit}: split it "
                f"(new offenders are not added to {allowlist})"
            )
        elif figure > allowed[key]:
            problems.append(
                f"{key}: {what} {figure}, grew past its recorded {allowed[key]} "
                f"(limit {limit}): split it rather than raise the figure in {allowlist}"
            )
    for key, recorded in sorted(allowed.items()):
        figure = measured.get(key)
        if figure is None:
            problems.append(f"{key}: gone (recorded {what} {recorded}): remove it from {allowlist}")
        elif figure <= limit:
            problems.append(
                f"{key}: {what} {figure}, now within the limit of {limit}: "
                f"remove it from {allowlist}"
            )
    return problems


def test_modules_stay_short() -> None:
    modules, _, _ = _measures()
    problems = _ratchet(modules, MODULE_LINES, MODULE_LIMIT, "lines", "MODULE_LINES")
    assert not problems, "\n".join(problems)


def test_functions_stay_short() -> None:
    _, functions, _ = _measures()
    problems = _ratchet(functions, FUNCTION_LINES, FUNCTION_LIMIT, "lines", "FUNCTION_LINES")
    assert not problems, "\n".join(problems)


def test_blocks_stay_simple() -> None:
    _, _, complexity = _measures()
    problems = _ratchet(
        complexity, COMPLEXITY, COMPLEXITY_LIMIT, "cyclomatic complexity", "COMPLEXITY"
    )
    assert not problems, "\n".join(problems)
