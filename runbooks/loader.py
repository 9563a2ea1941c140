"""Loading runbook YAML files and refusing bad ones with file, path and problem.

The shipped definitions live in ``runbooks/definitions``; the catalog may add
directories (``runbooks.directories``) whose runbooks override shipped ones of the
same name, so a team can adapt ``rollback-model`` to its own gateway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from runbooks.models import Runbook, ShellStep, walk_steps
from runbooks.templating import RenderError, check_syntax

DEFINITIONS = Path(__file__).parent / "definitions"


class RunbookError(ValueError):
    """One or more runbook files are invalid; each line says file, path and problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def _location(loc: Iterable[Any]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("http", "flag", "wait", "verify", "notify", "shell", "runbook"):
            continue  # the discriminator tag pydantic adds to union paths
        else:
            path += f".{part}" if path else str(part)
    return path


def _template_strings(value: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _template_strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _template_strings(item, f"{path}[{index}]")


def parse_runbook(data: Any, source: str, *,
                  shell_allowlist: Sequence[str] | None = None) -> Runbook:
    """Validate one decoded YAML document; raise :class:`RunbookError` listing every problem."""
    if not isinstance(data, dict):
        raise RunbookError([f"{source}: a runbook must be a mapping, got {type(data).__name__}"])
    try:
        runbook = Runbook.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = _location(item["loc"]) or "(top level)"
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{source}: {where}: {message}")
        raise RunbookError(problems) from None
    problems = []
    for where, text in _template_strings(data, ""):
        try:
            check_syntax(text, where.lstrip("."))
        except RenderError as error:
            problems.append(f"{source}: {error}")
    if shell_allowlist is not None:
        for path, step in walk_steps(runbook.steps):
            if isinstance(step, ShellStep) and not executable_allowed(step.argv[0],
                                                                      shell_allowlist):
                problems.append(f"{source}: {path}.argv[0]: {step.argv[0]!r} is not on the "
                                "catalog's runbooks.shell_allowlist")
    if problems:
        raise RunbookError(problems)
    return runbook.model_copy(update={"source": source})


def executable_allowed(executable: str, allowlist: Sequence[str]) -> bool:
    """An exact entry of the allowlist; a bare name never matches a path and vice versa."""
    return executable in allowlist


def load_file(path: str | Path, *, shell_allowlist: Sequence[str] | None = None) -> Runbook:
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as error:
        raise RunbookError([f"{file}: cannot read: {error.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RunbookError([f"{file}:{where} invalid YAML: {problem}"]) from None
    return parse_runbook(data, str(file), shell_allowlist=shell_allowlist)


def _files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])


def load_directories(directories: Sequence[str | Path] = (), *, include_shipped: bool = True,
                     shell_allowlist: Sequence[str] | None = None) -> dict[str, Runbook]:
    """Every runbook by name; later directories override earlier ones (shipped first).

    Problems from all files are gathered into one :class:`RunbookError`, so a
    validation run reports everything at once.
    """
    roots = ([DEFINITIONS] if include_shipped else []) + [Path(d) for d in directories]
    found: dict[str, Runbook] = {}
    problems: list[str] = []
    for root in roots:
        if not root.is_dir():
            problems.append(f"{root}: not a directory")
            continue
        in_this_root: dict[str, Path] = {}
        for file in _files(root):
            try:
                runbook = load_file(file, shell_allowlist=shell_allowlist)
            except RunbookError as error:
                problems.extend(error.problems)
                continue
            if runbook.name in in_this_root:
                problems.append(f"{file}: name: runbook {runbook.name!r} is already defined in "
                                f"{in_this_root[runbook.name]}")
                continue
            in_this_root[runbook.name] = file
            found[runbook.name] = runbook
    problems.extend(_dangling_calls(found))
    if problems:
        raise RunbookError(problems)
    return found


def _dangling_calls(runbooks: dict[str, Runbook]) -> list[str]:
    problems = []
    for runbook in runbooks.values():
        for path, step in walk_steps(runbook.steps):
            target = getattr(step, "runbook", None)
            if step.kind == "runbook" and target not in runbooks:
                problems.append(f"{runbook.source}: {path}.runbook: unknown runbook {target!r}")
    return problems
