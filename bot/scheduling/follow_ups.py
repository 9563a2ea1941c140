"""The functions behind the outbox's follow-up names (``bot.core.outbox.FOLLOW_UPS``).

Rows keep a stable name ("diagnose"), not a code path, so moving a function never
strands the rows written before the move; this table is the one place that turns a
name into the part that does the work. ``install`` hands it to a process's services.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.outbox import HANDLER_NAMES
from bot.core.services import Services
from bot.diagnosis.incidents import classify_on_open
from bot.oncall import escalation
from bot.slack import channels
from bot.slo.impact import price_budget_impact

HANDLERS: dict[str, Callable[..., None]] = {
    "diagnose": classify_on_open,
    "open-channel": channels.on_opened,
    "arm-escalation": escalation.on_opened,
    "price-budget-impact": price_budget_impact,
    "refresh-summary": channels.on_changed,
    "post-relabel": channels.on_relabelled,
    "post-diagnosis": channels.on_classified,
    "page-escalation": escalation.on_escalated,
    "post-alerts-resolved": channels.on_alerts_resolved,
}
assert set(HANDLERS) == HANDLER_NAMES, "every follow-up name needs exactly one handler"


def install(services: Services) -> None:
    """Wiring entry: this process runs follow-up work with these handlers."""
    services.follow_up_handlers.update(HANDLERS)
    services.runs_follow_ups = True
