"""Answers of range queries, kept for the window they cover.

One classification reads every signal of a service over one window, and the
watch, the incident classifier and the SLO code may read the same window within
seconds of each other; keyed by ``(server, query, start, end, step)`` with the
range aligned to the step, they query Prometheus once. Errors are cached too
(briefly), so an unreachable server costs one timeout per window, not one per
signal per caller.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.sources.prometheus import PromSeries, SourceError

CacheKey = tuple[str, str, float, float, float]


@dataclass(frozen=True)
class _Entry:
    series: list[PromSeries] | None
    error: SourceError | None
    expires: float


class QueryCache:
    """A bounded LRU of query answers (or errors) with a time to live per entry."""

    def __init__(self, max_entries: int = 512, error_ttl: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.error_ttl = error_ttl
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_fetch(self, key: CacheKey, fetch: Callable[[], list[PromSeries]],
                     ttl: float) -> list[PromSeries]:
        """The cached answer for ``key``, else ``fetch()``'s (raising its ``SourceError``)."""
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > now:
                self._entries.move_to_end(key)
                self.hits += 1
                if entry.error is not None:
                    raise entry.error
                return entry.series or []
            self.misses += 1
        try:
            series = fetch()
        except SourceError as error:
            self._put(key, _Entry(None, error, now + min(ttl, self.error_ttl)))
            raise
        self._put(key, _Entry(series, None, now + ttl))
        return series

    def _put(self, key: CacheKey, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
