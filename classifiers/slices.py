"""Slice localisation: is the failure confined to one tenant, route, version or segment?

For each slice value the change of a degraded signal inside the slice is compared
with its change in the rest of the same dimension (a difference in differences),
combined over signals, and controlled for the false discovery rate. A slice is
reported only when

- it is significantly worse than the rest *and* the rest moved much less;
- its dimension's values did not all move alike: Cochran's Q over the values'
  changes rejects homogeneity (Benjamini-Hochberg over signal x dimension), so an
  all-traffic failure in which every tenant moved by about the same, with one a
  little more by chance, names no tenant;
- it accounts for most of the global excess: its traffic share times its change,
  over the sum of that product across its dimension's values, is at least
  ``min_share``. The share is reported with the slice.

So a failure of all traffic reports no slice at all.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from classifiers import special
from classifiers.fdr import benjamini_hochberg
from classifiers.results import SliceResult
from classifiers.robust import median_of


@dataclass(frozen=True)
class SliceContrast:
    """One signal's change inside one slice value and in the rest of its dimension.

    ``delta_*`` are signed so that positive is worse; ``se_*`` their standard errors;
    ``scale`` the signal's baseline spread, to report a unit-free effect.
    """

    dimension: str
    value: str
    delta_in: float
    se_in: float
    delta_rest: float
    se_rest: float
    scale: float = 1.0
    signal: str = ""               # which signal (contrasts of one signal share a dimension)
    weight: float = float("nan")   # the value's share of its dimension's traffic
    evidence: float = 1.0          # how clearly the signal itself moved (its vote's weight)


def _heterogeneity(contrasts: Sequence[SliceContrast]) -> dict[tuple[str, str], float]:
    """Cochran's Q p-value per (signal, dimension): did its values move alike?"""
    groups: dict[tuple[str, str], list[SliceContrast]] = defaultdict(list)
    for c in contrasts:
        groups[(c.signal, c.dimension)].append(c)
    out = {}
    for key, items in groups.items():
        d = np.array([c.delta_in for c in items])
        se = np.array([c.se_in for c in items])
        ok = np.isfinite(d) & np.isfinite(se) & (se > 0)
        if ok.sum() < 2:
            out[key] = 1.0
            continue
        w = 1.0 / se[ok] ** 2
        mean = float((w * d[ok]).sum() / w.sum())
        q = float((w * (d[ok] - mean) ** 2).sum())
        out[key] = float(special.chdtrc(int(ok.sum()) - 1, q))  # chi2.sf(q, df)
    return out


SHARE_NOISE_Z = 2.0  # a value's worsening counts toward the excess past this many SEs


def _shares(contrasts: Sequence[SliceContrast]) -> dict[tuple[str, str, str], float]:
    """Per (signal, dimension, value): its part of the dimension's traffic-weighted excess.

    Each value's worsening counts past ``SHARE_NOISE_Z`` standard errors only (a soft
    threshold): a large value that moved by its noise would otherwise weigh in by its
    traffic, and a canary on 8 % of traffic whose whole excess is its own would be
    said to explain less than half of it because the other 92 % wobbled.
    """
    groups: dict[tuple[str, str], list[SliceContrast]] = defaultdict(list)
    for c in contrasts:
        groups[(c.signal, c.dimension)].append(c)
    out = {}
    for (signal, dim), items in groups.items():
        weights = np.array([c.weight for c in items], dtype=float)
        if not np.all(np.isfinite(weights)) or weights.sum() <= 0:
            weights = np.ones(len(items))
        weights = weights / weights.sum()
        excess = np.array([max(c.delta_in - SHARE_NOISE_Z * _finite(c.se_in), 0.0)
                           for c in items]) * weights
        total = float(excess.sum())
        for c, e in zip(items, excess, strict=True):
            out[(signal, dim, c.value)] = float(e / total) if total > 0 else 0.0
    return out


def _finite(se: float) -> float:
    return se if math.isfinite(se) and se > 0 else 0.0


def _one_slice(items: Sequence[SliceContrast], het: dict[tuple[str, str], float],
               het_q: dict[tuple[str, str], float],
               share_of: dict[tuple[str, str, str], float], alpha: float, concentration: float
               ) -> tuple[float, float, float, float, bool] | None:
    """One slice value over the signals that test it: Stouffer z of the difference in
    differences, median effect, share, least heterogeneity p, and whether signals
    holding at least half of the evidence show it confined (worse inside, the rest
    barely moved, the dimension heterogeneous). Each signal's vote and share weigh
    by its ``evidence``: a token count that tripled decides where a prompt bloat
    lives, not a faint error blip on another layer that moved elsewhere by chance.
    ``None`` when no signal gives a usable standard error."""
    zs, effs, votes, ok = [], [], [], 0.0
    item_shares, item_het = [], []
    for item in items:
        se = math.hypot(item.se_in, item.se_rest)
        if se <= 0 or not math.isfinite(se):
            continue
        z_in = item.delta_in / item.se_in if item.se_in > 0 else 0.0
        zs.append((item.delta_in - item.delta_rest) / se)
        effs.append((item.delta_in - item.delta_rest) / max(item.scale, 1e-12))
        differs = float(het_q.get((item.signal, item.dimension), 1.0)) <= alpha
        vote = max(float(item.evidence), 1e-6) if math.isfinite(item.evidence) else 1.0
        votes.append(vote)
        if z_in > 3 and item.delta_rest <= concentration * item.delta_in and differs:
            ok += vote
        item_shares.append(share_of.get((item.signal, item.dimension, item.value), 0.0))
        item_het.append(het.get((item.signal, item.dimension), 1.0))
    if not zs:
        return None
    total = float(np.sum(votes))
    share = float(np.dot(votes, item_shares) / total)
    return (float(np.sum(zs) / math.sqrt(len(zs))), median_of(effs), share,
            float(np.min(item_het)), ok * 2 >= total and ok > 0)


def localise_slices(contrasts: Sequence[SliceContrast], *, alpha: float = 0.01,
                    concentration: float = 0.5, min_share: float = 0.5) -> list[SliceResult]:
    """The slice values where the degradation concentrates, most significant first.

    Parameters
    ----------
    contrasts : sequence of SliceContrast
        One per (signal, slice value); several signals may test the same slice.
    alpha : float
        FDR level (Benjamini-Hochberg over all slice values).
    concentration : float
        The rest may have worsened by at most this share of the slice's worsening.
    min_share : float
        The least part of the global excess the slice must account for.

    Returns
    -------
    list of SliceResult
        Empty when nothing is confined to a slice (a global failure).

    References
    ----------
    .. [1] Y. Benjamini and Y. Hochberg (1995), see :func:`classifiers.fdr.benjamini_hochberg`.
    .. [2] S. A. Stouffer et al., "The American Soldier", vol. 1 (1949) (combining z).
    .. [3] W. G. Cochran, "The combination of estimates from different experiments",
       Biometrics 10 (1954), pp. 101-129 (the Q test of homogeneity).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    het = _heterogeneity(contrasts)
    het_keys = list(het)
    het_q = dict(zip(het_keys, benjamini_hochberg([het[k] for k in het_keys]), strict=True)
                 ) if het_keys else {}
    share_of = _shares(contrasts)
    grouped: dict[tuple[str, str], list[SliceContrast]] = defaultdict(list)
    for item in contrasts:
        grouped[(item.dimension, item.value)].append(item)
    keys, z_values, effects, confined, shares, het_p = [], [], [], [], [], []
    for key, items in grouped.items():
        combined = _one_slice(items, het, het_q, share_of, alpha, concentration)
        if combined is None:
            continue
        z_value, effect, share, het_min, ok = combined
        keys.append(key)
        z_values.append(z_value)
        effects.append(effect)
        shares.append(share)
        het_p.append(het_min)
        confined.append(ok and share >= min_share)
    if not keys:
        return []
    z = np.array(z_values)
    p = special.ndtr(-z)
    q = benjamini_hochberg(p)
    found = [SliceResult(dimension=k[0], value=k[1], effect=e, p_value=float(pv), statistic=zv,
                         share=sh, heterogeneity_p=hp)
             for k, e, pv, qv, zv, c, sh, hp in zip(keys, effects, p, q, z, confined, shares,
                                                    het_p, strict=True)
             if c and qv <= alpha and zv > 0]
    return sorted(found, key=lambda r: (-r.statistic, -r.effect))
