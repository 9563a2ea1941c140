"""The few distribution functions the detectors read, without importing scipy.

``import scipy.special`` costs more than half a second on this machine (it pulls in
scipy's array-API layer), and ``scipy.stats`` over a second: more than everything
else ``resilio classify`` does on a 20,000-record file. The detectors need only a
handful of tail probabilities, each written here from its textbook definition with
``math`` (whose ``erfc`` and ``lgamma`` are the C library's) and numpy:

- :func:`ndtr` and :func:`ndtri`, the standard normal CDF and its inverse;
- :func:`chdtrc`, the chi-square survival function (regularised upper gamma);
- :func:`kolmogorov`, the survival function of the Kolmogorov distribution;
- :func:`binom_test`, the exact binomial test (``greater`` or two-sided).

``tests/classifiers/test_special.py`` holds each to scipy over wide ranges: about
1e-13 relative in the tails that p-values read (down to 1e-300), 1e-10 for the
binomial and the gamma where ``lgamma`` of large arguments limits it (see each).
"""

from __future__ import annotations

import math
from typing import Literal, overload

import numpy as np

from classifiers.arrays import Floats

_SQRT1_2 = math.sqrt(0.5)
_SQRT_2PI = math.sqrt(2 * math.pi)
_TINY = 1e-300  # keeps Lentz's continued fractions away from a zero denominator
_EPS = 1e-16
_erfc = np.frompyfunc(math.erfc, 1, 1)


@overload
def ndtr(x: float) -> float: ...
@overload
def ndtr(x: Floats) -> Floats: ...
def ndtr(x: float | Floats) -> float | Floats:
    """P(Z <= x) for a standard normal Z, element-wise for arrays.

    As ``erfc(-x / sqrt 2) / 2``: ``erfc`` keeps its relative accuracy far into the
    tail, where ``(1 + erf) / 2`` would round to 0 long before the true value does.
    """
    if isinstance(x, np.ndarray):
        return np.asarray(0.5 * _erfc(-x * _SQRT1_2), dtype=np.float64)
    return 0.5 * math.erfc(-float(x) * _SQRT1_2)


def ndtri(p: float) -> float:
    """The x with ``ndtr(x) == p``: the normal quantile; -inf at 0, +inf at 1.

    A rational first guess (Abramowitz and Stegun 26.2.23, error < 5e-4) refined by
    Halley steps on :func:`ndtr` itself, so its accuracy is ``ndtr``'s. The upper
    half by symmetry: ``1 - p`` is exact for ``p`` in [0.5, 1].
    """
    if math.isnan(p) or not 0.0 <= p <= 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if p == 0.5:
        return 0.0
    if p > 0.5:
        return -ndtri(1.0 - p)
    t = math.sqrt(-2.0 * math.log(p))
    x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t)
          / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t ** 3))
    for _ in range(8):
        density = math.exp(-0.5 * x * x) / _SQRT_2PI
        if density == 0.0:
            break
        r = (ndtr(x) - p) / density
        step = r / (1.0 + 0.5 * x * r)
        x -= step
        if abs(step) <= 1e-15 * max(1.0, abs(x)):
            break
    return x


def kolmogorov(y: float) -> float:
    """P(K > y) for the Kolmogorov distribution (the limit of sqrt(n) times the KS D).

    Two series of the same function: the alternating one converges fast for large
    ``y`` (and is exact in the tail), the Jacobi-theta form for small ``y``, where the
    first would need many terms and cancel.
    """
    if math.isnan(y):
        return math.nan
    if y <= 0.0:
        return 1.0
    if y < 1.0:
        w = -(math.pi ** 2) / (8.0 * y * y)
        total = sum(math.exp(w * (2 * k - 1) ** 2) for k in range(1, 12))
        return max(0.0, 1.0 - _SQRT_2PI / y * total)
    total = 0.0
    for k in range(1, 40):
        term = math.exp(-2.0 * k * k * y * y)
        total += term if k % 2 else -term
        if term < 1e-18 * total:
            break
    return min(1.0, 2.0 * total)


def gammaincc(a: float, x: float) -> float:
    """The regularised upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a).

    Below ``x = a + 1`` the power series of P = 1 - Q (Q is then at least ~0.3, so
    the subtraction keeps its relative accuracy); above it, Legendre's continued
    fraction for Q by Lentz's method. The prefactor ``x^a e^-x / Gamma(a)`` is taken
    in logs, which for ``a`` and ``x`` near 1e4 costs ~1e-11 relative.
    """
    if math.isnan(a) or math.isnan(x) or a <= 0.0:
        return math.nan
    if x <= 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        n = a
        for _ in range(100_000):
            n += 1.0
            term *= x / n
            total += term
            if term < total * _EPS:
                break
        return max(0.0, 1.0 - math.exp(log_front) * total)
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(log_front) * h


def chdtrc(df: float, x: float) -> float:
    """P(X > x) for a chi-square X with ``df`` degrees of freedom: Q(df/2, x/2)."""
    return gammaincc(0.5 * df, 0.5 * x)


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta I_x(a, b), by its continued fraction.

    The fraction converges fast for ``x < (a + 1) / (a + b + 2)``; past that the
    symmetry ``I_x(a, b) = 1 - I_{1-x}(b, a)`` is used instead. The front factor is
    taken in logs (``lgamma``, ``log1p``): ~1e-10 relative for ``a + b`` near 1e4.
    """
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - betainc(b, a, 1.0 - x)
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    return math.exp(log_front) * _beta_fraction(a, b, x) / a


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (its even and odd steps), by Lentz's method."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (_TINY if abs(d) < _TINY else d)
    h = d
    for m in range(1, 100_000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (_TINY if abs(d) < _TINY else d)
            c = 1.0 + numerator / c
            c = _TINY if abs(c) < _TINY else c
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def binom_pmf(k: int, n: int, p: float) -> float:
    """P(X = k) for X ~ Binomial(n, p), in logs (``lgamma``) so large ``n`` cannot overflow."""
    if k < 0 or k > n:
        return 0.0
    if p == 0.0 or p == 1.0:
        return 1.0 if k == (0 if p == 0.0 else n) else 0.0
    return math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                    + k * math.log(p) + (n - k) * math.log1p(-p))


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) = I_{1-p}(n - k, k + 1)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return betainc(n - k, k + 1, 1.0 - p)


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X > k) = I_p(k + 1, n - k): the upper tail without ``1 - cdf``'s cancellation."""
    if k < 0:
        return 1.0
    if k >= n:
        return 0.0
    return betainc(k + 1, n - k, p)


_RELATIVE_TIE = 1 + 1e-7  # outcomes this close in probability to the observed one count


def binom_test(k: int, n: int, p: float,
               alternative: Literal["two-sided", "greater"] = "two-sided") -> float:
    """The exact binomial test's p-value for ``k`` successes in ``n`` trials at rate ``p``.

    ``greater``: P(X >= k). Two-sided: the total probability of the outcomes no more
    likely than the one observed (within a relative 1e-7, so that rounding cannot
    split equal probabilities), the usual definition (it is ``scipy.stats.binomtest``'s).
    The other tail's boundary is found by bisection: the probabilities fall away from
    the mode on either side.
    """
    if not 0 <= k <= n:
        raise ValueError(f"k must lie in 0..n, got k={k}, n={n}")
    if alternative == "greater":
        return binom_sf(k - 1, n, p)
    mean = p * n
    if k == mean:
        return 1.0
    limit = binom_pmf(k, n, p) * _RELATIVE_TIE
    if k < mean:  # the upper tail: the first j >= ceil(np) with pmf(j) <= limit
        lo, hi = math.ceil(mean), n + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if binom_pmf(mid, n, p) <= limit:
                hi = mid
            else:
                lo = mid + 1
        return min(1.0, binom_cdf(k, n, p) + binom_sf(lo - 1, n, p))
    lo, hi = -1, math.floor(mean)  # the lower tail: the last j <= floor(np) with pmf <= limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if binom_pmf(mid, n, p) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return min(1.0, binom_cdf(lo, n, p) + binom_sf(k - 1, n, p))
