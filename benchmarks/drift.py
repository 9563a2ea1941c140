"""Drift tests, ours beside scipy's ``ks_2samp`` loop and Evidently, on the same data.

Run: ``python benchmarks/drift.py [--features 20] [--rows 100000]``.

The data: ``--features`` numeric features of ``--rows`` rows each, a reference
sample and a current one whose mean moves by 0 to 0.5 SD across the features.
Ours (``classifiers.drift.numeric_drift``) computes, per feature, the KS test with
its p-value, PSI, Jensen-Shannon and Wasserstein/std. The references, timed on the
same arrays in the same run:

- scipy's ``stats.ks_2samp`` in a loop over the features (the KS statistic alone;
  always available): the plain way to do one of our four statistics;
- Evidently (``pip install -e '.[bench]'``; skipped when absent), its stat tests on
  the same statistics (KS, Wasserstein/std, PSI, Jensen-Shannon) feature by
  feature, and its default ``DataDriftPreset`` report on the same frame.

It also checks the answers agree: our KS p-values against scipy's (exact for the
statistic up to the 1/1000 grid, see ``classifiers/drift.py``) and Evidently's.
The last line is the verdict: our time, the reference's, the ratio, the target
(under 1 s per 100 features and at least 100x faster than Evidently).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from classifiers.drift import numeric_drift


def drift_data(features: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    reference = rng.normal(0, 1, (features, rows))
    current = rng.normal(0, 1, (features, rows)) + np.linspace(0, 0.5, features)[:, None]
    return reference, current


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _evidently_tests() -> dict[str, Any] | None:
    for module in ("evidently.legacy.calculations.stattests", "evidently.calculations.stattests"):
        try:
            tests = __import__(module, fromlist=["ks_stat_test"])
            return {"ks": tests.ks_stat_test, "wasserstein": tests.wasserstein_stat_test,
                    "psi": tests.psi_stat_test, "jensenshannon": tests.jensenshannon_stat_test}
        except ImportError:
            continue
    return None


def bench_evidently(reference: np.ndarray, current: np.ndarray,
                    ours: list[Any]) -> tuple[float, float | None] | None:
    """Evidently's four stat tests feature by feature, and its default preset if it runs."""
    tests = _evidently_tests()
    if tests is None:
        print("evidently not installed (pip install -e '.[bench]'): its comparison is skipped")
        return None
    import pandas as pd

    timings: dict[str, float] = {}
    ks_diff = 0.0
    for name, test in tests.items():
        started = time.perf_counter()
        for i, (a, b) in enumerate(zip(reference, current, strict=True)):
            value = test.func(pd.Series(a), pd.Series(b), "num", 0.1)[0]
            if name == "ks":
                ks_diff = max(ks_diff, abs(float(value) - ours[i].p_value))
        timings[name] = time.perf_counter() - started
    tests_total = sum(timings.values())
    print("evidently stat tests, same data: " + ", ".join(
        f"{k} {v:.2f} s" for k, v in timings.items()) + f"; total {tests_total:.2f} s; "
          f"KS p-value max |ours - evidently| {ks_diff:.1e}")
    preset = _evidently_preset(reference, current)
    return tests_total, preset


def _evidently_preset(reference: np.ndarray, current: np.ndarray) -> float | None:
    """Evidently's default DataDriftPreset report on the same features, timed."""
    import pandas as pd

    columns = [f"f{i}" for i in range(reference.shape[0])]
    before = pd.DataFrame(reference.T, columns=columns)
    after = pd.DataFrame(current.T, columns=columns)
    try:
        from evidently import Report
        from evidently.presets import DataDriftPreset

        def run() -> Any:
            return Report([DataDriftPreset()]).run(reference_data=before, current_data=after)
    except ImportError:
        try:
            from evidently.metric_preset import DataDriftPreset
            from evidently.report import Report

            def run() -> Any:
                report = Report(metrics=[DataDriftPreset()])
                report.run(reference_data=before, current_data=after)
                return report
        except ImportError:
            print("evidently's DataDriftPreset not found: preset timing skipped")
            return None
    took, _ = timed(run)
    print(f"evidently DataDriftPreset report, same data: {took:.2f} s")
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-evidently", action="store_true", help="skip Evidently")
    args = parser.parse_args(argv)
    reference, current = drift_data(args.features, args.rows)
    shape = f"{args.features} features x {args.rows:,} rows"

    numeric_drift(reference[0], current[0])  # first-call work (imports, caches) not timed
    ours_s, ours = timed(lambda: [numeric_drift(a, b)
                                  for a, b in zip(reference, current, strict=True)])
    print(f"ours, {shape}: {ours_s:.3f} s (KS + p-value, PSI, JS, Wasserstein per feature)")
    scipy_s, scipy_results = timed(lambda: [stats.ks_2samp(a, b)
                                            for a, b in zip(reference, current, strict=True)])
    worst = max(abs(r.statistic - o.statistic) for r, o in zip(scipy_results, ours, strict=True))
    print(f"scipy ks_2samp loop, same data: {scipy_s:.3f} s (the KS statistic and p-value "
          f"alone); KS statistic max |ours - scipy| {worst:.1e}")
    evidently = None if args.no_evidently else bench_evidently(reference, current, ours)

    per_100 = ours_s * 100 / args.features
    print()
    scipy_ratio = ours_s / scipy_s
    print(f"drift vs scipy, {shape}: ours {ours_s:.3f} s | reference (scipy ks_2samp loop) "
          f"{scipy_s:.3f} s | ratio {scipy_ratio:.3f}x | target faster than the loop "
          f"(ratio < 1) | {'PASS' if scipy_ratio < 1 else 'FAIL'}")
    if evidently is not None:
        tests_s, preset_s = evidently
        ratio = ours_s / tests_s
        preset = (f"; {preset_s / ours_s:.0f}x faster than its DataDriftPreset, "
                  f"{preset_s:.2f} s" if preset_s is not None else "")
        print(f"drift vs evidently, {shape}: ours {ours_s:.3f} s | reference (evidently's "
              f"stat tests, same four statistics) {tests_s:.2f} s | ratio {ratio:.4f}x "
              f"({tests_s / ours_s:.0f}x faster{preset}) | target >= 100x faster | "
              f"{'PASS' if tests_s / ours_s >= 100 else 'FAIL'}")
    print(f"drift, {shape}: ours {ours_s:.3f} s ({per_100:.2f} s per 100 features) | "
          f"reference (scipy ks_2samp loop) {scipy_s:.3f} s | ratio {scipy_ratio:.3f}x | "
          f"target < 1 s per 100 features | {'PASS' if per_100 < 1 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
