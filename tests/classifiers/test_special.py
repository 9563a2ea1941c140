"""``classifiers.special`` against scipy (which the tests may import) over wide ranges.

The detectors read these as p-values and thresholds: the tails matter as much as the
middle, so each is compared relatively down to 1e-300 (or where it underflows).
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import special as scipy_special
from scipy import stats

from classifiers import special


def _relative(ours: float, theirs: float) -> float:
    return abs(ours - theirs) / max(abs(theirs), 1e-300)


def test_ndtr_matches_scipy_into_both_tails() -> None:
    x = np.linspace(-37.5, 37.5, 30_001)
    theirs = scipy_special.ndtr(x)
    ours = special.ndtr(x)
    assert ours.dtype == np.float64 and ours.shape == x.shape
    assert np.max(np.abs(ours - theirs) / np.maximum(theirs, 1e-300)) < 1e-12
    assert max(_relative(special.ndtr(float(v)), float(t))
               for v, t in zip(x[::97], theirs[::97], strict=True)) < 1e-12
    assert special.ndtr(-40.0) == 0.0 or special.ndtr(-40.0) < 1e-300
    assert special.ndtr(math.inf) == 1.0 and special.ndtr(-math.inf) == 0.0


def test_ndtri_inverts_ndtr_down_to_1e_300() -> None:
    p = np.concatenate([np.logspace(-300, -1, 3_000), np.linspace(0.01, 0.99, 999),
                        1 - np.logspace(-16, -1, 500)])
    for value in p:
        theirs = float(scipy_special.ndtri(value))
        assert abs(special.ndtri(float(value)) - theirs) <= 1e-13 * max(1.0, abs(theirs))
    assert special.ndtri(0.0) == -math.inf and special.ndtri(1.0) == math.inf
    assert math.isnan(special.ndtri(1.5)) and math.isnan(special.ndtri(-0.1))
    assert special.ndtri(0.5) == 0.0


def test_kolmogorov_matches_scipy_where_both_series_meet() -> None:
    for y in np.linspace(0.0, 27.0, 6_001):
        theirs = float(scipy_special.kolmogorov(y))
        if theirs > 1e-300:
            assert _relative(special.kolmogorov(float(y)), theirs) < 1e-13, y
    assert special.kolmogorov(-1.0) == 1.0
    assert special.kolmogorov(40.0) == 0.0


@pytest.mark.parametrize("df", [*range(1, 40), 57, 100, 499, 1000, 5000, 0.5, 2.5, 7.3])
def test_chdtrc_matches_scipy_from_the_middle_to_the_far_tail(df: float) -> None:
    points = np.concatenate([np.logspace(-8, 0.5, 40) * df, np.linspace(0.5, 12, 60) * df,
                             [df + 40 * math.sqrt(df) * i for i in range(1, 25)]])
    for q in points:
        theirs = float(scipy_special.chdtrc(df, q))
        if theirs > 1e-300:
            assert _relative(special.chdtrc(df, float(q)), theirs) < 1e-10, (df, q)
    assert special.chdtrc(df, 0.0) == 1.0 and special.chdtrc(df, math.inf) == 0.0


def test_betainc_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    for _ in range(2_000):
        a, b = (float(v) for v in rng.choice([0.5, 1, 3, 20, 300, 5000], 2)
                * rng.uniform(0.5, 1.5, 2))
        x = float(rng.uniform())
        theirs = float(scipy_special.betainc(a, b, x))
        if theirs > 1e-300:
            assert _relative(special.betainc(a, b, x), theirs) < 1e-10, (a, b, x)


def _binomial_cases(count: int) -> list[tuple[int, int, float]]:
    rng = np.random.default_rng(1)
    cases = [(0, 1, 0.3), (1, 1, 0.3), (5, 10, 0.5), (0, 20_000, 1e-6), (20_000, 20_000, 0.99)]
    for _ in range(count):
        n = int(rng.choice([1, 2, 5, 10, 30, 100, 1_000, 10_000, 20_000])) + int(rng.integers(5))
        p = float(rng.choice([1e-6, 1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.7, 0.99])
                  * rng.uniform(0.5, 1))
        k = (int(rng.integers(0, n + 1)) if rng.random() < 0.5
             else min(n, int(rng.poisson(n * p * rng.uniform(0.3, 3)))))
        cases.append((k, n, p))
    return cases


@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
def test_binom_test_matches_scipy_binomtest(alternative: str) -> None:
    """To 1e-10 relative for n up to 20,000 wherever the p-value is above 1e-250
    (below that scipy's own pmf underflows first and the two part ways)."""
    for k, n, p in _binomial_cases(500):
        theirs = float(stats.binomtest(k, n, p, alternative=alternative).pvalue)
        ours = special.binom_test(k, n, p, alternative)  # type: ignore[arg-type]
        if theirs > 1e-250:
            assert _relative(ours, theirs) < 1e-10, (k, n, p, ours, theirs)
        else:
            assert ours < 1e-240
    with pytest.raises(ValueError, match="0..n"):
        special.binom_test(5, 4, 0.5)


def test_binomial_tails_add_up() -> None:
    for k, n, p in _binomial_cases(200):
        whole = special.binom_cdf(k, n, p) + special.binom_sf(k, n, p)
        assert whole == pytest.approx(1.0, rel=1e-11)
        assert special.binom_pmf(k, n, p) == pytest.approx(
            float(stats.binom.pmf(k, n, p)), rel=1e-10, abs=1e-300)


def test_the_diagnosis_imports_no_scipy() -> None:
    """What the module is for: ``resilio classify`` starts without scipy."""
    code = ("import sys, bot.diagnosis.pipeline, bot.cli.signals, classifiers.drift, "
            "classifiers.watch_test, classifiers.states\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
