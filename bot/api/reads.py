"""What the bot sees: ``GET /v1/signals`` (series with slices, paged) and ``GET /v1/changes``.

Both read what intake stored, whichever way it came (exchange format, OTLP,
Prometheus pulls, change webhooks), so a user can check a mapping before the
first incident depends on it. Pages are keyset pages: pass ``next`` back as
``cursor``; a series may continue on the next page (same name, layer and slice).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool

from bot.api.deps import ServicesDep
from bot.api.guards import require_reader
from bot.api.params import QueryTime
from bot.core.clock import format_ts, to_utc
from bot.core.services import Services
from bot.incidents.serialize import change_dict
from classifiers.vocabulary import CHANGE_KINDS, LAYERS
from store.db import session_scope
from store.signal_reads import PageKey, change_page, distribution_page, signal_page

_QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


def _encode(key: list[str | int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, list) or len(key) != size:
            raise ValueError
        return key
    except ValueError:
        raise HTTPException(400, f"cursor {cursor[:40]!r} is not one this API gave out") \
            from None


def _window(since: datetime | None, until: datetime | None,
            services: Services) -> tuple[datetime, datetime]:
    end = to_utc(until) if until else services.clock()
    start = to_utc(since) if since else end - timedelta(hours=1)
    if start > end:
        raise HTTPException(400, f"since ({format_ts(start)}) is after until ({format_ts(end)})")
    return start, end


def _slice(raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """A series' slice: the page queries read it as JSON text; a mapping is taken as it is."""
    return json.loads(raw) if isinstance(raw, str) else dict(raw or {})


def _signal_body(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    series: list[dict[str, Any]] = []
    current: tuple[str, str, str] | None = None
    for name, slice_key, layer, ts, _id, raw, value, count, kind, bad in rows:
        if (name, slice_key, layer) != current:
            current = (name, slice_key, layer)
            series.append({"name": name, "layer": layer, "kind": kind, "bad": bad,
                           "slice": _slice(raw), "points": []})
        series[-1]["points"].append({"ts": format_ts(ts), "value": value, "count": count})
    return series


def _distribution_body(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    series: list[dict[str, Any]] = []
    current: tuple[str, str, str] | None = None
    for name, slice_key, layer, ts, _id, raw, sketch, sample_size, counts in rows:
        if (name, slice_key, layer) != current:
            current = (name, slice_key, layer)
            series.append({"name": name, "layer": layer, "kind": "distribution",
                           "slice": _slice(raw), "points": []})
        point: dict[str, Any] = {"ts": format_ts(ts), "sample_size": sample_size}
        if sketch:
            values = np.quantile(np.asarray(sketch, dtype=float), [q for _, q in _QUANTILES])
            point.update({label: float(v) for (label, _), v in zip(_QUANTILES, values,
                                                                    strict=True)})
        if counts is not None:
            point["counts"] = counts
        series[-1]["points"].append(point)
    return series


router = APIRouter(prefix="/v1", tags=["reads"])


def build_router(services: Services) -> APIRouter:
    """This module's routes; the handlers get ``services`` from the app (``ServicesDep``)."""
    return router


ChangeKey = tuple[datetime, int]  # ts, id of the last change of a page


def _signal_cursor(cursor: str | None) -> PageKey | None:
    if not cursor:
        return None
    key = _decode(cursor, 5)
    try:
        return (str(key[0]), str(key[1]), str(key[2]),
                to_utc(datetime.fromisoformat(str(key[3]))), int(key[4]))
    except (TypeError, ValueError):
        raise HTTPException(400, "cursor is not one this API gave out") from None


def _change_cursor(cursor: str | None) -> ChangeKey | None:
    if not cursor:
        return None
    key = _decode(cursor, 2)
    try:
        return to_utc(datetime.fromisoformat(str(key[0]))), int(key[1])
    except (TypeError, ValueError):
        raise HTTPException(400, "cursor is not one this API gave out") from None


def _read_signals(services: Services, *, kind: str, service: str, name: str | None,
                  layer: str | None, since: datetime, until: datetime,
                  after: PageKey | None, limit: int) -> list[tuple[Any, ...]]:
    page = signal_page if kind == "signal" else distribution_page
    with session_scope(services.engine) as session:
        return page(session=session, service=service, name=name, layer=layer,
                    since=since, until=until, after=after, limit=limit)


def _read_changes(services: Services, *, service: str | None, kinds: list[str],
                  since: datetime, until: datetime, after: ChangeKey | None,
                  limit: int) -> list[dict[str, Any]]:
    with session_scope(services.engine) as session:
        rows = change_page(session=session, service=service, kinds=kinds, since=since,
                           until=until, after=after, limit=limit)
        return [{**change_dict(row), "id": row.id} for row in rows]


@router.get("/signals", summary="Stored signal series of a service, with slices, paged")
async def get_signals(
        request: Request, services: ServicesDep, service: str = Query(min_length=1),
        name: str | None = None, layer: str | None = None, since: QueryTime | None = None,
        until: QueryTime | None = None,
        type: Literal["signal", "distribution"] = "signal",
        limit: int = Query(1000, ge=1, le=10000),
        cursor: str | None = None) -> dict[str, Any]:
    require_reader(request, services)
    if layer is not None and layer not in LAYERS:
        raise HTTPException(400, f"layer {layer!r} is not one of {', '.join(LAYERS)}")
    start, end = _window(since, until, services)
    after = _signal_cursor(cursor)
    rows = await run_in_threadpool(
        lambda: _read_signals(services, kind=type, service=service, name=name, layer=layer,
                              since=start, until=end, after=after, limit=limit))
    body = _signal_body(rows) if type == "signal" else _distribution_body(rows)
    last = rows[-1] if len(rows) == limit else None
    return {"service": service, "type": type, "since": format_ts(start),
            "until": format_ts(end), "series": body, "points": len(rows),
            "next": _encode([last[0], last[1], last[2], last[3].isoformat(), last[4]])
            if last else None}


@router.get("/changes", summary="Stored change events, in time order, paged")
async def get_changes(
        request: Request, services: ServicesDep, service: str | None = None,
        since: QueryTime | None = None, until: QueryTime | None = None,
        kind: list[str] = Query(default_factory=list),
        limit: int = Query(500, ge=1, le=5000),
        cursor: str | None = None) -> dict[str, Any]:
    require_reader(request, services)
    for item in kind:
        if item not in CHANGE_KINDS:
            raise HTTPException(400, f"kind {item!r} is not one of {', '.join(CHANGE_KINDS)}")
    end = to_utc(until) if until else services.clock() + timedelta(days=1)
    start = to_utc(since) if since else end - timedelta(days=8)
    after = _change_cursor(cursor)
    data = await run_in_threadpool(
        lambda: _read_changes(services, service=service, kinds=kind, since=start, until=end,
                              after=after, limit=limit))
    next_key = None
    if len(data) == limit:
        next_key = _encode([data[-1]["ts"].replace("Z", "+00:00"), data[-1]["id"]])
    return {"data": data, "count": len(data), "next": next_key}
