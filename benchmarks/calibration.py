"""How the behaviour fit's confidence is calibrated across sources, and its picture.

The fitted scores are divided by one temperature. Chosen by leave-one-source-out
log-loss alone it follows whichever sources happen to be fitted: on the simulator and
the hand-written cases (one author's premises) the held-out pair always asks for no
softening (T 1.0), and the independent source, left out, then came out at ECE 0.15
where it needs about 2. A temperature's evidence is the *sources* held out, not the
incidents in them: a hundred incidents of an easy source say nothing about how far an
unseen source lies. So the held-out sources are the likelihood, one observation each
(the per-source mean log-loss, each label weighing alike, summed over sources), and a
log-normal prior on the temperature says what one source cannot: fitted weights are
over-confident on a source written from other premises. With two or three sources the
prior mostly decides; as sources are added the data take over.

The prior's centre, 1.5, is the temperature the three-source leave-one-out chose in
the fit of the previous session, so it has seen the independent source: the held-out
figure of that source is out of sample for the weights but not fully for the
temperature (the fit prints the prior beside the temperature it chose).

``python benchmarks/fit_behaviour.py fit`` draws the reliability diagram
(:func:`draw_reliability`) of the held-out and the shipped predictions per source.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

TEMPERATURE_GRID = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
TEMPERATURE_PRIOR = 1.5      # centre of the log-normal prior (see the module's docstring)
TEMPERATURE_PRIOR_SD = 0.25  # its SD in ln T: 1.5 x/÷ 1.28


def temperature_penalty(temperature: float) -> float:
    """Negative log prior density of ``temperature`` (up to a constant)."""
    return (math.log(temperature) - math.log(TEMPERATURE_PRIOR)) ** 2 / (
        2 * TEMPERATURE_PRIOR_SD ** 2)


def choose_temperature(held_out_loss: Mapping[str, Callable[[float], float]]) -> float:
    """The grid temperature of least posterior loss.

    ``held_out_loss[source](T)`` is the mean log-loss of ``source``'s incidents under
    weights fitted without it, divided by ``T``. With no source to hold out, the prior's
    centre.
    """
    if not held_out_loss:
        return TEMPERATURE_PRIOR

    def objective(temperature: float) -> float:
        data = sum(loss(temperature) for loss in held_out_loss.values())
        return data + temperature_penalty(temperature)

    return min(TEMPERATURE_GRID, key=objective)


def reliability_bins(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10
                     ) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) of each non-empty equal-width confidence bin,
    the bins of ``benchmarks.accuracy.expected_calibration_error``."""
    c = np.asarray(confidence, float)
    ok = np.asarray(correct, float)
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (c > lo) & (c <= hi) if lo > 0 else (c >= lo) & (c <= hi)
        if inside.any():
            out.append((float(c[inside].mean()), float(ok[inside].mean()), int(inside.sum())))
    return out


Curve = tuple[str, Sequence[float], Sequence[bool], float]   # name, confidence, correct, ECE


def draw_reliability(panels: Mapping[str, Sequence[Curve]], path: Path) -> None:
    """One panel per title, one line per curve: accuracy against confidence per bin,
    marker area by the bin's count, the diagonal a calibrated classifier follows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 5.0), squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels.items(), strict=True):
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1)
        for name, confidence, correct, ece in curves:
            points = reliability_bins(confidence, correct)
            xs, ys, ns = zip(*points, strict=True) if points else ((), (), ())
            line, = ax.plot(xs, ys, marker="", label=f"{name} (ECE {ece:.3f}, n {len(correct)})")
            ax.scatter(xs, ys, s=[12 + 3 * n for n in ns], color=line.get_color(), alpha=0.7)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("confidence (bin mean)")
        ax.set_ylabel("accuracy in bin")
        ax.set_title(title)
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
