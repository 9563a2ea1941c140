"""Benjamini-Hochberg control of the false discovery rate over one classification.

One diagnosis runs hundreds of tests (every signal, slice and distribution); without
a correction a healthy service would always show a few "significant" findings.
"""

from __future__ import annotations

import numpy as np

from classifiers.arrays import Floats


def benjamini_hochberg(p_values: object) -> Floats:
    """Adjusted p-values (q-values) of the Benjamini-Hochberg step-up procedure.

    Parameters
    ----------
    p_values : array_like
        Raw p-values; NaN counts as 1.

    Returns
    -------
    q : ndarray
        Adjusted p-values in the input order; ``q <= alpha`` controls the FDR at alpha.

    References
    ----------
    .. [1] Y. Benjamini and Y. Hochberg, "Controlling the false discovery rate: a
       practical and powerful approach to multiple testing", J. R. Stat. Soc. B 57
       (1995) 289-300.
    """
    p = np.asarray(p_values, dtype=float).ravel()
    if p.size == 0:
        return p
    p = np.where(np.isfinite(p), np.clip(p, 0.0, 1.0), 1.0)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty_like(p)
    q[order] = np.minimum(ranked, 1.0)
    return q
