"""What a runbook file must satisfy beyond its schema, each problem with its path.

The schema (:mod:`runbooks.models`) says which fields exist and their types. These
checks read the decoded YAML itself, so they run even when the schema refused
something else in the same file, and a validation run shows every problem of a
file at once:

- templates: valid syntax, only names a template can read (``incident``,
  ``params``, ...; never ``os``), only declared ``params.*``;
- shell steps: the executable is on the catalog's allowlist;
- timing: a ``wait`` (or a verify's ``for_seconds``) that cannot finish within
  the step's ``timeout_seconds`` would time out every time.

:func:`verify_signal_problems` needs the catalog (which signals each service
reports), so the bot calls it with that knowledge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from runbooks.models import Runbook, VerifyStep, walk_steps
from runbooks.templating import (
    CONTEXT_NAMES,
    RenderError,
    check_syntax,
    is_template,
    name_problems,
)

# Step fields the engine reads itself; they are never rendered (engine._CONTROL_FIELDS).
_UNRENDERED = {"id", "kind", "retry", "on_failure", "compensate", "idempotent",
               "timeout_seconds"}
_DEFAULT_TIMEOUT = {"verify": 600.0}
_STEP_TIMEOUT = 30.0


def executable_allowed(executable: str, allowlist: Sequence[str]) -> bool:
    """An exact entry of the allowlist; a bare name never matches a path and vice versa."""
    return executable in allowlist


def _strings(value: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and is_template(key):
                yield f"{path}.{key}", key
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _raw_steps(steps: Any, prefix: str = "steps") -> Iterable[tuple[str, dict[str, Any]]]:
    """Every step mapping with its path, compensations included, whatever else is wrong."""
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        path = f"{prefix}[{index}]"
        if isinstance(step, dict):
            yield path, step
            yield from _raw_steps(step.get("compensate"), f"{path}.compensate")


def _declared_params(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for item in data.get("parameters") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            found[item["name"]] = item
    return found


def template_problems(data: dict[str, Any]) -> list[str]:
    """``path: reason`` for each template that would fail or reach outside its context."""
    allowed = set(CONTEXT_NAMES)
    params = _declared_params(data)
    problems = []

    def check(where: str, text: str, in_scope: set[str] | None) -> None:
        try:
            check_syntax(text, where)
        except RenderError as error:
            problems.append(str(error))
            return
        problems.extend(f"{where}: {p}" for p in name_problems(text, allowed, in_scope))

    for key, value in data.items():  # not rendered, but a broken template there is a typo
        if key not in ("parameters", "steps"):
            for where, text in _strings(value, str(key)):
                try:
                    check_syntax(text, where)
                except RenderError as error:
                    problems.append(str(error))
    for index, item in enumerate(data.get("parameters") or []):
        if isinstance(item, dict) and isinstance(item.get("default"), str):
            check(f"parameters[{index}].default", item["default"], None)
    for path, step in _raw_steps(data.get("steps")):
        for key, value in step.items():
            if key in _UNRENDERED:
                continue
            for where, text in _strings(value, f"{path}.{key}"):
                check(where, text, set(params))
    return problems


def shell_problems(data: dict[str, Any], allowlist: Sequence[str]) -> list[str]:
    problems = []
    for path, step in _raw_steps(data.get("steps")):
        argv = step.get("argv")
        if step.get("kind") == "shell" and isinstance(argv, list) and argv \
                and isinstance(argv[0], str) and not executable_allowed(argv[0], allowlist):
            problems.append(f"{path}.argv[0]: {argv[0]!r} is not on the catalog's "
                            "runbooks.shell_allowlist")
    return problems


def _seconds(value: Any, params: Mapping[str, dict[str, Any]]) -> float | None:
    """A literal number of seconds, or the literal default of the one parameter it names."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{{") and text.endswith("}}"):
            name = text[2:-2].strip().removeprefix("params.")
            default = params.get(name, {}).get("default")
            return _seconds(default, {}) if not isinstance(default, str) else None
        try:
            return float(text)
        except ValueError:
            return None
    return None


def timing_problems(data: dict[str, Any]) -> list[str]:
    """Waits that outlast their step's timeout: the step would fail every time it ran."""
    params = _declared_params(data)
    problems = []
    for path, step in _raw_steps(data.get("steps")):
        kind = step.get("kind")
        field = {"wait": "seconds", "verify": "for_seconds"}.get(str(kind))
        if field is None or field not in step:
            continue
        timeout = _seconds(step.get("timeout_seconds", _DEFAULT_TIMEOUT.get(str(kind),
                                                                            _STEP_TIMEOUT)), {})
        seconds = _seconds(step[field], params)
        if seconds is None and isinstance(step[field], str) and not is_template(step[field]):
            problems.append(f"{path}.{field}: {step[field]!r} is not a number of seconds")
        elif seconds is not None and timeout is not None and seconds >= timeout:
            what = "waits" if kind == "wait" else "needs readings over"
            problems.append(f"{path}.{field}: {what} {seconds:g}s but the step times out "
                            f"after {timeout:g}s (timeout_seconds); it would fail every time")
    return problems


def file_problems(data: dict[str, Any], *, shell_allowlist: Sequence[str] | None) -> list[str]:
    """All checks of one decoded file beyond the schema, as ``path: reason``."""
    problems = template_problems(data) + timing_problems(data)
    if shell_allowlist is not None:
        problems += shell_problems(data, shell_allowlist)
    return problems


def verify_signal_problems(runbook: Runbook, reported: Mapping[str, set[str]], *,
                           services: set[str]) -> list[str]:
    """Verify checks on signals the services it runs on do not report.

    ``reported`` maps each service the runbook runs on (and that declares its
    signals) to the names it reports. A verify step that reads a signal nobody
    sends waits for its whole timeout and then says "not recovered".
    """
    problems = []
    for path, step in walk_steps(runbook.steps):
        if not isinstance(step, VerifyStep):
            continue
        if is_template(step.service):
            targets = dict(reported)
        elif step.service not in services:
            problems.append(f"{runbook.source}: {path}.service: unknown service "
                            f"{step.service!r}")
            continue
        else:
            targets = {step.service: reported[step.service]} if step.service in reported \
                else {}
        for c_index, check in enumerate(step.checks):
            if is_template(check.signal):
                continue
            missing = sorted(name for name, signals in targets.items()
                             if check.signal not in signals)
            if not missing:
                continue
            shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more"
                                              if len(missing) > 3 else "")
            example = sorted(targets[missing[0]])
            problems.append(
                f"{runbook.source}: {path}.checks[{c_index}].signal: {check.signal!r} is not "
                f"a signal {shown} reports (known: {', '.join(example[:12])}); declare it "
                "under the service's signals: in the catalog, or fix the name")
    return problems
