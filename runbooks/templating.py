"""Rendering runbook templates without ever running what came from outside.

Only the strings written in a runbook definition are templates. Everything that
comes from an alert, a signal or a Slack user (labels, parameter values typed into
a modal) enters as *data* in the render context and is never compiled, so
``{{ ''.__class__.__mro__ }}`` in an alert label stays that literal text. The
definitions themselves render in Jinja2's ``SandboxedEnvironment`` with
``StrictUndefined``: a template reaching for ``__class__`` or a name that does not
exist fails with :class:`RenderError`, which says where, instead of rendering an
empty string into a rollback URL.

A string that is exactly one ``{{ expression }}`` keeps the expression's type, so
``replicas: "{{ params.replicas }}"`` sends the number 4, not the text ``"4"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

_SINGLE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\{\{|\}\}).)+)\}\}$", re.DOTALL)


class RenderError(ValueError):
    """A template failed (syntax, undefined name, or a sandbox refusal); says where."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                               keep_trailing_newline=False)
    env.filters["default_if_none"] = lambda value, fallback: fallback if value is None else value
    return env


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def _problem(error: Exception) -> str:
    name = type(error).__name__
    return f"{name}: {error}" if str(error) else name


def check_syntax(text: str, where: str) -> None:
    """Raise :class:`RenderError` when ``text`` is not a valid template (load-time check)."""
    if not is_template(text):
        return
    try:
        environment().parse(text)
    except TemplateError as error:
        raise RenderError(where, f"template syntax: {error}") from None


# The names a step's templates may read (``engine.base_context`` plus ``params``);
# parameter defaults render before the parameters exist, so without ``params``.
CONTEXT_NAMES = ("incident", "service", "suspect_change", "labels", "defaults", "run")


def _is_params(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "params"


def name_problems(text: str, allowed: set[str], params: set[str] | None) -> list[str]:
    """What a valid template reads that it cannot: unknown names and undeclared ``params.*``.

    ``params`` is None where parameters are not in scope (their own defaults). Found
    at load time, these would otherwise fail the step at 3 a.m. (StrictUndefined), or,
    for a name like ``os``, show an operator that someone tried to reach outside.
    """
    if not is_template(text):
        return []
    env = environment()
    try:
        tree = env.parse(text)
    except TemplateError:
        return []  # check_syntax reports it
    readable = allowed | set(env.globals) | ({"params"} if params is not None else set())
    problems = []
    for name in sorted(meta.find_undeclared_variables(tree) - readable):
        if name == "params":
            problems.append("params cannot be used here (parameter defaults are rendered "
                            "before the parameters exist)")
        else:
            problems.append(f"{name!r} is not something a template can read (it can read "
                            f"{', '.join(sorted(readable - set(env.globals)))})")
    if params is not None:
        used = {node.attr for node in tree.find_all(nodes.Getattr) if _is_params(node.node)}
        used |= {item.arg.value for item in tree.find_all(nodes.Getitem)
                 if _is_params(item.node) and isinstance(item.arg, nodes.Const)
                 and isinstance(item.arg.value, str)}
        for name in sorted(used - params):
            declared = ", ".join(sorted(params)) or "none"
            problems.append(f"params.{name} is not a declared parameter (declared: {declared})")
    return problems


def _json_safe(value: Any, where: str) -> Any:
    """A native expression result, refused unless it is plain data."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises here, with its reason
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v, where) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v, where) for v in value]
    return str(value)


def render_text(text: str, context: Mapping[str, Any], where: str) -> Any:
    """One template string; a lone ``{{ expr }}`` keeps its type."""
    if not is_template(text):
        return text
    env = environment()
    try:
        match = _SINGLE_EXPRESSION.match(text.strip())
        if match:
            expression = env.compile_expression(match.group("expr"), undefined_to_none=False)
            return _json_safe(expression(**context), where)
        return env.from_string(text).render(**context)
    except RenderError:
        raise
    except Exception as error:  # TemplateError, SecurityError, and errors raised in filters
        raise RenderError(where, _problem(error)) from None


def render_value(value: Any, context: Mapping[str, Any], where: str) -> Any:
    """Render every string inside ``value`` (dicts, lists), leaving other types alone.

    Mapping keys are rendered too, so a header name may be a template; each list item
    renders on its own, so an argv element never splits into several.
    """
    if isinstance(value, str):
        return render_text(value, context, where)
    if isinstance(value, Mapping):
        rendered = {}
        for key, item in value.items():
            name = render_text(key, context, f"{where}.{key}") if isinstance(key, str) else key
            rendered[str(name)] = render_value(item, context, f"{where}.{key}")
        return rendered
    if isinstance(value, list | tuple):
        return [render_value(item, context, f"{where}[{i}]") for i, item in enumerate(value)]
    return value
