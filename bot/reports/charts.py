"""The digest's charts as PNG bytes: budget burn-down, incidents by class, cost trend.

Built on ``matplotlib.figure.Figure`` with the Agg canvas, never ``pyplot``: no
global figure state, so digests can render on several threads, and no display
is needed. A chart with nothing to draw is ``None`` and the report says so in
words instead of showing an empty frame.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.reports.content import Digest
from bot.reports.cost import CostRow
from bot.reports.incidents import CLASS_ORDER
from bot.reports.slos import SLOWeek

MAX_BURN_PANELS = 12
MAX_COST_LINES = 5
DPI = 96
# A title placed at the top of its axes, where matplotlib's automatic placement puts it
# for these charts (nothing is drawn above them): given, the placement is not computed
# at every draw, which measured the axes' tight boxes and was a third of a digest's charts.
TITLE_Y = 1.0
CLASS_COLOURS = {
    "infrastructure": "#4e79a7", "data": "#f28e2b", "control_plane": "#76b7b2",
    "model": "#e15759", "eval_policy": "#b07aa1", "cost": "#edc948", "none": "#bab0ac",
    "unclassified": "#9c755f",
}


def png_bytes(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _day_axis(axes: Any, first: datetime, days: int = 14) -> None:
    """Ticks every other day on an axis counted in days from ``first`` (cheaper than dates)."""
    ticks = list(range(0, days + 1, 2))
    axes.set_xticks(ticks, [f"{first + timedelta(days=d):%d %b}" for d in ticks])
    axes.set_xlim(0, days)


def burn_down(slos: Sequence[SLOWeek], week_start: datetime) -> bytes | None:
    """Budget left over the two weeks for the SLOs with the least left, one panel each."""
    drawn = [s for s in slos if any(v is not None for v in s.burn_left)]
    if not drawn:
        return None
    drawn.sort(key=lambda s: (s.budget_left if s.budget_left is not None else float("inf"),
                              s.key))
    drawn = drawn[:MAX_BURN_PANELS]
    columns = min(3, len(drawn))
    rows = -(-len(drawn) // columns)
    first = week_start - timedelta(days=7)
    figure = Figure(figsize=(3.6 * columns, 2.3 * rows + 0.5))
    figure.subplots_adjust(left=0.08, right=0.98, top=1 - 0.45 / (2.3 * rows + 0.5),
                           bottom=0.35 / (2.3 * rows + 0.5), hspace=0.55, wspace=0.3)
    for index, slo in enumerate(drawn):
        axes = figure.add_subplot(rows, columns, index + 1)
        days = [(moment - first).total_seconds() / 86_400.0 for moment in slo.burn_times]
        axes.plot(days, [float("nan") if v is None else 100.0 * v for v in slo.burn_left],
                  color="#4e79a7", linewidth=1.4)
        axes.axhline(0, color="#e15759", linewidth=0.8)
        axes.axvline(7, color="#888888", linewidth=0.8, linestyle="--")
        axes.set_title(f"{slo.key}: {_pct(slo.budget_left)} left", fontsize=8, y=TITLE_Y)
        axes.tick_params(labelsize=6)
        _day_axis(axes, first)
        if index % columns == 0:
            axes.set_ylabel("budget left %", fontsize=7)
    figure.suptitle("Error budget left, the SLOs with the least left "
                    "(dashed: start of this week)", fontsize=10)
    return png_bytes(figure)


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{100.0 * value:.1f}%"


def incidents_by_class(weekly: Sequence[tuple[str, dict[str, int]]]) -> bytes | None:
    if not any(counts for _, counts in weekly):
        return None
    figure = Figure(figsize=(7.5, 3.0))
    figure.subplots_adjust(left=0.08, right=0.78, top=0.88, bottom=0.12)
    axes = figure.add_subplot()
    labels = [week for week, _ in weekly]
    bottoms = [0] * len(weekly)
    for label in CLASS_ORDER:
        heights = [counts.get(label, 0) for _, counts in weekly]
        if any(heights):
            axes.bar(labels, heights, bottom=bottoms, label=label,
                     color=CLASS_COLOURS.get(label, "#555555"))
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    axes.set_ylabel("incidents")
    axes.set_title("Incidents by failure class per week", fontsize=10, y=TITLE_Y)
    locator = axes.yaxis.get_major_locator()  # matplotlib's default: an AutoLocator
    if isinstance(locator, MaxNLocator):
        locator.set_params(integer=True)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.tick_params(labelsize=7)
    return png_bytes(figure)


def _values(values: Sequence[float | None]) -> list[float]:
    return [float("nan") if v is None else v for v in values]


def cost_trend(days: Sequence[date], team: CostRow, rows: Sequence[CostRow],
               week_start: datetime) -> bytes | None:
    if not rows:
        return None
    figure = Figure(figsize=(7.5, 4.6))
    figure.subplots_adjust(left=0.1, right=0.76, top=0.92, bottom=0.08, hspace=0.35)
    shown = list(rows[:MAX_COST_LINES]) if len(rows) > 1 else []
    x = [i + 0.5 for i in range(len(days))]  # the middle of each day
    first = week_start - timedelta(days=7)
    for index, (title, attribute) in enumerate((("cost per 1k requests ($)", "daily_cost"),
                                                ("tokens per request", "daily_tokens"))):
        axes = figure.add_subplot(2, 1, index + 1)
        axes.plot(x, _values(getattr(team, attribute)), color="#222222", linewidth=2.0,
                  marker="o", markersize=2.5, label="all services")
        for row in shown:
            axes.plot(x, _values(getattr(row, attribute)), linewidth=1.0, marker="o",
                      markersize=2.5, label=row.service)
        axes.axvline(7, color="#888888", linewidth=0.8, linestyle="--")
        axes.set_ylabel(title, fontsize=8)
        axes.tick_params(labelsize=7)
        _day_axis(axes, first, len(days))
        if index == 0:
            axes.set_title("Cost trend, daily (dashed: start of this week)", fontsize=10,
                           y=TITLE_Y)
            axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return png_bytes(figure)


def digest_charts(digest: Digest) -> dict[str, bytes | None]:
    """Every chart of a digest by name (``None`` where there is nothing to draw)."""
    start = digest.week.start
    return {
        "burn_down": burn_down(digest.slos, start),
        "incidents": incidents_by_class(digest.weekly_classes),
        "cost": cost_trend(digest.cost.days, digest.cost.team, digest.cost.services, start),
    }
