"""Maintenance windows declared by changes: what they hold, and the words at release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.silences.maintenance import (
    holding,
    release_message,
    settled_message,
    what_an_alert_moves,
    window_of,
)
from store.models import ChangeEvent

T0 = datetime(2026, 12, 1, 3, tzinfo=UTC)


def change(**fields: object) -> ChangeEvent:
    base: dict[str, object] = {"id": 7, "service": "rag-assistant", "ts": T0, "kind": "retrieval",
                               "ref": "index-v42", "maintenance_minutes": 20,
                               "affects": ["freshness", "retrieval_hit_rate"]}
    return ChangeEvent(**{**base, **fields})


def test_a_window_holds_what_it_said_it_would_move_and_nothing_else() -> None:
    [window] = [w for w in [window_of(change())] if w]
    inside = T0 + timedelta(minutes=5)
    assert holding([window], "rag-assistant", {"freshness"}, inside) is window
    assert holding([window], "rag-assistant", {"latency_p99"}, inside) is None
    assert holding([window], "checkout", {"freshness"}, inside) is None
    assert holding([window], "rag-assistant", {"freshness"}, T0 + timedelta(minutes=20)) is None
    assert holding([window], "rag-assistant", {"freshness"}, T0 - timedelta(seconds=1)) is None


def test_an_empty_affects_list_holds_anything_of_the_service() -> None:
    window = window_of(change(affects=[]))
    assert window is not None
    assert holding([window], "rag-assistant", {"anything"}, T0 + timedelta(minutes=1))


def test_changes_without_a_window_hold_nothing() -> None:
    assert window_of(change(maintenance_minutes=None)) is None


def test_an_alert_moves_its_name_layer_and_signal() -> None:
    assert what_an_alert_moves("IndexStale", {"layer": "freshness", "signal": "index_lag"}) == \
        {"IndexStale", "freshness", "index_lag"}


def test_release_and_settle_say_what_was_expected() -> None:
    window = window_of(change())
    assert window is not None
    assert release_message(window, T0 + timedelta(minutes=35)) == \
        "retrieval change index-v42 was expected to settle in 20 min; still off after 35"
    assert settled_message(window) == \
        "settled within the 20-minute maintenance window of retrieval change index-v42"
