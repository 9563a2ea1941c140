from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.runbooks.support import GatewayProcess, start_gateway
from tests.slack.conftest import bot, slack  # noqa: F401 - the running bot and Slack emulator


@pytest.fixture
def gateway() -> Iterator[GatewayProcess]:
    running = start_gateway()
    yield running
    running.stop()
