"""Group commit: webhook requests that arrive together are stored in one transaction.

Under a storm many requests wait at once. Each transaction pays the same fixed price
(find the open groups, update each touched incident, write its timeline line,
commit), so one writer thread takes every request waiting in the queue, stores them
as one batch, and hands each request its own share of the result. A request that
arrives alone is stored at once, so a quiet system sees no added latency.

Sharing a transaction must not share a failure: when a combined batch fails, each
request is stored again on its own, so one request's bad data fails that request
alone and the others are stored as if they had come one by one.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from bot.core.services import Services
from bot.intake.ingest import IngestResult, ingest_alerts
from bot.intake.model import IncomingAlert

log = logging.getLogger(__name__)

Item = tuple[list[IncomingAlert], "Future[IngestResult]"]


class GroupCommit:
    def __init__(self, services: Services, *, max_alerts: int = 5000) -> None:
        self.services = services
        self.max_alerts = max_alerts
        self._queue: queue.Queue[Item] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="resilio-intake", daemon=True)
        self._started = threading.Lock()

    def submit(self, alerts: list[IncomingAlert]) -> Future[IngestResult]:
        future: Future[IngestResult] = Future()
        with self._started:
            if not self._thread.is_alive():
                self._thread.start()
        self._queue.put((alerts, future))
        return future

    def _take(self) -> list[Item]:
        items = [self._queue.get()]
        total = len(items[0][0])
        while total < self.max_alerts:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            items.append(item)
            total += len(item[0])
        return items

    def _run(self) -> None:
        while True:
            items = self._take()
            if len(items) == 1:
                self._alone(items[0])
                continue
            combined = [alert for alerts, _ in items for alert in alerts]
            try:
                result = ingest_alerts(self.services, combined)
            except Exception as error:
                log.warning("intake of %d alerts from %d requests failed (%s: %s); "
                            "storing each request alone", len(combined), len(items),
                            type(error).__name__, str(error).splitlines()[0][:200])
                for item in items:
                    self._alone(item)
                continue
            claimed: set[tuple[str, str]] = set()  # (source, fingerprint) already credited
            for alerts, future in items:
                future.set_result(result.share_of(alerts, claimed))

    def _alone(self, item: Item) -> None:
        alerts, future = item
        try:
            future.set_result(ingest_alerts(self.services, alerts))
        except Exception as error:  # this request hears why; the thread goes on
            future.set_exception(error)
