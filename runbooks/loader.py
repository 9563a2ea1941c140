"""Loading runbook YAML files and refusing bad ones with file, path and problem.

The shipped definitions live in ``runbooks/definitions``; the catalog may add
directories (``runbooks.directories``) whose runbooks override shipped ones of the
same name, so a team can adapt ``rollback-model`` to its own gateway. Every
problem of a file is reported at once (schema, templates, timing, shell
allowlist; see :mod:`runbooks.checks`), and then the library's calls between
runbooks (:mod:`runbooks.calls`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from runbooks.calls import call_problems
from runbooks.checks import executable_allowed, file_problems, verify_signal_problems
from runbooks.models import Runbook

DEFINITIONS = Path(__file__).parent / "definitions"


class RunbookError(ValueError):
    """One or more runbook files are invalid; each line says file, path and problem.

    ``loaded`` holds the runbooks that were valid, so a checker can go on with them.
    """

    def __init__(self, problems: Sequence[str],
                 loaded: dict[str, Runbook] | None = None) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)
        self.loaded = dict(loaded or {})


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


def parse_runbook(data: Any, source: str, *,
                  shell_allowlist: Sequence[str] | None = None) -> Runbook:
    """Validate one decoded YAML document; raise :class:`RunbookError` listing every problem."""
    if not isinstance(data, dict):
        raise RunbookError([f"{source}: a runbook must be a mapping, got {type(data).__name__}"])
    problems = []
    runbook = None
    try:
        runbook = Runbook.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            where = _location(item["loc"]) or "(top level)"
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{source}: {where}: {message}")
    problems += [f"{source}: {problem}"
                 for problem in file_problems(data, shell_allowlist=shell_allowlist)]
    if problems or runbook is None:
        raise RunbookError(problems)
    return runbook.model_copy(update={"source": source})


def load_file(path: str | Path, *, shell_allowlist: Sequence[str] | None = None) -> Runbook:
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise RunbookError([f"{file}: cannot read: {error.strerror}"]) from None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise RunbookError([f"{file}: line {line}: not UTF-8 text (byte "
                            f"0x{raw[error.start]:02x}); save the file as UTF-8"]) from None
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
    problems.extend(call_problems(found))
    if problems:
        raise RunbookError(problems, found)
    return found


__all__ = ["DEFINITIONS", "RunbookError", "executable_allowed", "load_directories",
           "load_file", "parse_runbook", "verify_signal_problems"]
