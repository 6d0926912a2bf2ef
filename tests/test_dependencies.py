"""Every package the code imports is declared in pyproject.toml, and nothing declared goes unused.

The package's imports must be in ``dependencies`` or, for the optional ones, in the extra that
provides them (``postgres``, ``dkim``); the tests' imports may also come from ``test``. A
declared package nobody imports must say why in ``RUNTIME_ONLY`` (loaded by another package by
name, or a tool the test command runs).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

# Declared, never imported by name: why each one is needed.
RUNTIME_ONLY = {
    "tzdata": "the IANA zones for zoneinfo where the system has none",
    "httptools": "uvicorn's fast HTTP parser, picked by uvicorn when installed",
    "uvloop": "uvicorn's event loop, picked by uvicorn when installed",
    "python-multipart": "FastAPI's form parser, imported by Starlette",
    "psycopg": "SQLAlchemy's PostgreSQL driver, loaded from the database URL",
    "ruff": "the linter the test command runs",
    "mypy": "the type checker .ci/run runs ([tool.mypy] in pyproject.toml)",
    "pytest": "the test runner (its plugins and fixtures need no import)",
    "pytest-xdist": "runs the suite on every core (-n auto in pyproject's addopts)",
    "pytest-timeout": "fails a hung test (timeout in pyproject's pytest options)",
    "pytest-cov": "branch coverage of campaign/ (the README's `pytest --cov`)",
    "httpx": "the HTTP client under Starlette's TestClient (fastapi.testclient)",
    "mkdocs": "the docs' builder, run by tests/test_docs.py (python -m mkdocs) and its hook",
    "mkdocs-material": "the docs' theme, named in mkdocs.yml",
}
# Imported, provided by a declared package under another distribution name.
PROVIDED_BY = {
    "pydantic": "sqlmodel",
    "pydantic_core": "sqlmodel",  # pydantic's own core, its custom errors (calendar values)
    "starlette": "fastapi",
    "yaml": "schemathesis",
    "urllib3": "requests",
}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imports(folder: Path) -> set[str]:
    """Top-level names of the absolute imports of every module under ``folder``."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    ours = {"campaign", "tests", "bench", "scripts"}
    return {name for name in names - ours if name not in sys.stdlib_module_names}


def _distributions(modules: set[str]) -> set[str]:
    """The distributions providing ``modules`` (the installed ones say which they provide)."""
    provided = packages_distributions()
    found: set[str] = set()
    for module in modules:
        if module in PROVIDED_BY:
            found.add(PROVIDED_BY[module])
            continue
        assert module in provided, f"{module!r} is imported but no installed package provides it"
        found.update(name.lower().replace("_", "-") for name in provided[module])
    return found


def _declared(*groups: str) -> set[str]:
    requirements = list(PROJECT["dependencies"]) if "" in groups else []
    for group in groups:
        requirements += PROJECT["optional-dependencies"].get(group, [])
    return {_name(requirement) for requirement in requirements} - {PROJECT["name"]}


def test_the_package_imports_only_what_it_declares() -> None:
    used = _distributions(_imports(ROOT / "campaign"))
    missing = used - _declared("", "postgres", "dkim")
    assert not missing, f"imported by campaign/ but not declared: {sorted(missing)}"


def test_the_tests_import_only_what_is_declared() -> None:
    used = _distributions(_imports(ROOT / "tests") | _imports(ROOT / "bench"))
    missing = used - _declared("", "postgres", "dkim", "test")
    assert not missing, f"imported by the tests but not declared: {sorted(missing)}"


def test_every_declared_package_is_used() -> None:
    everything = _imports(ROOT / "campaign") | _imports(ROOT / "tests") | _imports(ROOT / "bench")
    used = _distributions(everything) | set(PROVIDED_BY.values())
    unused = _declared("", "postgres", "dkim", "test") - used - set(RUNTIME_ONLY)
    assert not unused, f"declared but imported nowhere: {sorted(unused)}"


def test_the_optional_drivers_are_extras_not_dependencies() -> None:
    base = _declared("")
    assert "dkimpy" not in base and "dkimpy" in _declared("dkim")
    assert "psycopg" not in base and "psycopg" in _declared("postgres")
