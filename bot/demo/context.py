"""What every act of the demo shares: the running bot, an HTTP client, the output."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bot.core.services import Services
from bot.devtools.slack_emulator import SlackEmulator

T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], timeout: float = 60.0,
             what: str = "the bot") -> T:
    """Poll ``condition`` until it returns something truthy; the demo never hangs."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo: gave up waiting for {what} after {timeout:.0f}s")
        time.sleep(0.1)


@dataclass
class DemoContext:
    services: Services
    url: str
    token: str
    out: Path
    slack: SlackEmulator  # the local Slack the bot talks to
    api_token: str = ""  # the JSON API's token; ``token`` is the webhooks' and may not read
    quiet: bool = False
    summary: dict[str, Any] = field(default_factory=dict)
    prometheus: bool = False  # the optional acts the user asked for
    mlflow: bool = False
    started: float = field(default_factory=time.monotonic)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0,
                            headers={"Authorization": f"Bearer {self.token}"})

    def api(self) -> httpx.Client:
        """A client of the JSON API (incidents, SLOs, runbooks)."""
        return httpx.Client(base_url=self.url, timeout=30.0,
                            headers={"Authorization": f"Bearer {self.api_token}"})

    def say(self, text: str = "") -> None:
        if not self.quiet:
            print(text, flush=True)

    def heading(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        self.say(f"\n== {text}  [{elapsed:5.1f}s]")

    def settle(self, timeout: float = 60.0) -> None:
        """Let the background work that intake queued (classification, Slack) finish."""
        self.services.drain(timeout)
