"""NAB's scorer, written from the description in ``benchmarks/data/nab-dev/README.md``.

A detection inside a labelled window earns a reward that falls along a sigmoid from
about 1 at the window's start to 0 at its end; only the best (first) detection of a
window counts; a window with no detection costs the profile's FN weight; a detection
outside every window costs the FP weight, scaled by the same sigmoid by how far it
lies after the last window (-1, the full cost, when no window came before). The
first 15 % of each file (at most 750 points) is probation and is not scored. The
total over all files is normalised so that a detector that never fires scores 0 and
one that fires at the start of every window 100.

Kept separate from the replay so it can be checked on hand-computed cases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PROBATION_SHARE = 0.15
PROBATION_CAP = 750  # 15 % of 5,000 rows


@dataclass(frozen=True)
class Profile:
    name: str
    tp: float
    fp: float
    fn: float


PROFILES = (Profile("standard", 1.0, 0.11, 1.0),
            Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
            Profile("reward_low_FN_rate", 1.0, 0.11, 2.0))


def scaled_sigmoid(position: float) -> float:
    """1 at -inf, ~0.987 at a window's left edge (-1), 0 at its right edge, -1 from 3 on."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


_MAX_TP = scaled_sigmoid(-1.0)


def probation(rows: int) -> int:
    """Rows at the start of a file that are not scored."""
    return int(min(math.floor(PROBATION_SHARE * rows), PROBATION_SHARE * 5000))


@dataclass(frozen=True)
class FileScore:
    """One file's raw score under one profile, and what it is made of."""

    raw: float
    windows: int          # windows with scored rows
    hit: int              # of them, detected
    false_positives: int  # detections outside windows (after probation)
    first_hits: tuple[int, ...]  # row of the first detection of each hit window


def score_file(rows: int, windows: Sequence[tuple[int, int]], detections: Sequence[int],
               profile: Profile) -> FileScore:
    """Score detections (row indices) of one file against its windows (first, last row).

    Windows are inclusive row ranges in time order. The rule is NAB's sweep: each row
    gets the reward it would earn as a detection, then the rows that are detections
    are summed (FP costs) or maxed per window (TP rewards).
    """
    start = probation(rows)
    detected = sorted({int(d) for d in detections if 0 <= d < rows})
    best: dict[int, float] = {}
    first: dict[int, int] = {}
    fp_total, fp_count = 0.0, 0
    scored = [w for w, (a, b) in enumerate(windows) if b >= start]
    for d in detected:
        if d < start:
            continue
        inside = next((w for w, (a, b) in enumerate(windows) if a <= d <= b), None)
        if inside is not None:
            a, b = windows[inside]
            width = float(b - a + 1)
            reward = scaled_sigmoid(-(b - d + 1) / width) * profile.tp / _MAX_TP
            if inside not in best:
                first[inside] = d
            best[inside] = max(best.get(inside, -math.inf), reward)
            continue
        before = [w for w, (a, b) in enumerate(windows) if b < d]
        if before:
            a, b = windows[before[-1]]
            width = float(b - a + 1)
            position = abs(b - d) / (width - 1) if width > 1 else 3.0
        else:
            position = 3.0
        fp_total += scaled_sigmoid(position) * profile.fp
        fp_count += 1
    raw = fp_total + sum(best.get(w, -profile.fn) for w in scored)
    return FileScore(raw, len(scored), sum(w in best for w in scored), fp_count,
                     tuple(first[w] for w in scored if w in first))


def normalised(raw: float, windows: int, profile: Profile) -> float:
    """100 * (raw - null) / (perfect - null): never firing 0, a hit at every start 100."""
    null, perfect = -profile.fn * windows, profile.tp * windows
    return 100.0 * (raw - null) / (perfect - null) if perfect > null else 0.0


def window_rows(stamps: np.ndarray, windows: Sequence[tuple[float, float]]
                ) -> list[tuple[int, int]]:
    """Window limits (epoch seconds) as inclusive row ranges of a file's timestamps."""
    out = []
    for a, b in windows:
        first = int(np.searchsorted(stamps, a, side="left"))
        last = int(np.searchsorted(stamps, b, side="right")) - 1
        if last >= first:
            out.append((first, last))
    return out
