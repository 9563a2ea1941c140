"""Distribution shift: KS for numbers, chi-square for categories, with effect sizes.

A finding needs a corrected p-value *and* an effect above threshold: with 100,000
rows a KS test calls a 0.01-SD wobble significant, and nobody should be paged for
it. The effect sizes are the ones ML teams already read: PSI, Jensen-Shannon
distance and the Wasserstein distance in reference standard deviations.

Numeric samples are compared on a grid of 1,000 reference quantiles. The KS
statistic on the grid is below the exact one by at most the reference mass between
two grid points (1/1000 without ties); Wasserstein is exact outside the grid and
within one grid cell inside it. This makes 100 features x 100,000 rows take well
under a second.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from classifiers import special
from classifiers._validation import as_1d, counts_iv, positive_int_iv
from classifiers.arrays import Floats, Ints
from classifiers.results import DriftResult

_GRID = 1000
_EPS = 1e-4  # floor of a bin share in PSI, as in the usual PSI definition


def _psi(expected: Floats, actual: Floats) -> float:
    e = np.maximum(expected / max(expected.sum(), 1e-300), _EPS)
    a = np.maximum(actual / max(actual.sum(), 1e-300), _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def _jensen_shannon(p: Floats, q: Floats) -> float:
    p = p / max(p.sum(), 1e-300)
    q = q / max(q.sum(), 1e-300)
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / np.where(m > 0, m, 1)), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log2(q / np.where(m > 0, m, 1)), 0.0).sum()
    return float(math.sqrt(max(0.5 * (kl_p + kl_q), 0.0)))


def _ks_p_value(d: float, n: int, m: int) -> float:
    """Asymptotic two-sided KS p-value with the usual small-sample correction."""
    if n == 0 or m == 0:
        return 1.0
    en = math.sqrt(n * m / (n + m))
    # special.kolmogorov is the survival function of scipy.stats.kstwobign, without
    # the distribution object's argument handling (70 us a call against 0.5)
    return float(min(1.0, max(0.0, special.kolmogorov((en + 0.12 + 0.11 / en) * d))))


def _finite_copy(x: Floats, scratch: bool = False) -> Floats:
    """The finite values of ``x`` in an array of ours (it is sorted in place next).

    A boolean index copies too, but when every value is finite (the usual case) a
    plain copy gives the same array without building the index; a ``scratch`` array
    (the caller's to reorder) is then used as it is.
    """
    finite = np.isfinite(x)
    if finite.all():
        return x if scratch else x.copy()
    return x[finite]


@functools.lru_cache(maxsize=32)
def _grid_positions(size: int) -> Ints:
    """Positions of the ``_GRID + 1`` grid quantiles in a sorted sample of ``size``."""
    positions = np.linspace(0, size - 1, min(_GRID, size) + 1).astype(np.int64)
    positions.flags.writeable = False
    return positions


def _distinct_sorted(x: Floats) -> Floats:
    """``np.unique`` of values already in ascending order (no second sort)."""
    if x.size < 2:
        return x.copy()
    keep = np.empty(x.size, dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


SAMPLE = 4096  # values per side that a diagnosis's drift test reads (``sample=``)


@functools.lru_cache(maxsize=32)
def sample_positions(size: int, sample: int) -> Ints:
    """``sample`` evenly spaced positions among ``size`` (read-only, cached: the pools
    of a diagnosis come in a few sizes)."""
    positions = np.linspace(0, size - 1, sample).astype(np.int64)
    positions.flags.writeable = False
    return positions


def _thinned(x: Floats, sample: int | None) -> Floats:
    """Every ``size / sample``-th value of ``x`` (a new array), or ``x`` when it is
    no larger."""
    if sample is None or x.size <= sample:
        return x
    return x[sample_positions(x.size, sample)]


def numeric_drift(reference: object, current: object, *, bins: int = 10,
                  scratch: bool = False, sample: int | None = None) -> DriftResult:
    """Two-sample KS test of a numeric feature with PSI, JS and Wasserstein effects.

    Parameters
    ----------
    reference, current : array_like
        The samples before and after. NaN and inf are dropped.
    bins : int
        Reference-quantile bins for PSI and Jensen-Shannon (10, the usual deciles).
    scratch : bool
        The samples are float arrays the caller no longer needs in their order: they
        are sorted in place instead of copied (the result is the same).
    sample : int, optional
        Read at most this many evenly spaced values of each side (their order is
        the caller's: time order thins evenly over time). The sorts are most of the
        test's cost, and a diagnosis needs the effects, not the last decimal of the
        p-value: at 4,096 a side (:data:`SAMPLE`) the KS test still finds a shift of
        0.1 SD (p < 0.05), two thirds of the practical effect a drift finding needs
        (0.15), and the effects' noise floor on equal samples is about 0.05 (0.02 at
        20,000). The p-value is that of the values read (the effective sample
        sizes), so it is not overstated.

    Returns
    -------
    DriftResult
        ``p_value`` is 1 (and effects 0) when either sample has fewer than 2 values.

    References
    ----------
    .. [1] N. Smirnov, "Table for estimating the goodness of fit of empirical
       distributions", Ann. Math. Stat. 19 (1948) 279-281.
    .. [2] B. Yurdakul, "Statistical properties of population stability index",
       PhD thesis, Western Michigan University (2018).
    .. [3] J. Lin, "Divergence measures based on the Shannon entropy", IEEE Trans.
       Inf. Theory 37 (1991) 145-151.
    """
    bins = positive_int_iv("bins", bins, 2)
    a = as_1d("reference", reference)
    b = as_1d("current", current)
    own_a = own_b = scratch
    if sample is not None:  # a thinned side is a new array of ours
        sample = positive_int_iv("sample", sample, 2)
        own_a, own_b = own_a or a.size > sample, own_b or b.size > sample
        a, b = _thinned(a, sample), _thinned(b, sample)
    a, b = _finite_copy(a, own_a), _finite_copy(b, own_b)
    if a.size < 2 or b.size < 2:
        return DriftResult(0.0, 1.0, 0.0, 0.0, 0.0, 0.0, "ks")
    # Both samples sorted once, in place: every count below is then a binary search of
    # a few thousand grid points or edges, not of 100k values into the grid.
    a.sort()
    b.sort()
    grid = _distinct_sorted(a[_grid_positions(a.size)])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    d = float(np.max(np.abs(fa - fb)))
    sd = float(np.std(a))
    widths = np.diff(grid)
    inner = float(np.sum(np.abs(fa[:-1] - fb[:-1]) * widths)) if grid.size > 1 else 0.0
    below = int(np.searchsorted(b, grid[0], side="left"))
    above = int(np.searchsorted(b, grid[-1], side="right"))
    tails = float((grid[0] * below - b[:below].sum())
                  + (b[above:].sum() - grid[-1] * (b.size - above))) / b.size
    wasserstein = inner + tails
    w_std = wasserstein / sd if sd > 0 else (0.0 if wasserstein == 0 else math.inf)
    edges = _distinct_sorted(a[(np.arange(1, bins) * (a.size - 1)) // bins])  # a is sorted
    expected = np.diff(np.searchsorted(a, edges, side="left"), prepend=0, append=a.size)
    actual = np.diff(np.searchsorted(b, edges, side="left"), prepend=0, append=b.size)
    psi = _psi(expected.astype(float), actual.astype(float))
    js = _jensen_shannon(expected.astype(float), actual.astype(float))
    w_std = float(min(w_std, 1e6))
    effect = max(psi / 2, js, w_std)
    return DriftResult(statistic=d, p_value=_ks_p_value(d, a.size, b.size), effect=effect,
                       psi=psi, jensen_shannon=js, wasserstein_std=w_std, detector="ks")


def categorical_drift(reference: object, current: object) -> DriftResult:
    """Chi-square test of category counts with PSI and Jensen-Shannon effects.

    Parameters
    ----------
    reference, current : dict
        Category to count, before and after. Categories missing on one side count 0.

    Returns
    -------
    DriftResult
        ``wasserstein_std`` is 0 (categories have no order).

    References
    ----------
    .. [1] K. Pearson, "On the criterion that a given system of deviations ...",
       Phil. Mag. 50 (1900) 157-175.
    """
    ref = counts_iv("reference", reference)
    cur = counts_iv("current", current)
    keys = sorted(set(ref) | set(cur))
    r = np.array([ref.get(k, 0.0) for k in keys])
    c = np.array([cur.get(k, 0.0) for k in keys])
    if r.sum() <= 0 or c.sum() <= 0 or len(keys) < 2:
        return DriftResult(0.0, 1.0, 0.0, 0.0, 0.0, 0.0, "chi_square")
    table = np.vstack([r, c])
    table = table[:, table.sum(axis=0) > 0]
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    chi2 = float(np.sum((table - expected) ** 2 / expected))
    dof = max(table.shape[1] - 1, 1)
    p = float(special.chdtrc(dof, chi2))
    psi = _psi(r, c)
    js = _jensen_shannon(r, c)
    return DriftResult(statistic=chi2, p_value=p, effect=max(psi / 2, js), psi=psi,
                       jensen_shannon=js, wasserstein_std=0.0, detector="chi_square")
