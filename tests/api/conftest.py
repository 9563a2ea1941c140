from __future__ import annotations

from collections.abc import Generator, Iterator

import httpx
import pytest

from bot.app.server import ServerThread
from bot.core.services import Services
from tests.conftest import API_TOKEN, TOKEN


@pytest.fixture
def server(services: Services) -> Iterator[ServerThread]:
    with ServerThread(services) as running:
        yield running


class ScopedTokens(httpx.Auth):
    """The webhook token for what posts data in, the API token for everything else:
    the scopes a real deployment hands out."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        path = request.url.path
        ingest = request.method == "POST" and (
            path.startswith("/webhooks/") or path in ("/v1/signals", "/v1/changes"))
        request.headers["Authorization"] = f"Bearer {TOKEN if ingest else API_TOKEN}"
        yield request


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30, auth=ScopedTokens()) as http:
        yield http
