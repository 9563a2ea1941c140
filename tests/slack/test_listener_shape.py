"""The Slack edge's shape: listeners are top-level functions that ``register`` binds, and
the request parts they get are the ones Bolt itself would inject.

The Slack tests beside this one drive every listener through the real Bolt app; these
checks keep the code the way issue 16 left it (no handler hidden in a closure, small
functions and files) and pin the one rule ``acked`` shares with Bolt.
"""

from __future__ import annotations

import ast
from functools import partial
from pathlib import Path

from slack_bolt.util.utils import get_arg_names_of_callable

from bot.slack.listeners import commands, runbooks, slo
from bot.slack.listeners.common import request_parts

SLACK = Path(__file__).resolve().parents[2] / "bot" / "slack"


def _functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_no_listener_is_a_closure() -> None:
    """A function defined inside another one in listeners/ is a handler ``register``
    hides; only :func:`acked`'s own wrapper may be one."""
    nested = []
    for path in sorted((SLACK / "listeners").glob("*.py")):
        for outer in _functions(path):
            for inner in ast.walk(outer):
                if inner is not outer and isinstance(inner, (ast.FunctionDef, ast.Lambda)):
                    name = getattr(inner, "name", "lambda")
                    if (path.name, outer.name, name) != ("common.py", "acked", "listener"):
                        nested.append(f"{path.name}:{inner.lineno} {outer.name} -> {name}")
    assert not nested, "\n".join(nested)


def test_functions_and_files_stay_small() -> None:
    too_long = [f"{path.relative_to(SLACK)}:{fn.name} {fn.end_lineno - fn.lineno + 1} lines"
                for path in SLACK.rglob("*.py") for fn in _functions(path)
                if (fn.end_lineno or 0) - fn.lineno + 1 > 60]
    too_big = [f"{path.relative_to(SLACK)} {n} lines" for path in SLACK.rglob("*.py")
               if (n := len(path.read_text().splitlines())) > 500]
    assert not too_long and not too_big, "\n".join(too_long + too_big)


def test_services_bound_by_keyword_is_no_request_part_for_acked_nor_bolt() -> None:
    services = object()
    for handler, parts in ((commands.run_incident, ["command", "client", "respond"]),
                           (runbooks.form_submitted, ["body", "view", "client"]),
                           (runbooks.ack_form, ["ack", "view"])):
        bound = partial(handler, services=services)
        assert request_parts(bound) == parts
        assert get_arg_names_of_callable(bound) == parts  # what Bolt would inject
    bound_slo = partial(slo.run_slo, services=services, title="Error budgets")
    assert request_parts(bound_slo) == ["command", "respond"]

