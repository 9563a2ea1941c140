"""The import direction of DESIGN.md, checked on the source so it cannot drift."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports_of(package: str) -> dict[str, set[str]]:
    """module path -> top-level names it imports (including imports inside functions)."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def ours(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in ("bot", "classifiers", "runbooks", "store")}


def test_classifiers_are_pure() -> None:
    for module, names in imports_of("classifiers").items():
        foreign = {n for n in ours(names) if not n.startswith("classifiers")}
        assert not foreign, f"{module} imports {foreign}"
        libraries = {n.split(".")[0] for n in names} - {"classifiers"}
        allowed = {"numpy", "scipy", "__future__", "dataclasses", "typing", "math",
                   "collections", "enum", "functools", "itertools", "warnings", "datetime",
                   "statistics", "heapq", "bisect"}
        assert libraries <= allowed, f"{module} imports {libraries - allowed}"


def test_runbooks_use_only_the_store_of_ours() -> None:
    for module, names in imports_of("runbooks").items():
        foreign = {n for n in ours(names) if n.split(".")[0] not in ("runbooks", "store")}
        assert not foreign, f"{module} imports {foreign}"


def test_store_does_not_import_the_application() -> None:
    for module, names in imports_of("store").items():
        foreign = {n for n in ours(names) if n.split(".")[0] != "store"}
        assert not foreign, f"{module} imports {foreign}"


def test_nothing_imports_listeners_or_main_but_their_wiring() -> None:
    wiring = {"bot/slack_app.py", "bot/listeners", "bot/server.py", "bot/commands"}
    for module, names in imports_of("bot").items():
        if any(module.startswith(w) for w in wiring):
            continue
        bad = {n for n in names if n.startswith("bot.listeners") or n == "bot.main"}
        assert not bad, f"{module} imports {bad}"
