"""The layering the architecture promises, computed from the code's imports.

Data flows one way between the stages; the doors (the CLI, the web routes, the dashboard) call
the stages and never the other way round; a transport knows how to deliver, not what a
subscriber or a newsletter is. Imports under ``if TYPE_CHECKING:`` are types only and do not
count.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "campaign"
DOORS = {"cli", "web", "dashboard", "demo", "__main__"}
# The transports, and the modules of theirs they import: a transport split into several
# modules stays checked whole.
TRANSPORT_MODULES = (
    "x",
    "x_media",
    "x_refusals",
    "xtext",
    "mastodon",
    "bluesky",
    "bluesky_facets",
    "bluesky_session",
    "linkedin",
    "retrying",
    "tokens",
    "length",
)
TRANSPORTS = [ROOT / "mail", *(ROOT / "social" / f"{n}.py" for n in TRANSPORT_MODULES)]
NOT_FOR_TRANSPORTS = {"newsletters", "audience", "reports", "models"}


def _package(module: str) -> str:
    """``campaign.audience.importer`` → ``audience``; ``campaign.errors`` → ``errors``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> set[str]:
    """The campaign modules a file imports at run time (anywhere in it, functions included)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "campaign":
                found.update(f"campaign.{alias.name}" for alias in node.names)
            elif node.module.startswith("campaign."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("campaign."))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _modules() -> dict[Path, set[str]]:
    return {
        path: _imports(ast.parse(path.read_text(encoding="utf-8")))
        for path in ROOT.rglob("*.py")
        if "migrations" not in path.parts
    }


def _own_package(path: Path) -> str:
    relative = path.relative_to(ROOT)
    return relative.parts[0].removesuffix(".py")


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path, imported in _modules().items():
        source = _own_package(path)
        for module in imported:
            target = _package(module)
            if target != source and target != "__init__":
                graph[source].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as the path around it, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_packages() -> None:
    cycle = _cycle(package_graph())
    assert cycle is None, "import cycle between packages: " + " → ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_stages_never_import_a_door() -> None:
    wrong = sorted(
        f"{source} imports {door}"
        for source, targets in package_graph().items()
        if source not in DOORS
        for door in targets & DOORS
    )
    assert wrong == []


def test_transports_know_nothing_of_subscribers_newsletters_or_tables() -> None:
    assert all(t.exists() for t in TRANSPORTS), [t for t in TRANSPORTS if not t.exists()]
    files = [p for t in TRANSPORTS for p in ([t] if t.is_file() else sorted(t.rglob("*.py")))]
    assert files
    modules = _modules()
    wrong = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in modules[path]
        if _package(module) in NOT_FOR_TRANSPORTS
    )
    assert wrong == []


def test_users_roles_and_sessions_are_a_stage_the_doors_call() -> None:
    """The dashboard's users are the ``users`` stage's: the doors call it, it imports no door,
    and no door hashes a password or ranks a role itself."""
    graph = package_graph()
    assert "users" not in DOORS
    assert not graph["users"] & DOORS
    assert "users" in graph["dashboard"] and "users" in graph["cli"]
    door_files = [p for p in ROOT.rglob("*.py") if _own_package(p) in DOORS]
    hashing = sorted(
        str(path.relative_to(ROOT))
        for path in door_files
        if "argon2" in path.read_text(encoding="utf-8")
        or "ROLE_RANK" in path.read_text(encoding="utf-8")
    )
    assert hashing == []
