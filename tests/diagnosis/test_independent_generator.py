"""The independent scenario generator: reproducible, valid, and its breakdowns add up."""

from __future__ import annotations

from collections import defaultdict
from functools import cache

from bot.core.exchange import parse_objects
from bot.simulator import independent
from bot.simulator.independent.failures import CATALOGUE
from bot.simulator.scenarios import LABELS, Scenario


@cache
def _scenarios() -> tuple[Scenario, ...]:
    return tuple(independent.generate(label, seed) for label in LABELS for seed in (3, 4))


def test_every_label_generates_valid_records_with_a_truth() -> None:
    for s in _scenarios():
        assert parse_objects(s.records).errors == []
        label = s.truth["label"]
        assert s.truth["failure"] in {f.name for f in CATALOGUE if f.label == label}
        if s.truth["culprit"]:
            assert any(r.get("ref") == s.truth["culprit"] for r in s.records
                       if r["type"] == "change")
    assert {s.truth["label"] for s in _scenarios()} == set(LABELS)
    assert _scenarios()[0].records == independent.generate(LABELS[0], 3).records


def test_slice_breakdowns_add_up_to_all_traffic() -> None:
    totals: dict[tuple[str, str, str], float] = {}
    per_dim: dict[tuple[str, str, str, str], float] = defaultdict(float)
    for s in _scenarios():
        for r in s.records:
            if r["type"] != "signal" or "count" not in r:
                continue
            if r.get("slice"):
                (dim, _), = r["slice"].items()
                per_dim[(s.name, r["name"], r["ts"], dim)] += r["count"]
            else:
                totals[(s.name, r["name"], r["ts"])] = r["count"]
    assert per_dim
    for (scenario, name, ts, _dim), count in per_dim.items():
        assert count == totals[(scenario, name, ts)]


def test_exporter_names_and_resolutions_are_real_ones() -> None:
    names = {r["name"] for s in _scenarios() for r in s.records if r["type"] == "signal"}
    intervals = {i for s in _scenarios() for i in s.truth["intervals"].values()}
    for prefix in ("vllm:", "DCGM_FI_", "http.server.", "gen_ai."):
        assert any(n.startswith(prefix) for n in names), prefix
    assert min(intervals) <= 30.0 and max(intervals) >= 300.0


def test_some_failures_have_no_culprit_and_some_none_cases_a_change() -> None:
    failures = [s.truth for s in _scenarios() if s.truth["label"] != "none"]
    assert any(t["culprit"] is None for t in failures)
    assert any(t["culprit"] is not None for t in failures)
    assert all(s.truth["culprit"] is None for s in _scenarios() if s.truth["label"] == "none")


def test_timeouts_that_cut_streams_shorten_answers_and_leave_the_model_alone() -> None:
    """A dependency that cuts streamed answers off leaves shorter outputs (the exporter's
    ``gen_ai.response.output_tokens``) and more thumbs-down, while nothing in the model
    changed: the pattern a classifier must read as infrastructure, not model."""
    s = independent.generate("infrastructure", 66)
    assert s.truth["variant"] == "a dependency times out and cuts answers short"
    onset = s.truth["onset"]

    def level(name: str, after: bool) -> float:
        values = [r["value"] for r in s.records if r["type"] == "signal" and r["name"] == name
                  and not r.get("slice") and (r["ts"] >= onset) == after]
        values = values[-40:] if after else values[-80:-20]
        return sorted(values)[len(values) // 2]

    tokens = level("gen_ai.response.output_tokens", True) / level(
        "gen_ai.response.output_tokens", False)
    assert tokens < 0.95, tokens
    assert level("feedback.thumbs_down_ratio", True) > level("feedback.thumbs_down_ratio",
                                                             False)


def test_a_judge_swap_only_happens_where_a_judge_score_is_exported() -> None:
    """A judge swap moves the judge score and nothing else, so on a service that exports
    no judge series it is invisible: its truth (``eval_policy``) could not be told from a
    healthy window by anyone. Ranking services export none; before, a fifth of the
    generator's judge swaps landed there and scored as misses no detector could avoid."""
    from bot.simulator.independent.exporters import CATALOG

    swap = next(f for f in CATALOGUE if f.name == "judge_swap")
    for kind in swap.kinds:
        assert "judge" in {m.latent for m in CATALOG[kind]}, kind
