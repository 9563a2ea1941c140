"""How runbooks call each other (``kind: runbook`` steps), checked across a library.

A call to a runbook that does not exist, a call cycle (a runbook calling itself,
or two calling each other), a chain deeper than the engine nests, or parameters
the called runbook does not take would all fail mid-run, after the steps before
them had acted on production. A cycle is worse: every level repeats the side
effects before the nesting limit stops it. So the library refuses them at load.
"""

from __future__ import annotations

from collections.abc import Mapping

from runbooks.models import MAX_NESTING, Runbook, RunbookStep, walk_steps


def _calls(runbook: Runbook) -> list[tuple[str, RunbookStep]]:
    return [(path, step) for path, step in walk_steps(runbook.steps)
            if isinstance(step, RunbookStep)]


def _parameter_problems(runbook: Runbook, path: str, step: RunbookStep,
                        target: Runbook) -> list[str]:
    problems = []
    known = {p.name for p in target.parameters}
    for name in sorted(set(step.params) - known):
        listed = ", ".join(sorted(known)) or "none"
        problems.append(f"{runbook.source}: {path}.params.{name}: runbook {target.name!r} "
                        f"has no parameter {name!r} (it takes: {listed})")
    for parameter in target.parameters:
        if parameter.required and parameter.default is None and parameter.name not in step.params:
            problems.append(f"{runbook.source}: {path}.params: runbook {target.name!r} needs "
                            f"{parameter.name!r} (required, no default)")
    return problems


def _cycles(runbooks: Mapping[str, Runbook]) -> list[list[str]]:
    """Each elementary call cycle once, as the names in call order starting at the least."""
    graph = {name: sorted({s.runbook for _, s in _calls(rb) if s.runbook in runbooks})
             for name, rb in runbooks.items()}
    found: set[tuple[str, ...]] = set()

    def visit(name: str, trail: list[str]) -> None:
        for callee in graph[name]:
            if callee in trail:
                cycle = trail[trail.index(callee):]
                start = cycle.index(min(cycle))
                found.add(tuple(cycle[start:] + cycle[:start]))
            elif len(trail) <= len(graph):
                visit(callee, [*trail, callee])

    for name in sorted(graph):
        visit(name, [name])
    return [list(cycle) for cycle in sorted(found)]


def _depth(name: str, runbooks: Mapping[str, Runbook], seen: frozenset[str]) -> int:
    """Calls below ``name`` on its longest acyclic chain."""
    deepest = 0
    for _, step in _calls(runbooks[name]):
        if step.runbook in runbooks and step.runbook not in seen:
            deepest = max(deepest, 1 + _depth(step.runbook, runbooks, seen | {step.runbook}))
    return deepest


def call_problems(runbooks: Mapping[str, Runbook]) -> list[str]:
    """``file: path: reason`` for every bad call in the library."""
    problems = []
    for runbook in runbooks.values():
        for path, step in _calls(runbook):
            target = runbooks.get(step.runbook)
            if target is None:
                problems.append(f"{runbook.source}: {path}.runbook: unknown runbook "
                                f"{step.runbook!r}")
            else:
                problems.extend(_parameter_problems(runbook, path, step, target))
    cyclic: set[str] = set()
    for cycle in _cycles(runbooks):
        cyclic |= set(cycle)
        first = runbooks[cycle[0]]
        callee = cycle[1] if len(cycle) > 1 else cycle[0]
        path = next(p for p, s in _calls(first) if s.runbook == callee)
        if len(cycle) == 1:
            reason = f"runbook {first.name!r} calls itself"
        else:
            reason = "call cycle " + " -> ".join(repr(n) for n in [*cycle, cycle[0]])
        problems.append(f"{first.source}: {path}.runbook: {reason}: each level would repeat "
                        f"its steps until the nesting limit of {MAX_NESTING} stops it")
    for name, runbook in runbooks.items():
        if name in cyclic:
            continue
        depth = _depth(name, runbooks, frozenset({name}))
        if depth > MAX_NESTING:
            problems.append(f"{runbook.source}: steps: runbook calls nest {depth} deep; the "
                            f"engine runs at most {MAX_NESTING} levels of called runbooks")
    return problems
