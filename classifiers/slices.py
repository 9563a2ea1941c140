"""Slice localisation: is the failure confined to one tenant, route, version or segment?

For each slice value the change of a degraded signal inside the slice is compared
with its change in the rest of the same dimension (a difference in differences),
combined over signals, and controlled for the false discovery rate. A slice is
reported only when it is significantly worse than the rest *and* the rest moved
much less, so a failure of all traffic reports no slice at all.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from classifiers.fdr import benjamini_hochberg
from classifiers.results import SliceResult


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


def localise_slices(contrasts: Sequence[SliceContrast], *, alpha: float = 0.01,
                    concentration: float = 0.5) -> list[SliceResult]:
    """The slice values where the degradation concentrates, most significant first.

    Parameters
    ----------
    contrasts : sequence of SliceContrast
        One per (signal, slice value); several signals may test the same slice.
    alpha : float
        FDR level (Benjamini-Hochberg over all slice values).
    concentration : float
        The rest may have worsened by at most this share of the slice's worsening.

    Returns
    -------
    list of SliceResult
        Empty when nothing is confined to a slice (a global failure).

    References
    ----------
    .. [1] Y. Benjamini and Y. Hochberg (1995), see :func:`classifiers.fdr.benjamini_hochberg`.
    .. [2] S. A. Stouffer et al., "The American Soldier", vol. 1 (1949) (combining z).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    grouped: dict[tuple[str, str], list[SliceContrast]] = defaultdict(list)
    for item in contrasts:
        grouped[(item.dimension, item.value)].append(item)
    keys, z_values, effects, confined = [], [], [], []
    for key, items in grouped.items():
        zs, effs, ok = [], [], 0
        for item in items:
            se = math.hypot(item.se_in, item.se_rest)
            if se <= 0 or not math.isfinite(se):
                continue
            z_dd = (item.delta_in - item.delta_rest) / se
            z_in = item.delta_in / item.se_in if item.se_in > 0 else 0.0
            zs.append(z_dd)
            effs.append((item.delta_in - item.delta_rest) / max(item.scale, 1e-12))
            if z_in > 3 and item.delta_rest <= concentration * item.delta_in:
                ok += 1
        if not zs:
            continue
        keys.append(key)
        z_values.append(float(np.sum(zs) / math.sqrt(len(zs))))
        effects.append(float(np.median(effs)))
        confined.append(ok * 2 >= len(zs) and ok > 0)
    if not keys:
        return []
    z = np.array(z_values)
    p = special.ndtr(-z)
    q = benjamini_hochberg(p)
    found = [SliceResult(dimension=k[0], value=k[1], effect=e, p_value=float(pv), statistic=zv)
             for k, e, pv, qv, zv, c in zip(keys, effects, p, q, z, confined, strict=True)
             if c and qv <= alpha and zv > 0]
    found.sort(key=lambda r: (-r.statistic, -r.effect))
    return found
