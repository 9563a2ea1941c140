"""The work after an ack waits for the burst's acks: kept by the gate (no pool thread
woken) while requests keep arriving, released once they stop, and tracked meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from bot.config.catalog import parse_catalog
from bot.config.settings import Settings
from bot.core.services import build_services
from bot.slack.acks import AcksFirst


@pytest.fixture
def services(tmp_path: Path):
    built = build_services(Settings(DATABASE_URL=f"sqlite:///{tmp_path}/gate.db"),
                           parse_catalog({"services": []}, "<test>"))
    yield built
    built.close()


def test_work_waits_for_the_quiet_after_the_last_request(services) -> None:
    gate = AcksFirst(quiet=0.05, longest=2.0)
    ran: dict[str, float] = {}

    def work(name: str) -> str:
        ran[name] = time.monotonic()
        return name

    gate.request_seen()
    seen = time.monotonic()
    assert gate.queue(services, work, name="lone").result(timeout=5) == "lone"
    assert ran["lone"] - seen >= 0.045  # a lone request's work too: its burst may follow

    gate.request_seen()
    first = gate.queue(services, work, name="first")
    last_request = time.monotonic()
    for _ in range(5):  # the rest of the burst, 20 ms apart
        time.sleep(0.02)
        gate.request_seen()
        last_request = time.monotonic()
    assert "first" not in ran  # still held while requests arrive
    assert not services.drain(timeout=0.005)  # tracked meanwhile: drain waits for it
    assert services.drain(timeout=5)
    assert first.result() == "first"
    assert ran["first"] - last_request >= 0.045  # released after the quiet, not before


def test_drain_right_after_queueing_waits_for_the_work_and_the_work_it_queues(
        services) -> None:
    """The work's own future is tracked only once released; its round's is at once."""
    gate = AcksFirst(quiet=0.02)
    ran: list[str] = []

    def follow_up() -> None:
        ran.append("follow-up")

    def work() -> None:
        ran.append("work")
        gate.queue(services, follow_up)  # queued by the work: a round of its own

    for _ in range(20):
        ran.clear()
        gate.request_seen()
        gate.queue(services, work)
        assert services.drain(timeout=5)
        assert ran == ["work", "follow-up"]


def test_one_persons_work_keeps_its_order_and_errors_reach_the_future(services) -> None:
    gate = AcksFirst(quiet=0.01)
    order: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        time.sleep(0.01 * (5 - n))  # later work is quicker: only the gate keeps the order
        with lock:
            order.append(n)

    for n in range(5):
        gate.request_seen()
        gate.queue(services, work, after="U0SRE0001", n=n)

    def broken() -> None:
        raise ValueError("no such incident")

    failed = gate.queue(services, broken)
    assert services.drain(timeout=5)
    assert order == [0, 1, 2, 3, 4]
    assert isinstance(failed.exception(), ValueError)


def test_a_quiet_on_the_clock_waits_for_the_event_loop_to_confirm_it(services) -> None:
    """The loop's thread away for 150 ms (waiting for a core) is no quiet: requests read
    when it is back hold the work back again."""
    gate = AcksFirst(quiet=0.02, longest=2.0)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        seen: list[float] = []

        def request() -> None:
            gate.request_seen()
            seen.append(time.monotonic())

        def away_then_request() -> None:
            time.sleep(0.15)  # the releaser's clock sees a quiet meanwhile
            request()

        loop.call_soon_threadsafe(request)
        while not seen:
            time.sleep(0.001)
        ran: list[float] = []
        loop.call_soon_threadsafe(away_then_request)
        gate.queue(services, lambda: ran.append(time.monotonic()))
        assert services.drain(timeout=5)
        assert len(seen) == 2
        assert ran[0] - seen[1] >= 0.019  # after the request read on the loop's return
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
