"""The shape of the HTTP API's code and contract, checked so neither drifts.

- Each route's handler is a module-level function of the module a reader looks in
  (``inspect`` finds it by name there), not a closure inside ``build_router``.
- Responder relabels live with the incidents routes, change intake with the change
  webhooks.
- The operations of the served OpenAPI document (method, path, operationId) are
  those of ``openapi_operations.txt``: generated clients are built from the ids.
- No function in ``bot/api`` is over 60 lines, no file over 500.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from bot.app.http import ROUTER_MODULES, create_app
from tests.conftest import make_services

API = Path(__file__).resolve().parents[2] / "bot" / "api"
OPERATIONS = Path(__file__).with_name("openapi_operations.txt")
# Routers that still build their handlers in build_router: the Slack and alert webhooks
# (tuned for speed elsewhere) and health, whose write probe is state of one app.
CLOSURE_MODULES = {"bot.api.slack", "bot.api.webhooks", "bot.api.health"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    path = tmp_path_factory.mktemp("layout") / "resilio.db"
    services = make_services(f"sqlite:///{path}")  # the routes are read, never called
    yield create_app(services)
    services.close()


def routes(app: FastAPI) -> list[APIRoute]:
    """Every JSON route the app serves, from each module's router (the app includes them
    by reference, so its own list holds the routers, not their routes)."""
    services = app.state.services
    return [route for name in ROUTER_MODULES
            for route in importlib.import_module(name).build_router(services).routes
            if isinstance(route, APIRoute)]


def test_every_handler_is_a_module_level_function(app: FastAPI) -> None:
    closures, checked = [], 0
    for route in routes(app):
        module = route.endpoint.__module__
        if module in CLOSURE_MODULES:
            continue
        found = getattr(importlib.import_module(module), route.endpoint.__name__, None)
        checked += 1
        if found is not route.endpoint:
            closures.append(f"{sorted(route.methods)} {route.path}: {route.endpoint.__qualname__}")
    assert not closures
    assert checked >= 25  # the JSON API's routes were all looked at


def test_routes_live_where_a_reader_looks(app: FastAPI) -> None:
    home = {(method, route.path): route.endpoint.__module__
            for route in routes(app) for method in route.methods}
    assert home["POST", "/v1/incidents/{incident_id}/label"] == "bot.api.incidents"
    assert home["POST", "/v1/incidents/{incident_id}/transition"] == "bot.api.incidents"
    assert home["POST", "/v1/changes"] == "bot.api.change_webhooks"
    assert home["POST", "/webhooks/github"] == "bot.api.change_webhooks"
    assert home["GET", "/v1/changes"] == "bot.api.reads"
    assert home["POST", "/v1/signals"] == "bot.api.signals"


def test_the_documented_operations_are_the_pinned_ones(app: FastAPI) -> None:
    document = app.openapi()
    served = sorted(f"{method.upper()} {path} {operation['operationId']}"
                    for path, operations in document["paths"].items()
                    for method, operation in operations.items())
    pinned = [line for line in OPERATIONS.read_text().splitlines()
              if line and not line.startswith("#")]
    assert served == pinned


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def test_no_function_over_60_lines_and_no_file_over_500() -> None:
    long = []
    for path in sorted(API.glob("*.py")):
        source = path.read_text()
        if len(source.splitlines()) > 500:
            long.append(f"{path.name}: {len(source.splitlines())} lines")
        for node in functions(ast.parse(source)):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > 60:
                long.append(f"{path.name}:{node.lineno} {node.name}: {length} lines")
    assert not long
