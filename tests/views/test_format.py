"""Numbers, effects and times as a responder reads them (expected strings worked by hand)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from bot.views import format as fmt


@pytest.mark.parametrize(("p", "shown"), [
    (0.0, "p < 1e-12"),            # the pipeline rounds to 12 digits: 0 means below 1e-12
    (4e-13, "p < 1e-12"),
    (1e-12, "p = 1.0e-12"),
    (3.2e-5, "p = 3.2e-05"),
    (0.000999, "p = 1.0e-03"),
    (0.0312, "p = 0.031"),
    (0.5, "p = 0.5"),
    (1.0, "p = 1"),
    (None, ""), (math.nan, ""), ("0.01", ""),
])
def test_p_values(p: object, shown: str) -> None:
    assert fmt.p_value(p) == shown


def test_levels_and_percentages() -> None:
    assert [fmt.significant(x) for x in (0.912, 0.91, 40.26, 1234.5, 0.000123, -2.5, 0)] == \
        ["0.912", "0.91", "40.3", "1,234", "1.23e-04", "-2.5", "0"]
    assert [fmt.signed_percent(x) for x in (0.62, -0.19, 0.015, 0.0001, 12.0)] == \
        ["+62 %", "-19 %", "+1.5 %", "±0 %", "+1,200 %"]
    assert fmt.signal_name("cost_per_1k_requests") == "cost per 1k requests"
    assert fmt.level(0.05, share=True) == "5 %" and fmt.level(0.123, share=True) == "12 %"


@pytest.mark.parametrize(("item", "shown"), [
    # a shift with its levels: 0.84 -> 1.36 is (1.36 - 0.84) / 0.84 = +61.9 %
    ({"layer": "cost", "name": "cost_per_1k_requests", "detector": "robust_shift",
      "before": 0.84, "after": 1.36, "relative": 0.619},
     "+62 % cost per 1k requests (0.84 → 1.36)"),
    # relative worked out when it was not stored: (0.74 - 0.91) / 0.91 = -18.7 %
    ({"name": "groundedness", "detector": "robust_shift", "before": 0.91, "after": 0.74},
     "-19 % groundedness (0.91 → 0.74)"),
    # a share is shown as percent
    ({"name": "thumbs_down_rate", "detector": "rate_test", "before": 0.05, "after": 0.12,
      "relative": 1.4}, "+140 % thumbs down rate (5 % → 12 %)"),
    ({"name": "queue_depth", "detector": "robust_shift", "before": 0.0, "after": 12.0},
     "queue depth 0 → 12"),
    # an older diagnosis with only the relative change, or only the standardised effect
    ({"name": "tokens_per_request", "relative": 2.0}, "+200 % tokens per request"),
    ({"name": "latency_p99", "effect": -3.4}, "latency p99 down (3.4 × usual spread)"),
    ({"name": "query_length", "detector": "ks", "statistic": 0.31, "relative": 0.42},
     "query length distribution shifted (KS distance 0.31, PSI 0.42)"),
    ({"name": "top_label", "detector": "chi_square", "statistic": 88.0},
     "top label distribution shifted (χ² 88)"),
    ({"name": "served_model_version", "detector": "state_mismatch", "statistic": 0.62},
     "served model version: 62 % of samples not the expected value"),
    ({"name": "index_lag_seconds", "detector": "lag_growth", "effect": 4.2},
     "index lag seconds growing (4.2 × its usual range)"),
])
def test_effects_have_units_and_direction(item: dict, shown: str) -> None:
    assert fmt.effect(item) == shown


def test_times_relative_to_the_alert() -> None:
    alert = datetime(2026, 12, 1, 4, 22, tzinfo=UTC)
    assert fmt.relative("2026-12-01T04:09:58.360151Z", alert) == "12 min before the alert"
    assert fmt.relative(alert + timedelta(minutes=3), alert) == "3 min after the alert"
    assert fmt.relative(alert, alert) == "at the alert"
    assert fmt.relative(alert - timedelta(hours=2, minutes=5), alert, "the detection") == \
        "2 h 5 min before the detection"
    assert fmt.relative("not a time", alert) == ""
    assert fmt.minutes_before(6.2) == "6 min before the onset"
    assert fmt.minutes_before(-3) == "3 min after the onset"
    assert [fmt.span(m) for m in (0.5, 12, 125, 60 * 50)] == ["30 s", "12 min", "2 h 5 min",
                                                              "2 d 2 h"]
    assert fmt.moment("2026-12-01T04:09:58.360151Z") == \
        "<!date^1796098198^{date_short_pretty} {time}|2026-12-01 04:09 UTC>"
    assert fmt.moment(None) == "?"
