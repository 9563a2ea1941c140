"""The one seam every reader of signals goes through: pushed records plus pulled ones.

The watch, the incident classifier, the SLO code and runbook ``verify`` steps call
:func:`load_signals` instead of the store, so a service whose catalog entry says
``source: {type: prometheus, ...}`` is diagnosed, budgeted and verified from
Prometheus with no code of theirs knowing it. Errors come back as messages
("quality signal thumbs_down_rate unavailable: query failed: ...") for the
caller to put next to its result; nothing here raises for a source's failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.sources.convert import SourceRecord
from bot.sources.pull import health, pull_signal, pulled_specs, source_state
from bot.sources.pushed import load_records
from store.db import session_scope

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sqlmodel import Session

    from bot.core.services import Services

__all__ = ["SignalLoad", "load_signals", "register_health", "with_unavailable"]

log = logging.getLogger(__name__)
HEALTH_CHECK = "signal_sources"


@dataclass(frozen=True)
class SignalLoad:
    """Exchange records of one service and window, and why any signal is missing."""

    records: list[SourceRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def with_unavailable(details: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    """A diagnosis' JSON plus ``unavailable``: the signals it was made without, and why."""
    return {**details, "unavailable": list(errors)} if errors else details


def register_health(services: Services) -> None:
    """Show pulled signals' last outcomes on ``/healthz`` (only when the catalog has any)."""
    if any(spec.pulled for entry in services.catalog.services for spec in entry.signals):
        checks = services.health_checks
        checks.setdefault(HEALTH_CHECK, lambda: health(source_state(services)))


def _pushed(session: Session, service: str, start: datetime, end: datetime,
            layers: Sequence[str] | None) -> tuple[list[SourceRecord], list[str]]:
    try:
        return list(load_records(session=session, service=service, start=start, end=end,
                                 layers=layers)), []
    except Exception as error:  # a broken store must not hide the pulled signals
        log.exception("loading pushed signals of %s failed", service)
        return [], [f"pushed signals unavailable: {type(error).__name__}: {error}"]


def load_signals(services: Services, *, session: Session | None, service: str,
                 start: datetime, end: datetime, layers: Iterable[str] | None = None) -> SignalLoad:
    """Pushed records of ``service`` in ``[start, end]`` plus those pulled from Prometheus.

    ``session`` is the caller's store session (``None``: one is opened here);
    ``layers`` limits both kinds to those layers.
    """
    wanted = list(layers) if layers is not None else None
    if session is None:
        with session_scope(services.engine) as own:
            records, errors = _pushed(own, service, start, end, wanted)
    else:
        records, errors = _pushed(session, service, start, end, wanted)
    specs = pulled_specs(services.catalog, service,
                         set(wanted) if wanted is not None else None)
    if not specs:
        return SignalLoad(records, errors)
    register_health(services)
    state = source_state(services)
    down: dict[str, str] = {}
    for spec in specs:
        result = pull_signal(state, service, spec, start=start, end=end, down=down)
        records.extend(result.records)
        if result.message:
            errors.append(result.message)
    return SignalLoad(records, errors)
