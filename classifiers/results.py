"""Frozen results of the detectors and the classifier, in the manner of ``scipy.stats``.

Every detector returns one of these instead of a bare tuple, so a caller reads
``result.p_value`` and ``result.effect`` by name and a result can be logged,
compared in tests and turned into JSON without knowing which detector made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ShiftResult:
    """A level change in one series (gauge, rate or a per-sample summary).

    Attributes
    ----------
    statistic : float
        The test statistic, a z score, signed (positive means the series rose): the
        step over its standard error (``robust_shift``, ``rate_test``) or the growth's
        slope over its standard error (``lag_growth``). Onset intervals read it as
        one (:func:`classifiers.onsets.onset_interval`).
    p_value : float
        Two-sided p-value of "no change at ``onset``" (before multiple-testing correction).
    effect : float
        Standardised size of the change: shift over the baseline's point-to-point
        spread (gauges), or Cohen's h (rates). Signed like ``statistic``.
    onset : int
        Index of the first sample after the change; ``-1`` when there is no data.
    relative : float
        Shift relative to the baseline level (0.25 means 25 % higher).
    before : float
        Baseline level (median, or pooled rate) the shift is measured from.
    after : float
        Level after the onset.
    detector : str
        Which detector made it (``robust_shift``, ``rate_test``, ``lag_growth`` ...).
    recovered : int
        Index where the last earlier excursion that returned to baseline had recovered
        (that excursion was left out of the test as history); ``-1`` when there was none.
    recurring : bool
        The change looks like the series' own rhythm: at least two earlier excursions
        on the same side and of about its size came and went, and this one has not
        outlasted them yet (a batch job's latency spike every half hour).
    """

    statistic: float
    p_value: float
    effect: float
    onset: int
    relative: float = 0.0
    before: float = 0.0
    after: float = 0.0
    detector: str = "robust_shift"
    recovered: int = -1
    recurring: bool = False


@dataclass(frozen=True)
class DriftResult:
    """A distribution shift between a reference sample and a current one.

    Attributes
    ----------
    statistic : float
        KS distance (numeric) or the chi-square statistic (categories).
    p_value : float
        p-value of "same distribution" (before multiple-testing correction).
    effect : float
        The effect size the finding rule uses: the largest of PSI/2, Jensen-Shannon
        distance and Wasserstein distance over the reference standard deviation.
    psi : float
        Population stability index over reference-quantile bins.
    jensen_shannon : float
        Jensen-Shannon distance (base 2, in 0..1).
    wasserstein_std : float
        Earth mover's distance over the reference standard deviation (numeric only).
    detector : str
        ``ks`` or ``chi_square``.
    """

    statistic: float
    p_value: float
    effect: float
    psi: float
    jensen_shannon: float
    wasserstein_std: float = 0.0
    detector: str = "ks"


@dataclass(frozen=True)
class StateResult:
    """Served-versus-expected states, or a switch of the served value.

    Attributes
    ----------
    statistic : float
        Share of samples after the onset that disagree with the expected value
        (``state_mismatch``) or that differ from the usual value (``state_switch``).
    p_value : float
        Exact binomial p-value of that share against the baseline's share.
    effect : float
        The rise in that share (0..1).
    onset : int
        Index of the first disagreeing sample of the final run.
    detector : str
        ``state_mismatch`` or ``state_switch``.
    """

    statistic: float
    p_value: float
    effect: float
    onset: int
    detector: str = "state_mismatch"


@dataclass(frozen=True)
class SliceResult:
    """One slice value tested against the rest of its dimension."""

    dimension: str
    value: str
    effect: float
    p_value: float
    statistic: float
    share: float = float("nan")        # of the global excess this slice accounts for
    heterogeneity_p: float = float("nan")  # its dimension's values moved alike (Cochran Q)


@dataclass(frozen=True)
class ChangeScore:
    """How well one change explains an onset and a behaviour (higher is better)."""

    index: int
    score: float
    time_fit: float
    kind_fit: float
    minutes_before_onset: float
    corroborated: bool = False  # the layer the change acts on moved: kind_fit is at least
    #                             CORROBORATED_FIT (classifiers.attribution)


@dataclass(frozen=True)
class Posterior:
    """The behaviour classifier's answer.

    Attributes
    ----------
    label : str
        The most probable failure class.
    confidence : float
        Its posterior probability.
    scores : dict
        Label to posterior probability (sums to 1).
    reasons : tuple of str
        The few contributions that decided it, most important first.
    pattern : str
        The feature pattern (root layers, moved layers, change kinds) learned
        corrections are keyed on.
    """

    label: str
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    pattern: str = ""


@dataclass(frozen=True)
class OnsetInterval:
    """Where a change point lies (epoch seconds): the estimate and an interval around it.

    Attributes
    ----------
    onset : float
        The detector's estimate.
    low, high : float
        The interval; ``low`` is further from the estimate than ``high`` because a
        step shows only once enough points after it have moved.
    resolution : float
        The series' sampling interval (seconds).
    """

    onset: float
    low: float
    high: float
    resolution: float
