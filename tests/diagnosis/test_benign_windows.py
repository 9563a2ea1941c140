"""Benign windows whose moves are no larger than the scatter their series shows now (issue 13).

A shift test measures a gauge's move in SDs of its baseline. On a low-traffic night each
point stands for a handful of requests, and after a healthy canary takes part of a slice's
traffic the slice is a new mix: the series scatters more than its baseline did, and a
level a few baseline SDs away is no more than a couple of the SDs it shows now. Re-judged
against that present scatter such a move is under the practical threshold and says
nothing (``classifiers.excursions.within_own_noise``). A clean step, a ramp, and a failure
far past the present scatter keep their verdicts.
"""

from __future__ import annotations

import numpy as np

from bot.core.exchange import parse_objects
from bot.diagnosis.pipeline import diagnose, gather
from bot.simulator import independent
from classifiers.excursions import within_own_noise
from tests.diagnosis.timed_records import Records, gauge

_T = np.arange(480) * 60.0
_ON = 360 * 60.0


def _level(rng: np.random.Generator, step: float, sd_after: float,
           ramp: bool = False) -> np.ndarray:
    """A gauge at 100 (SD 2) that moves by ``step`` at ``_ON`` and scatters ``sd_after``
    from there (a ramp reaches ``step`` at the end instead of at once)."""
    after = _T >= _ON
    grown = (_T - _ON) / (_T[-1] - _ON) if ramp else np.ones(_T.size)
    return 100.0 + np.where(after, step * grown, 0.0) + np.where(
        after, rng.normal(0, sd_after, _T.size), rng.normal(0, 2.0, _T.size))


def _share(values: np.ndarray) -> float:
    after = _T >= _ON
    return within_own_noise(values, _T, _ON, 100.0, float(np.median(values[after])), 3.0)


def test_a_move_of_a_few_baseline_sds_that_scatters_three_times_as_much_is_noise() -> None:
    for seed in (1, 2, 3):
        assert _share(_level(np.random.default_rng(seed), 9.0, 6.0)) == 1.0


def test_a_clean_step_a_ramp_and_a_large_noisy_move_keep_their_verdict() -> None:
    for seed in (1, 2, 3):
        rng = np.random.default_rng(seed)
        assert _share(_level(rng, 9.0, 2.0)) == 0.0           # as noisy as before
        assert _share(_level(rng, 30.0, 2.0, ramp=True)) == 0.0  # its climb is no noise
        assert _share(_level(rng, 40.0, 6.0)) == 0.0           # far past the new scatter


def _incident(rng: np.random.Generator, step: float) -> Records:
    """A fraud scorer's mean amount on one tenant moves at night while its scatter grows,
    beside an error ratio and a latency that stay calm."""
    out: Records = []
    gauge(out, "data", "transaction.amount_mean", _T, _level(rng, step, 7.0), "both",
          {"tenant": "acme"})
    gauge(out, "data", "transaction.amount_mean", _T, 100.0 + rng.normal(0, 1.0, _T.size),
          "both")
    gauge(out, "runtime", "http.server.request.duration_p95", _T,
          0.05 + rng.normal(0, 0.002, _T.size), "up")
    return out


def test_a_slice_mean_within_its_night_scatter_reads_none_and_a_real_shift_data() -> None:
    for seed in (1, 2, 3):
        quiet = diagnose(parse_objects(_incident(np.random.default_rng(seed), 12.0)).records)
        assert quiet.behavior == "none", (seed, quiet.behavior, quiet.scores)
        loud = diagnose(parse_objects(_incident(np.random.default_rng(seed), 60.0)).records)
        assert loud.behavior == "data", (seed, loud.behavior, loud.scores)


def test_independent_noisy_night_and_healthy_canary_read_none() -> None:
    """Two benign windows of the independent generator (seeds of the 9,300,000 set): a
    noisy low-traffic night (a tenant's mean amount and the p95 both moved a few baseline
    SDs while the points scattered up to three times as much) and a healthy canary (one
    language's input tokens moved with the new version's mix of cells)."""
    for seed in (9306007, 9306009):
        s = independent.generate("none", seed)
        records = parse_objects(s.records).records
        assert all(item.noise >= 0.5 for item in gather(records).layers), seed
        d = diagnose(records)
        assert d.behavior == "none", (seed, s.truth["failure"], d.behavior, d.scores)


def test_latency_made_erratic_by_timeouts_beside_a_clear_move_stays_evidence() -> None:
    """Streamed answers cut short by timeouts (independent generator, default seeds): the
    thumbs-down ratio rose far past its threshold and the p95 latency rose a little while
    scattering more. The latency is within its present scatter, yet it is the timeouts'
    evidence: only a window whose every move is within its own scatter is quiet, so the
    label stays infrastructure (read without the latency it was model)."""
    s = independent.generate("infrastructure", 7000011)
    records = parse_objects(s.records).records
    layers = {item.layer: item for item in gather(records).layers}
    assert layers["runtime"].noise >= 0.5 and layers["quality"].noise == 0.0
    assert diagnose(records).behavior == "infrastructure"
