"""A small reader for the Prometheus HTTP query API (``/api/v1/query_range``, ``/api/v1/query``).

Every failure becomes a :class:`SourceError` whose text a responder can act on,
so callers report it (``/healthz``, an incident's evidence) and carry on with
the signals they have. The tree::

    SourceError
    ├── Unreachable      connection refused, DNS, timeout, 5xx
    ├── QueryFailed      Prometheus refused the query (its own error text)
    ├── TooManyPoints    the range at this step, or the answer, is over the bound
    └── EmptyResult      the query matched no series

The network sits behind an ``httpx`` transport, so tests can run it against
the real server on loopback and nothing here needs mocking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx

from bot.config.source_spec import PrometheusServer


class SourceError(Exception):
    """A signal source could not deliver; ``str()`` is the message for humans."""


class Unreachable(SourceError):
    pass


class QueryFailed(SourceError):
    pass


class TooManyPoints(SourceError):
    pass


class EmptyResult(SourceError):
    pass


@dataclass(frozen=True)
class PromSeries:
    """One time series of an answer: its labels and ``(epoch seconds, value)`` points."""

    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]


def points_in(start: float, end: float, step: float) -> int:
    """Steps Prometheus evaluates for a range query (both ends included)."""
    if end < start:
        return 0
    return int(math.floor((end - start) / step + 1e-9)) + 1


def _number(text: str) -> float:
    # Prometheus writes NaN, +Inf and -Inf as strings; float() reads all three.
    return float(text)


class PrometheusReader:
    """Queries one Prometheus server; thread-safe (one ``httpx.Client``)."""

    def __init__(self, server: PrometheusServer,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.server = server
        auth: httpx.Auth | None = None
        headers: dict[str, str] = {"Accept": "application/json"}
        token = server.resolved_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif server.basic_auth is not None:
            auth = httpx.BasicAuth(server.basic_auth.username,
                                   server.basic_auth.resolved_password())
        self._client = httpx.Client(base_url=server.url.rstrip("/"), headers=headers, auth=auth,
                                    timeout=server.timeout_seconds, transport=transport)

    def close(self) -> None:
        self._client.close()

    def query_range(self, query: str, *, start: float, end: float,
                    step: float) -> list[PromSeries]:
        """The series of ``query`` at every ``step`` from ``start`` to ``end`` (epoch s)."""
        steps = points_in(start, end, step)
        if steps > self.server.max_points:
            raise TooManyPoints(
                f"{(end - start) / 60:.0f} min at step {step:g}s is {steps} points per series, "
                f"over the limit of {self.server.max_points} (raise the step or "
                "prometheus.max_points)")
        data = self._get("/api/v1/query_range", {"query": query, "start": f"{start:.3f}",
                                                 "end": f"{end:.3f}", "step": f"{step:g}"})
        return self._series(data, query)

    def query(self, query: str, *, at: float | None = None) -> list[PromSeries]:
        """The instant vector (or scalar) of ``query`` at ``at`` (now when None)."""
        params = {"query": query}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self._series(self._get("/api/v1/query", params), query)

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        url = f"{self.server.url.rstrip('/')}{path}"
        try:
            response = self._client.get(path, params=params)
        except httpx.TimeoutException:
            raise Unreachable(f"prometheus at {self.server.url} did not answer within "
                              f"{self.server.timeout_seconds:g}s") from None
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise Unreachable(f"prometheus at {self.server.url} is unreachable: {reason}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("status") == "error":
            # 400 bad_data (syntax), 422 execution (e.g. Prometheus' own point limit), 503 timeout
            text = f"{body.get('errorType', 'error')}: {body.get('error', '')}".strip()
            if response.status_code >= 500 and body.get("errorType") != "execution":
                raise Unreachable(f"prometheus at {self.server.url}: {text}")
            if "exceeded maximum resolution" in text:
                raise TooManyPoints(f"query refused by prometheus: {text}")
            raise QueryFailed(f"query failed: {text} (query: {params['query'][:200]})")
        if response.status_code in (401, 403):
            raise QueryFailed(f"prometheus at {url} refused the credentials "
                              f"(HTTP {response.status_code})")
        if response.status_code >= 500:
            raise Unreachable(f"prometheus at {url} answered HTTP {response.status_code}")
        if response.status_code != 200 or not isinstance(body, dict):
            raise QueryFailed(f"{url} answered HTTP {response.status_code} without a Prometheus "
                              "API response (is the URL right?)")
        data = body.get("data")
        if not isinstance(data, dict):
            raise QueryFailed(f"{url}: answer without data")
        return data

    def _series(self, data: dict[str, Any], query: str) -> list[PromSeries]:
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar" and isinstance(result, list):
            result = [{"metric": {}, "value": result}]
            kind = "vector"
        if kind not in ("vector", "matrix") or not isinstance(result, list):
            raise QueryFailed(f"query returned a {kind}, not series: {query}")
        series: list[PromSeries] = []
        total = 0
        for item in result:
            raw = (item.get("values") or []) if kind == "matrix" else [item.get("value")]
            points = tuple((float(ts), _number(value)) for ts, value in raw)
            total += len(points)
            if total > self.server.max_samples:
                raise TooManyPoints(f"the answer holds over {self.server.max_samples} samples "
                                    "(aggregate the query by fewer labels, or raise the step or "
                                    "prometheus.max_samples)")
            series.append(PromSeries({str(k): str(v) for k, v in item.get("metric", {}).items()},
                                     points))
        if not series:
            raise EmptyResult(f"query returned no series: {query}")
        return series
