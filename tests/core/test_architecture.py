"""The import direction, checked on the source so it cannot drift.

Every import counts: module-level, inside functions, under ``TYPE_CHECKING``, and
the dotted strings the bot resolves at run time (routers, hooks, CLI command
modules, scheduler jobs), since a string that names a module is an import that
only happens later. Layers, lowest first::

    config < core < views < domain parts < edges (slack, api, scheduling) < app (app, cli, demo)

A part may import its own layer's other parts only without a cycle between them.
``store/``, ``classifiers/`` and ``runbooks/`` import nothing from ``bot/``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LAYER = {
    "config": 0, "defaults": 0,
    "core": 1, "devtools": 1,
    "views": 2,
    "incidents": 3, "intake": 3, "sources": 3, "slo": 3, "reports": 3, "diagnosis": 3,
    "runbook_runs": 3, "changes": 3, "oncall": 3, "silences": 3, "otel": 3, "simulator": 3,
    "slack": 4, "api": 4, "scheduling": 4,
    "app": 5, "cli": 5, "demo": 5, "__main__": 6,
}
LAYER_NAMES = ["config", "core", "views", "domain", "edges", "app", "entry point"]
DOTTED = re.compile(r"^(bot|store|classifiers|runbooks)(\.\w+)+(:\w+)?$")
OURS = ("bot", "classifiers", "runbooks", "store")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_in(path: Path, *, strings: bool = True) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import and module-naming string in a file."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    return imports_of_source(path.read_text(), package, strings=strings)


def imports_of_source(source: str, package: list[str], *, strings: bool = True
                      ) -> Iterator[tuple[str, int]]:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:  # "from bot.x import y" may name the module bot.x.y
                yield f"{module}.{alias.name}", node.lineno
            yield module, node.lineno
        elif (strings and isinstance(node, ast.Constant) and isinstance(node.value, str)
              and DOTTED.match(node.value)):
            yield node.value.split(":")[0], node.lineno


def existing(module: str) -> str | None:
    """The longest prefix of ``module`` that is one of our modules or packages."""
    parts = module.split(".")
    while parts:
        candidate = ROOT.joinpath(*parts)
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return ".".join(parts)
        parts.pop()
    return None


def edges(package: str) -> Iterator[tuple[str, str, int]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        # migrations hold the code paths of old rows as data ("bot.reactions:..."): only
        # their import statements count
        strings = "migrations" not in path.parts
        for imported, line in imports_in(path, strings=strings):
            if imported.split(".")[0] in OURS:
                target = existing(imported)
                if target:
                    yield module_name(path), target, line


def part(module: str) -> str:
    """bot.incidents.service -> incidents; bot.__main__ -> __main__."""
    pieces = module.split(".")
    return pieces[1] if pieces[0] == "bot" and len(pieces) > 1 else pieces[0]


def bot_edges() -> list[tuple[str, str, int]]:
    return sorted({(s, t, line) for s, t, line in edges("bot")
                   if t.startswith("bot.") and part(s) != part(t)})


def test_every_part_of_bot_has_a_layer() -> None:
    parts = {p.name for p in (ROOT / "bot").iterdir()
             if (p / "__init__.py").exists() or p.suffix == ".py"}
    parts = {p.removesuffix(".py") for p in parts} - {"__init__"}
    assert parts <= set(LAYER), f"parts with no layer: {sorted(parts - set(LAYER))}"


def test_no_import_from_a_higher_layer() -> None:
    upward = [f"{s}:{line} imports {t} ({LAYER_NAMES[LAYER[part(t)]]} above "
              f"{LAYER_NAMES[LAYER[part(s)]]})"
              for s, t, line in bot_edges() if LAYER[part(t)] > LAYER[part(s)]]
    assert not upward, "\n".join(upward)


def test_no_cycle_between_parts() -> None:
    graph: dict[str, set[str]] = {}
    for s, t, _ in bot_edges():
        graph.setdefault(part(s), set()).add(part(t))

    def reaches(start: str, goal: str) -> list[str] | None:
        seen, stack = {start}, [[start]]
        while stack:
            trail = stack.pop()
            for nxt in sorted(graph.get(trail[-1], ())):
                if nxt == goal:
                    return [*trail, nxt]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append([*trail, nxt])
        return None

    cycles = {" -> ".join(path) for a in graph for b in graph[a]
              if (path := reaches(b, a)) is not None and a < b}
    assert not cycles, "\n".join(sorted(cycles))


def test_store_classifiers_and_runbooks_import_nothing_from_bot() -> None:
    for package in ("store", "classifiers", "runbooks"):
        bad = [f"{s}:{line} imports {t}" for s, t, line in edges(package)
               if t.split(".")[0] == "bot"]
        assert not bad, "\n".join(bad)


def test_classifiers_are_pure() -> None:
    allowed = {"numpy", "scipy", "__future__", "dataclasses", "typing", "math",
               "collections", "enum", "functools", "itertools", "warnings", "datetime",
               "statistics", "heapq", "bisect", "classifiers"}
    for path in (ROOT / "classifiers").rglob("*.py"):
        libraries = {name.split(".")[0] for name, _ in imports_in(path)} - {""}
        assert libraries <= allowed, f"{path.name} imports {libraries - allowed}"


def test_runbooks_use_only_the_store_and_the_vocabulary_of_ours() -> None:
    for s, t, line in edges("runbooks"):
        assert t.split(".")[0] in ("runbooks", "store") or t == "classifiers.vocabulary", \
            f"{s}:{line} imports {t}"


def test_nothing_imports_listeners_but_the_slack_app() -> None:
    for s, t, line in edges("bot"):
        if t.startswith("bot.slack.listeners"):
            assert s.startswith(("bot.slack.app", "bot.slack.listeners")), f"{s}:{line} imports {t}"


def test_the_checker_sees_function_level_imports_and_dotted_strings() -> None:
    """The walk above must see what a plain module-level scan would miss."""
    source = ("def f():\n    from bot.app.http import create_app\n"
              "    from ..core import services\n"
              "JOBS = ['bot.scheduling.jobs:watch_job']\n")
    found = {name for name, _ in imports_of_source(source, ["bot", "views"])}
    assert {"bot.app.http", "bot.scheduling.jobs", "bot.core.services"} <= found
