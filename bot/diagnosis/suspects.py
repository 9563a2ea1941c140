"""Which recorded change to blame: the episode's onset, each change's time in force, and
its scope, read off one diagnosis's findings.

Attribution (:func:`classifiers.attribution.rank_changes`) scores a change by how
closely it came before the onset and how well its kind and scope fit what moved.
What "the onset" is decides most of it, so it is taken with care here: every finding
of the layers that moved on all traffic is a move with its own interval
(:func:`classifiers.onsets.onset_interval`), and the episode is the run of moves
with most evidence (:func:`classifiers.onsets.episode`), not the earliest of them.
A leak's slow climb into the kill the detectors found is a move of its own, dated
where the climb began (:func:`classifiers.ramps.ramp_onset`).
A change is history when the service had recovered from something after it and
stayed healthy for a while before the episode began; a change whose rollout shows
as a served value switching is in force from the switch. Its scope is what its
``slice`` names: the slice that failed (a bonus), or another value of that
slice's dimension (a discount).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.diagnosis.assemble import Assembled
from bot.diagnosis.detect import Finding, Test
from classifiers.attribution import rank_changes
from classifiers.behaviour import ROOT_MINUTES, LayerEvidence
from classifiers.onsets import Move, clear_layers, episode, onset_interval
from classifiers.ramps import ramp_onset

if TYPE_CHECKING:  # records are told apart by their type tag: no pydantic on classify's path
    from bot.core.exchange_plain import PlainChange
    from bot.core.exchange_records import ChangeRecord

    Change = ChangeRecord | PlainChange

RESOURCE_LAYERS = ("infra",)   # whose series can climb slowly into a kill (a leak)
RECOVERED_BEFORE_MINUTES = 10.0  # healthy this long before the episode: earlier is history
ROLLOUT_MINUTES = 30.0  # a served switch this soon after a change of its kind: its rollout
BLAME_SCORE = 0.05       # below this the best-ranked change is not blamed


@dataclass(frozen=True)
class Onset:
    """The episode's onset as attribution reads it (epoch seconds and minutes)."""

    epoch: float
    halfwidth: float     # minutes before the estimate the onset may lie
    resolution: float    # minutes between the leading series' samples
    roots: list[str]     # layers that moved within ROOT_MINUTES of it (not quality)


def moves(findings: Sequence[Finding], layers: Sequence[LayerEvidence], local: set[str],
          data: Assembled) -> list[Move]:
    """Each finding of the clear layers (:func:`classifiers.onsets.clear_layers`) as a
    :class:`~classifiers.onsets.Move` with its own onset interval, less the slice moves
    placed before their own signal's all-traffic move (:func:`_ahead_of_total`)."""
    clear = {item.layer for item in clear_layers(layers, local)} if layers else set()
    placed = [(f, _move(f, data)) for f in findings if f.test.layer in clear]
    total = {(f.test.layer, f.test.name): (f, move) for f, move in placed if not f.test.slice}
    kept = [move for f, move in placed
            if not (f.test.slice and _ahead_of_total(f, move, total.get((f.test.layer,
                                                                           f.test.name))))]
    ramp = _leak_ramp([f for f, _ in total.values()], data)
    return [*kept, ramp] if ramp is not None else kept


def _leak_ramp(findings: Sequence[Finding], data: Assembled) -> Move | None:
    """The slow climb of a resource into the earliest all-traffic finding it ended in
    (:func:`classifiers.ramps.ramp_onset`: flat, a steady climb, a reset at the
    finding's onset), as a move of that finding's strength that keeps its run open.

    A leak's kill is where the step detectors place the failure, hours after the
    change that started the leak; the climb up to it is the failure's first move,
    and what bursts at each later kill follows on from it.
    """
    resources = [s for (layer, _, key), s in data.series.items()
                 if layer in RESOURCE_LAYERS and not key and s.bad == "up" and not s.has_counts]
    for f in sorted(findings, key=lambda f: f.onset):
        for series in resources:
            found = ramp_onset(series.values, series.times, f.onset)
            if found is not None:
                return Move(series.layer, found.onset / 60.0, (found.onset - found.low) / 60.0,
                            found.resolution / 60.0, f.strength, f.test.strength_hint, True)
    return None


def _move(f: Finding, data: Assembled) -> Move:
    series = data.series.get((f.test.layer, f.test.name, f.test.slice))
    halfwidth, resolution = 0.0, 1.0
    if series is not None:
        interval = onset_interval(series.times, f.onset, f.test.statistic)
        halfwidth = (f.onset - interval.low) / 60.0
        resolution = interval.resolution / 60.0
    return Move(f.test.layer, f.onset / 60.0, halfwidth, resolution, f.strength,
                f.test.strength_hint, f.test.detector == "lag_growth")


def _ahead_of_total(f: Finding, move: Move, total: tuple[Finding, Move] | None) -> bool:
    """A slice's move placed, on less evidence, before its signal's all-traffic move.

    A slice is part of the total: when the total moved too, the total's interval says
    when the signal began to move. A slice placed before that interval's lower end on
    a weaker test than the total's is within its own noise: among a dozen slices'
    estimates, each with its own interval, the earliest is biased early (a small
    segment's few counts place a step ten minutes ahead of a step the whole service
    took). It is no first clear move. A slice whose test is stronger than its total's
    and whose shift is larger (the failure concentrated there: the total diluted,
    placed later and less precisely) keeps its move; so does a slice whose total did
    not move at all.
    """
    if total is None:
        return False
    first, placed = total
    # concentrated there, the failure moved the slice more than the diluted total; a
    # slice whose shift is no larger than its total's is one more estimate of the step
    # all traffic took (each segment's cost per request up alike, one of them placed
    # ten minutes early), however strong its own test
    return (move.onset < placed.onset - placed.halfwidth
            and (abs(f.test.statistic) < abs(first.test.statistic)
                 or f.test.strength_hint <= first.test.strength_hint))


def episode_onset(findings: Sequence[Finding], layers: Sequence[LayerEvidence],
                  local: set[str], data: Assembled) -> Onset | None:
    """The first move of the episode (:func:`classifiers.onsets.episode`), or ``None``."""
    run = episode(moves(findings, layers, local, data))
    if not run:
        return None
    first = run[0]
    roots = sorted({m.layer for m in run if m.layer != "quality"
                    and m.onset - first.onset <= ROOT_MINUTES})
    return Onset(first.onset * 60.0, first.halfwidth, first.resolution, roots)


def slice_episode(findings: Sequence[Finding], layers: Sequence[LayerEvidence],
                  local: set[str], data: Assembled, slices: Sequence[dict[str, Any]]
                  ) -> Onset | None:
    """The episode's onset when the diagnosis names a slice that moved on a layer kept
    out of it as local (:func:`bot.diagnosis.contrasts.local_layers`), else ``None``.

    A layer that moved only on a slice is kept out of the onset because a lone slice's
    burst hours before the incident is no first clear move of the service. When that
    slice is the one the failure was localised to (refusals on the free segment an
    hour and a half before the latency they caused), it is the failure's own first
    move, and the culprit must come right before it, not before what followed.
    """
    if not slices:
        return None
    top = (slices[0]["dimension"], slices[0]["value"])
    named = {f.test.layer for f in findings if f.test.layer in local and top in f.test.slice}
    if not named:
        return None
    return episode_onset(findings, layers, local - named, data)


def healthy_since(onset: Onset | None) -> float | None:
    """When the service was last known healthy before the episode (epoch seconds):
    ``RECOVERED_BEFORE_MINUTES`` before the lower end of its onset's interval. A
    recovery after that is the episode's run-up, not history."""
    if onset is None:
        return None
    return onset.epoch - (onset.halfwidth + RECOVERED_BEFORE_MINUTES) * 60.0


def history(changes: Sequence[Change], tests: Sequence[Test], before: float | None
            ) -> list[bool]:
    """Which changes are history rather than candidates for the episode in force now.

    A change is history when a signal left its baseline after it and came back by
    ``before`` (epoch seconds; the detectors cut such recovered excursions out and
    say when they recovered), or when a later change of the same kind rolled it back
    (its ``previous`` is this change's ``ref``).
    """
    recovered = [t.recovered for t in tests if t.recovered is not None
                 and (before is None or t.recovered <= before)]
    last_recovery = max(recovered) if recovered else None
    flags = []
    for c in changes:
        when = c.ts.timestamp()
        reverted = any(o.kind == c.kind and o.ts > c.ts and o.previous is not None
                       and o.previous == c.ref and o.ref != c.ref for o in changes)
        flags.append(reverted or (last_recovery is not None and when < last_recovery))
    return flags


def in_force(changes: Sequence[Change], pseudo: int) -> tuple[list[float], list[bool]]:
    """Each change's time in force (epoch seconds), and which are candidates at all.

    The last ``pseudo`` changes are served values that switched with no change record
    at that moment (:func:`bot.diagnosis.pipeline.gather`). One that switched up to
    ``ROLLOUT_MINUTES`` after a recorded change of its kind is that change rolling
    out: the recorded change is in force from the switch, and the switch is no
    candidate of its own.
    """
    times = [c.ts.timestamp() for c in changes]
    candidate = [True] * len(changes)
    recorded = len(changes) - pseudo
    for j in range(recorded, len(changes)):
        switch = changes[j]
        at = times[j]
        before = [i for i in range(recorded) if changes[i].kind == switch.kind
                  and 0.0 <= at - changes[i].ts.timestamp() <= ROLLOUT_MINUTES * 60.0]
        if before:
            owner = max(before, key=lambda i: changes[i].ts)
            times[owner] = max(times[owner], at)
            candidate[j] = False
    return times, candidate


def slice_matches(change: Change, slices: Sequence[dict[str, Any]]) -> bool:
    """The change names (in its slice or its ref) one of the two leading slices."""
    for item in slices[:2]:
        if change.slice.get(item["dimension"]) == item["value"] or change.ref == item["value"]:
            return True
    return False


def aimed_elsewhere(change: Change, slices: Sequence[dict[str, Any]]) -> bool:
    """The change names another value of a dimension the failure was localised to,
    and none of the values it was localised to (a region's deploy when another
    region failed)."""
    if slice_matches(change, slices):
        return False
    named = {item["dimension"] for item in slices[:2]}
    return any(dimension in named for dimension in change.slice)


def rank(changes: Sequence[Change], past: Sequence[bool], times: Sequence[float],
         candidate: Sequence[bool], onset: Onset, label: str,
         slices: Sequence[dict[str, Any]], moved: Sequence[str] = ()
         ) -> list[tuple[int, float, float]]:
    """(index into ``changes``, score, minutes before the onset) of the candidates,
    best first; ``moved``: every layer that moved (a change whose own layer moved is
    corroborated, :func:`classifiers.attribution.rank_changes`)."""
    index = [i for i in range(len(changes)) if candidate[i]]
    ranked = rank_changes([(onset.epoch - times[i]) / 60.0 for i in index],
                          [changes[i].kind for i in index], label,
                          [slice_matches(changes[i], slices) for i in index], onset.roots,
                          [past[i] for i in index], onset_halfwidth=onset.halfwidth,
                          resolution=onset.resolution,
                          elsewhere=[aimed_elsewhere(changes[i], slices) for i in index],
                          moved_layers=set(moved))
    return [(index[r.index], r.score, r.minutes_before_onset) for r in ranked]
