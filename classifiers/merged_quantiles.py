"""Quantiles of the union of a few sorted rows, without merging them.

A distribution's onset scan (``bot.diagnosis.detect``) measures each record against
the pooled first records: it needs five quantiles of the pool, whose records it has
already sorted one by one. Merging the sorted rows (a stable sort of the pool) cost
more than everything else the reference needs; but a quantile reads only two order
statistics, and each lies in a narrow band of values that the rows' own order
statistics bracket, so only that band is sorted.
"""

from __future__ import annotations

import numpy as np

from classifiers.arrays import Floats


def sorted_quantiles(part: Floats, q: Floats) -> Floats:
    """``np.quantile(part, q, axis=-1)`` (linear method) of rows in ascending order.

    numpy's interpolation, term for term (the lower order statistic plus a share of
    the gap, or the upper one minus the rest of it), so the values are the same.
    """
    lo, hi, g = _ranks(part.shape[-1], q)
    return _interpolated(part[..., lo], part[..., hi], g)


def merged_quantiles(rows: Floats, q: Floats) -> Floats:
    """``np.quantile(rows.reshape(-1), q)`` (linear method) of a 2-D array whose rows
    are each in ascending order: the same values, with no sort of the whole pool.

    The interpolation is :func:`sorted_quantiles`'; only the two order statistics
    each quantile reads are taken (:func:`merged_order_stats`, from one band).
    """
    lo, hi, g = _ranks(rows.size, q)
    a, b = merged_order_stats(rows, lo, hi)
    return _interpolated(a, b, g)


def merged_order_stats(rows: Floats, first: np.ndarray,
                       last: np.ndarray | None = None) -> tuple[Floats, Floats]:
    """The ``first``-th and ``last``-th smallest values (0-based ranks, ``first <=
    last`` pairwise) of all values of ``rows``, a 2-D array of ``m`` rows each in
    ascending order, exactly. ``last`` defaults to ``first``.

    With ``c = rank // m``, every row has ``c + 1`` values at most the largest of
    the rows' ``c``-th values, so at least ``m (c + 1) > rank`` values of the pool are
    at most it; and at most ``c`` values of each row lie below the smallest of them,
    at most ``m c <= rank`` in all. So the value of rank ``first`` is at least the
    smallest of the rows' ``first // m``-th values (``low``) and that of rank
    ``last`` at most the largest of their ``last // m``-th values (``high``): both
    are among the values in ``[low, high]``, at their rank less the count below
    ``low``, and only those are sorted (the rows' quantiles differ by their sampling
    noise, so they are a few per cent of the pool; all of it at worst). Ties need no
    care: the values are what is asked for, not their positions.
    """
    m = rows.shape[0]
    first = np.asarray(first, dtype=np.int64)
    last = first if last is None else np.asarray(last, dtype=np.int64)
    low = rows[:, first // m].min(axis=0)
    high = rows[:, last // m].max(axis=0)
    starts = [np.searchsorted(row, low, side="left") for row in rows]
    stops = [np.searchsorted(row, high, side="right") for row in rows]
    below = np.sum(starts, axis=0)
    at_first, at_last = np.empty(first.size), np.empty(first.size)
    for j in range(first.size):
        band = np.concatenate([row[a[j]:b[j]] for row, a, b in
                               zip(rows, starts, stops, strict=True)])
        band.sort()
        at_first[j] = band[first[j] - below[j]]
        at_last[j] = band[last[j] - below[j]]
    return at_first, at_last


def _ranks(n: int, q: Floats) -> tuple[np.ndarray, np.ndarray, Floats]:
    """The order statistics a linear quantile of ``n`` values reads, and the share."""
    virtual = q * (n - 1)
    lo = np.floor(virtual).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    return lo, hi, virtual - lo


def _interpolated(a: Floats, b: Floats, g: Floats) -> Floats:
    diff = b - a
    return np.where(g >= 0.5, b - diff * (1 - g), a + diff * g)
