"""A diagnosis straight from a columnar batch (``resilio classify FILE``'s path).

:func:`bot.core.exchange_columns.read_columns` keeps a file's signals as columns;
this picks the service as :func:`bot.diagnosis.pipeline.select_service` would from
the records, assembles its arrays with :func:`assemble_columns` and diagnoses them,
so the result is the same as ``diagnose`` of the file's records, without a record
object per signal (``tests/diagnosis/test_columns.py`` compares the two).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.exchange_columns import ColumnBatch
from bot.diagnosis.assemble import assemble_columns
from bot.diagnosis.pipeline import Diagnosis, diagnose

_DATA_TYPES = frozenset({"signal", "distribution", "state"})


def _others(batch: ColumnBatch, at: datetime | None) -> list[Any]:
    """The batch's records (not in columns) up to ``at``."""
    return [r for r in batch.others.records if at is None or not r.ts > at]


def _services(batch: ColumnBatch, others: list[Any], at: datetime | None) -> list[str]:
    """Every service with a signal or record up to ``at``, sorted."""
    limit = at.timestamp() if at is not None else None
    names = {r.service for r in others}
    names.update(key[0] for key, column in batch.signals.items()
                 if key[0] not in names and (limit is None or min(column.times) <= limit))
    return sorted(names)


def diagnose_service(batch: ColumnBatch, service: str | None, at: datetime | None = None,
                     others: list[Any] | None = None) -> Diagnosis:
    """The diagnosis of one service's data and changes in the batch, up to ``at``."""
    records = _others(batch, at) if others is None else others
    mine = [r for r in records if r.service == service and r.type not in _DATA_TYPES]
    return diagnose(mine, at=at, assembled=assemble_columns(batch, service, at))


def select_and_diagnose(batch: ColumnBatch, service: str | None = None,
                        at: datetime | None = None) -> tuple[str | None, Diagnosis]:
    """The service to diagnose (as ``select_service`` picks it) and its diagnosis.

    The one asked for, the only one, the one firing alerts name most, else the one
    with the strongest anomaly (the same score as ``select_service``).
    """
    others = _others(batch, at)
    names = _services(batch, others, at)
    if service is None and len(names) > 1:
        alerts: dict[str, int] = {}
        for r in others:
            if r.type == "alert" and r.status == "firing":
                alerts[r.service] = alerts.get(r.service, 0) + 1
        if alerts:
            service = max(alerts, key=lambda s: alerts[s])
        else:
            best: tuple[float, str, Diagnosis] | None = None
            for name in names:
                d = diagnose_service(batch, name, at, others)
                score = 0.0 if d.behavior == "none" else d.confidence + sum(
                    v["strength"] for v in d.layers.values())
                if best is None or score > best[0]:
                    best = (score, name, d)
            assert best is not None
            return best[1], best[2]
    elif service is None:
        service = names[0] if names else None
    return service, diagnose_service(batch, service, at, others)
