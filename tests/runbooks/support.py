"""The real gateway as a subprocess on loopback, its signals as a reader, a bot to run runbooks."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bot.config.catalog import RunbookOptions, load_catalog
from bot.config.settings import Settings
from bot.core.clock import format_ts
from bot.core.exchange import parse_lines
from bot.core.exchange_records import ChangeRecord, SignalRecord
from bot.core.services import Services, build_services
from store.db import session_scope
from store.models import ChangeEvent, Incident

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class GatewayProcess:
    url: str
    process: subprocess.Popen[str]

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/state", timeout=5).json()

    def post(self, path: str, body: dict[str, Any], token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=5)

    def records(self) -> list[Any]:
        return parse_lines(httpx.get(f"{self.url}/signals", timeout=5).text).records

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_gateway(*args: str, tick: float = 0.05) -> GatewayProcess:
    process = subprocess.Popen([sys.executable, "-m", "examples.gateway", "--port", "0",
                                "--tick", str(tick), *args], cwd=ROOT, stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on " not in line:
        process.kill()
        raise RuntimeError(f"the gateway did not start: {line!r}")
    return GatewayProcess(line.rsplit(" ", 1)[-1].strip(), process)


def gateway_reader(url: str):  # type: ignore[no-untyped-def]
    """``read_signals(service, start, end)`` over the gateway's own ``GET /signals``."""

    def read(service: str, start: datetime, end: datetime) -> list[SignalRecord]:
        response = httpx.get(f"{url}/signals", params={"since": format_ts(start),
                                                        "until": format_ts(end)}, timeout=5)
        response.raise_for_status()
        return [r for r in parse_lines(response.text).records
                if isinstance(r, SignalRecord) and r.service == service]

    return read


@dataclass
class Progress:
    """Collects ``runbook.progress`` events the way the Slack part would receive them."""

    texts: list[tuple[int, str]] = field(default_factory=list)

    def __call__(self, services: Services, run_id: int, incident_id: int, text: str) -> None:
        self.texts.append((run_id, text))


def build_bot(db_url: str, directories: Sequence[str | Path] = (),
              allowlist: Sequence[str] = (), gateway_url: str | None = None,
              **settings: Any) -> Services:
    catalog = load_catalog(None).model_copy(update={"runbooks": RunbookOptions(
        directories=[str(d) for d in directories], shell_allowlist=list(allowlist))})
    services = build_services(Settings(DATABASE_URL=db_url, **settings), catalog)
    if gateway_url:
        services.runbook_signal_reader = gateway_reader(gateway_url)
    return services


def open_incident(services: Services, *, service: str = "rag-assistant", behavior: str = "model",
                  changes: Sequence[ChangeRecord] = (), labels: dict[str, str] | None = None,
                  title: str = "groundedness dropped") -> int:
    from bot.incidents import lifecycle
    from store.models import Alert

    now = services.clock()
    with session_scope(services.engine) as session:
        incident = lifecycle.new_incident(session=session, service=service, title=title,
                                          severity="page", source="alert", actor="test",
                                          now=now)
        incident.behavior = behavior
        session.add(incident)
        for change in changes:
            session.add(ChangeEvent(service=change.service, ts=change.ts, kind=change.kind,
                                    ref=change.ref, previous=change.previous,
                                    author=change.author, description=change.description))
        if labels:
            session.add(Alert(fingerprint=f"fp-{incident.id}", source="generic", service=service,
                              name="QualityDrop", labels=labels, first_seen=now, last_seen=now,
                              incident_id=incident.id))
        assert isinstance(incident, Incident)
        return incident.id or 0


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
