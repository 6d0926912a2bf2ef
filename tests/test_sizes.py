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
from functools import cache
from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "campaign"

MODULE_LIMIT = 500
FUNCTION_LIMIT = 80
COMPLEXITY_LIMIT = 15

# Known offenders, with their figure when the limits came in: shrink only (none left: issue #20
# emptied them; keep them empty).
MODULE_LINES: dict[str, int] = {}
FUNCTION_LINES: dict[str, int] = {}
COMPLEXITY: dict[str, int] = {}


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


@cache  # the three tests share one reading of the code
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
