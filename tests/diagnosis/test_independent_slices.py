"""Which series the independent generator breaks down by slice, and that they add up.

Set B simulates traffic per slice cell, so every layer that sees the request has
breakdowns that add up to all traffic. The generator follows where labels live:
every per-request rate and mean of a source that handles the request is exported
per slice value, the engine's, GPU's, cluster's and freshness gauges are not, and a
planned deploy's served version is reported per region on every service kind.
"""

from __future__ import annotations

from collections import defaultdict

from bot.simulator import independent
from bot.simulator.independent.exporters import CATALOG, REQUEST_SOURCES, per_slice


def _series(records: list[dict]) -> dict[str, set[tuple[tuple[str, str], ...]]]:
    out: dict[str, set[tuple[tuple[str, str], ...]]] = defaultdict(set)
    for r in records:
        if r["type"] == "signal":
            out[r["name"]].add(tuple(sorted((r.get("slice") or {}).items())))
    return out


def test_request_level_rates_and_means_are_exported_per_slice_and_pool_gauges_are_not(
        ) -> None:
    """A guardrail threshold on one tenant of a hosted chat service: its block ratio,
    cost and tool calls come per tenant and region, beside the all-traffic series."""
    s = independent.generate("eval_policy", 7004007)
    assert s.truth["failure"] == "guardrail_threshold" and s.truth["slice"]
    series = _series(s.records)
    dims = {k for keys in series.values() for key in keys for k, _ in key}
    assert dims, "the scenario has slice dimensions"
    names = {m.name: m for m in CATALOG[s.truth["service_kind"]]}
    for name, keys in series.items():
        m = names[name]
        sliced = {k for key in keys for k, _ in key}
        if per_slice(m):
            assert () in keys and sliced == dims, (name, sliced)
        else:
            assert keys == {()}, name
    assert per_slice(names["guardrail.block_ratio"])
    assert {"tenant"} <= {k for key in series["guardrail.block_ratio"] for k, _ in key}
    assert not any(per_slice(m) for ms in CATALOG.values() for m in ms
                   if m.source not in REQUEST_SOURCES and not m.sliced)


def test_a_newly_sliced_rate_adds_up_to_its_all_traffic_series() -> None:
    """The block ratio's requests and events per tenant sum to the all-traffic ones at
    every scrape: slices are breakdowns of the same requests, not separate draws."""
    s = independent.generate("eval_policy", 7004007)
    total: dict[str, tuple[float, float]] = {}
    parts: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in s.records:
        if r["type"] != "signal" or r["name"] != "guardrail.block_ratio":
            continue
        where = r.get("slice") or {}
        pair = (float(r["count"]), float(r["value"]) * r["count"])
        if not where:
            total[r["ts"]] = pair
        elif "tenant" in where:
            parts[r["ts"]].append(pair)
    assert len(total) > 100
    for ts, (n, events) in total.items():
        assert abs(sum(p[0] for p in parts[ts]) - n) < 1e-6, ts
        assert abs(sum(p[1] for p in parts[ts]) - events) < 1e-3 * max(n, 1.0), ts


def test_a_region_that_missed_the_deploy_reports_its_served_version_on_a_cpu_service(
        ) -> None:
    """A fraud scorer (no GPU pool) whose deploy skipped ap-south: the deployer still
    says what each region serves, and only ap-south serves the old version."""
    s = independent.generate("control_plane", 9102012)
    assert s.truth["failure"] == "region_missed_deploy"
    assert s.truth["service_kind"] == "fraud"
    states = [r for r in s.records if r["type"] == "state"
              and r["name"] == "served_model_version"]
    regions = {r["slice"]["region"] for r in states}
    assert len(regions) > 1
    stale = {r["slice"]["region"] for r in states[-len(regions):] if r["value"] != r["expected"]}
    assert stale == {s.truth["slice"]["value"]}
