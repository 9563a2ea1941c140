"""``diagnose(records, changes)``: exchange records in, a plain-data diagnosis out.

The one place where the statistics are put together, top to bottom: assemble
arrays, run the detectors, keep the corrected findings, sum them up per layer,
classify the behaviour, localise slices, rank the changes, suggest runbooks and
write the explanation. Pure: no database, no clock, no network. ``resilio classify``,
the incident classifier and the silent-degradation watch all call it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.core.clock import format_ts, to_utc
from bot.core.exchange_plain import PlainChange
from bot.diagnosis import suspects
from bot.diagnosis.assemble import Assembled, Series, assemble, slice_text
from bot.diagnosis.contrasts import local_layers, slice_contrasts, state_slices
from bot.diagnosis.detect import (
    MIN_GAUGE_EFFECT,
    MIN_RATE_RELATIVE,
    Finding,
    Test,
    run_tests,
    select_findings,
)
from bot.diagnosis.explain import (
    NO_SIGNALS,
    evidence_rows,
    explain,
    layer_rows,
    rounded,
    runbooks_for,
    suspect_row,
)
from classifiers.behaviour import (
    ChangeEvidence,
    LayerEvidence,
    LearnedPriors,
    classify_behaviour,
)
from classifiers.confined import contradicted
from classifiers.excursions import (
    explained_by_elasticity,
    explained_by_volume,
    is_capacity_fall,
    persistence,
    recurrence,
    traffic_cost_rise,
    volume_ratio,
    within_own_noise,
)
from classifiers.load_clock import (
    LOAD_STEP,
    follows_load,
    in_order,
    load_minutes,
    tracks_load,
    traffic_rate,
)
from classifiers.no_evidence import no_evidence_posterior
from classifiers.onsets import onset_interval
from classifiers.shifts import rate_shift, robust_shift
from classifiers.slices import localise_slices
from classifiers.vocabulary import LABELS, ChangeKind, improvement_side

if TYPE_CHECKING:  # the catalog (yaml, runbooks) costs ~0.1 s: classify needs no catalog
    from bot.config.catalog import Service

    # records are told apart by their type tag: no pydantic import on classify's path
    from bot.core.exchange_records import ChangeRecord

    Change = ChangeRecord | PlainChange

EPISODE_GAP_MINUTES = 240.0  # onsets further apart belong to different episodes
_DATA_TYPES = frozenset({"signal", "distribution", "state"})


@dataclass(frozen=True)
class Diagnosis:
    """What ``resilio classify --json`` prints (see DESIGN.md), as plain data."""

    behavior: str
    confidence: float
    scores: dict[str, float]
    onset: str | None
    evidence: list[dict[str, Any]]
    slices: list[dict[str, Any]]
    suspect_changes: list[dict[str, Any]]
    suggested_runbooks: list[str]
    explanation: str
    service: str | None = None
    pattern: str = ""
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "behavior": self.behavior,
            "confidence": round(self.confidence, 4),
            "scores": {k: round(v, 6) for k, v in self.scores.items()},
            "onset": self.onset,
            "evidence": self.evidence,
            "slices": self.slices,
            "suspect_changes": self.suspect_changes,
            "suggested_runbooks": self.suggested_runbooks,
            "explanation": self.explanation,
            "pattern": self.pattern,
        }


def _current_episode(findings: list[Finding]) -> list[Finding]:
    """The findings of the episode in force: the latest run of onsets without a long gap.

    A long window can hold an older shift that never went back (a capacity change in
    the morning, a drift from the night). Causes lead their symptoms by minutes, rarely
    by more than an hour or two; left in, such a shift would have 'moved first' and
    decided the label of what broke now. So the findings are cut at the last gap of
    more than ``EPISODE_GAP_MINUTES`` between consecutive onsets. A lag that keeps
    growing is the exception and is always kept: a stalled pipeline's features go
    stale slowly, and the quality it costs can show hours after the stall began.
    """
    onsets = sorted({f.onset for f in findings})
    start = onsets[0] if onsets else 0.0
    for earlier, later in zip(onsets[:-1], onsets[1:], strict=True):
        if later - earlier > EPISODE_GAP_MINUTES * 60.0:
            start = later
    return [f for f in findings if f.onset >= start or f.test.detector == "lag_growth"]


IMPROVEMENT_MINUTES = 10.0  # one-sided moves this close to a two-sided one explain it
IMPROVEMENT_ALPHA = 1e-4


def _without_improvements(findings: list[Finding], tests: list[Test], data: Assembled
                          ) -> list[Finding]:
    """Drop two-sided findings that came with an improvement and no harm.

    A signal marked ``bad: both`` (latency on some dashboards, a mean score) trips on
    any large move, so a deploy that halves latency looks like a failure. The
    one-sided signals are then also tested the *good* way (their own detectors only
    look for harm); when some moved that way at about the same time and none of the
    one-sided findings is near, the two-sided move is read as the same improvement.
    A signal's name can say the same: a two-sided ``retrieval_relevance`` that rose,
    or a two-sided latency that fell, moved the way the shared vocabulary calls good
    (``classifiers.vocabulary.improvement_side``). A two-sided move with any
    one-sided harm beside it, or with nothing beside it that says it was good, stays
    a finding.
    """
    both = [f for f in findings if f.test.detector != "newborn_slice"
            and _is_two_sided(f.test, data)]
    if not both:
        return findings
    window = IMPROVEMENT_MINUTES * 60.0
    harms = [f.onset for f in findings if not _is_two_sided(f.test, data)]
    better = _improvement_onsets(data)
    dropped = set()
    for f in both:
        near_harm = any(abs(t - f.onset) <= window for t in harms)
        near_better = any(abs(t - f.onset) <= window for t in better)
        if (near_better or _good_by_name(f.test)) and not near_harm:
            dropped.add(id(f))
    return [f for f in findings if id(f) not in dropped]


def _improvement_onsets(data: Assembled) -> list[float]:
    """Onsets of clear moves the good way of one-sided all-traffic signals."""
    out = []
    for (_, _, key), s in data.series.items():
        if key or s.bad == "both" or s.values.size < 12:
            continue
        good = "down" if s.bad == "up" else "up"
        if s.kind == "ratio" and s.has_counts:
            r = rate_shift(s.values, s.counts, direction=good)
            practical = abs(r.relative) >= MIN_RATE_RELATIVE
        else:
            r = robust_shift(s.values, s.times, direction=good)
            practical = abs(r.effect) >= MIN_GAUGE_EFFECT and abs(r.relative) >= 0.05
        if r.onset >= 0 and r.p_value < IMPROVEMENT_ALPHA and practical:
            out.append(float(s.times[r.onset]))
    return out


def _good_by_name(test: Test) -> bool:
    """The move went the way the signal's well-known name calls good.

    Not for an answer length (``gen_ai.response.output_tokens``), a price with no good
    side (:func:`classifiers.vocabulary.improvement_side`): its owner declared it
    two-sided, and a silent model update that cut answers by 40 % (independent seed
    9103003) was dropped here as an improvement, leaving a healthy day.
    """
    good_side = improvement_side(test.name)
    if good_side == "both" or test.before is None or test.after is None:
        return False
    return test.after > test.before if good_side == "up" else test.after < test.before


def _is_two_sided(test: Test, data: Assembled) -> bool:
    series = data.series.get((test.layer, test.name, test.slice))
    return series is not None and series.bad == "both"


def _requests(data: Assembled) -> Series | None:
    """The all-traffic rate series with the most counts: its counts are the traffic."""
    rates = [s for (_, _, key), s in data.series.items() if not key and s.has_counts]
    return max(rates, key=lambda s: float(s.counts.sum()), default=None)


def _traffic_share(f: Finding, data: Assembled, requests: Series | None
                   ) -> tuple[float, bool]:
    """(share of ``f``'s move the traffic's fall explains, whether it is a capacity fall)."""
    series = data.series.get((f.test.layer, f.test.name, f.test.slice))
    if series is None:
        return 0.0, False
    ratio = (volume_ratio(requests.counts, requests.times, f.onset)
             if requests is not None else 1.0)
    share = explained_by_volume(f.test.layer, f.test.before, f.test.after, ratio,
                                gauge=series.kind == "gauge" and not series.has_counts)
    if f.test.layer == "cost" and requests is not None and share < 1.0:
        # a pool paid by the hour costs more per request whenever fewer come, not only
        # when the traffic fell to a fraction: how much more, its own history tells
        rise = traffic_cost_rise(series.values, series.times, requests.counts,
                                 requests.times, f.onset)
        share = max(share, explained_by_elasticity(f.test.before, f.test.after, rise))
    return share, is_capacity_fall(series.values, f.test.before, f.test.after)


Shape = tuple[Any, Any, float, float | None, float | None, Any]
PERSIST_SHARE = 0.9  # the findings of a layer whose coming back says the layer came back


def _shape(f: Finding, data: Assembled) -> Shape | None:
    """What the excursion measures read of one finding: its series, onset and levels."""
    series = data.series.get((f.test.layer, f.test.name, f.test.slice))
    if series is None:
        return None
    return (series.values, series.times, f.onset, f.test.before, f.test.after,
            series.counts if series.has_counts else None)


def _layer_persistence(shapes: list[Shape | None]) -> float:
    """How much of a layer's move is still there at the end: that of its strongest
    findings (``PERSIST_SHARE`` of the strongest or more) that kept most of its move (1
    when none has a series with levels to come back to).

    A layer has come back only when its clearest moves have: the earliest of them is
    often a slice's fainter blip that came and went while the failure went on elsewhere
    (a flood of one language on the slice beside the blip's, a broken join whose first
    series recovered), and read alone it made a lasting failure look recovered. A
    fainter finding that did not come back does not keep a recovered transient open.
    """
    return max((persistence(*shape) for shape in shapes if shape is not None), default=1.0)


def _noise_share(f: Finding, data: Assembled) -> float:
    """Share of a gauge finding's move within its series' scatter since the onset
    (:func:`classifiers.excursions.within_own_noise`, re-judged at the detector's own
    practical threshold); 0 for every other test (rates weigh their counts already)."""
    series = data.series.get((f.test.layer, f.test.name, f.test.slice))
    if series is None or f.test.detector != "robust_shift":
        return 0.0
    return within_own_noise(series.values, series.times, f.onset, f.test.before,
                            f.test.after, MIN_GAUGE_EFFECT)


def _layer_evidence(findings: list[Finding], data: Assembled) -> list[LayerEvidence]:
    by_layer: dict[str, list[Finding]] = {}
    for f in findings:
        by_layer.setdefault(f.test.layer, []).append(f)
    requests = _requests(data)
    elsewhere = contradicted((f.test.layer, f.test.slice, f.strength) for f in findings)
    layers = []
    for layer, items in by_layer.items():
        strongest = max(f.strength for f in items)
        # several findings in one layer are a little stronger than one
        strength = min(1.0, strongest + 0.05 * (len(items) - 1))
        leaders = [f for f in items if f.strength >= 0.6 * strongest]
        first = min(leaders, key=lambda f: f.onset)
        top = max(items, key=lambda f: f.strength).test
        label = f"{layer}/{top.name}" + (f"[{slice_text(top.slice)}]" if top.slice else "")
        series = data.series.get((first.test.layer, first.test.name, first.test.slice))
        interval = (onset_interval(series.times, first.onset, first.test.statistic)
                    if series is not None else None)
        shapes = [_shape(f, data) for f in leaders if f.strength >= PERSIST_SHARE * strongest]
        shape = _shape(first, data)
        traffic = [_traffic_share(f, data, requests) for f in items]
        # what the traffic explains of the layer is read off its clearest moves, as its
        # persistence is: a faint fall of utilisation at dusk four hours earlier does not
        # make the replicas that grew with a surge unexplained
        clearest = [share for (share, _), f in zip(traffic, items, strict=True)
                    if f.strength >= PERSIST_SHARE * strongest]
        layers.append(LayerEvidence(
            layer=layer, strength=strength, onset_minutes=first.onset / 60.0,
            findings=len(items), top=label,
            resolution_minutes=interval.resolution / 60.0 if interval else 1.0,
            onset_halfwidth=(first.onset - interval.low) / 60.0 if interval else 0.0,
            excess=max(f.test.strength_hint for f in items),
            persistence=_layer_persistence(shapes),
            recurrence=recurrence(*shape) if shape else 0.0,
            explained=min(clearest),
            capacity=float(all(fall for _, fall in traffic)),
            elsewhere=float(layer in elsewhere),
            # like persistence: noise only when every clearest move of the layer is
            noise=min(_noise_share(f, data) for f in items
                      if f.strength >= PERSIST_SHARE * strongest)))
    return layers


@dataclass(frozen=True)
class Evidence:
    """Everything the decision reads, gathered from one service's records.

    Split from :func:`diagnose` so that the label weights can be fitted on exactly
    the evidence the classifier sees (``benchmarks/fit_behaviour.py``).
    """

    kept: list[Any]
    data: Assembled
    tests: list[Test]
    findings: list[Finding]
    layers: list[LayerEvidence]
    onset_epoch: float | None
    changes: list[Change]
    history: list[bool]
    change_evidence: list[ChangeEvidence]
    service: str | None
    pseudo: int = 0  # the last ``pseudo`` changes are served values that switched unrecorded
    episode: suspects.Onset | None = None  # the onset both the label and the culprit read


def gather(records: Iterable[Any], changes: Iterable[Change] = (), *,
           at: datetime | None = None, assembled: Assembled | None = None) -> Evidence:
    """Assemble, test and sum up the records of one service (see :func:`diagnose`)."""
    at = to_utc(at) if at is not None else None
    kept, change_list = [], list(changes)
    for record in records:
        tag = getattr(record, "type", None)  # the models' records and plain ones alike
        if tag in _DATA_TYPES:
            if at is None or not record.ts > at:
                kept.append(record)
            continue
        if at is not None and record.ts > at:
            continue
        if tag == "change":
            change_list.append(record)
        elif tag != "alert":
            kept.append(record)
    if assembled is not None:  # the data as arrays already, cut at ``at`` (assemble_columns)
        kept += [*assembled.series.values(), *assembled.distributions.values(),
                 *assembled.states.values()]
    service = (assembled.service if assembled is not None and assembled.service else
               next((r.service for r in kept if getattr(r, "service", None)), None))
    if at is not None:
        change_list = [c for c in change_list if c.ts <= at]
    seen, unique_changes = set(), []
    for c in sorted(change_list, key=lambda c: c.ts):
        key = (c.ts, c.kind, c.ref)
        if key not in seen:
            seen.add(key)
            unique_changes.append(c)
    data = assemble(kept) if assembled is None else assembled
    tests, switches = run_tests(data)
    findings = _current_episode(_without_improvements(select_findings(tests), tests, data))
    layers = _layer_evidence(findings, data)
    # one onset for the label and the culprit: the episode's first clear move
    episode = (suspects.episode_onset(findings, layers, local_layers(data, findings), data)
               if layers else None)
    onset_epoch = episode.epoch if episode is not None else None

    # Served values that switched act as changes when no change record says so.
    pseudo = []
    for ts, name, value in switches:
        if not any(abs(c.ts.timestamp() - ts) < 900 for c in unique_changes):
            kind: ChangeKind = ("model" if "model" in name
                                else "retrieval" if "index" in name else "config")
            pseudo.append(PlainChange(ts=datetime.fromtimestamp(ts, UTC),
                                      service=service or "unknown", kind=kind, ref=value,
                                      description=f"{name} switched to {value}"))
    all_changes = unique_changes + pseudo
    history = suspects.history(all_changes, _recoveries(tests, findings, data),
                               suspects.healthy_since(episode))
    change_evidence = [ChangeEvidence(c.kind, (onset_epoch - c.ts.timestamp()) / 60.0)
                       for c, past in zip(all_changes, history, strict=True)
                       if not past] if onset_epoch is not None else []
    return Evidence(kept, data, tests, findings, layers, onset_epoch, all_changes, history,
                    change_evidence, service, len(pseudo), episode)


def _recoveries(tests: list[Test], findings: list[Finding], data: Assembled) -> list[Test]:
    """The tests whose recovery says the service was healthy again, for history.

    Two kinds of "recovered" excursion are no return to health: a series that rose and
    fell with the traffic over the window (replicas and utilisation following the
    daily load, :func:`classifiers.load_clock.follows_load`), and one of a layer that
    is failing again in the episode (an OOM burst, the memory's reset at each kill, a
    crash loop's earlier bursts): the failure recurs, it did not end.
    """
    failing = {f.test.layer for f in findings}
    candidates = [(test, data.series.get((test.layer, test.name, test.slice)))
                  for test in tests if test.recovered is not None and test.layer not in failing]
    requests = _requests(data) if any(s is not None for _, s in candidates) else None
    if requests is None:
        return [test for test, series in candidates if series is not None]
    traffic = traffic_rate(requests.times, requests.counts, float(requests.times[0]),
                           float(requests.times[-1]))
    return [test for test, series in candidates
            if series is not None and not follows_load(series.values, series.times, *traffic)]


def _slices(data: Assembled, findings: list[Finding]) -> list[dict[str, Any]]:
    """Up to five slices: state mismatches first, then the localised numeric contrasts."""
    found = [{"dimension": s.dimension, "value": s.value, "effect": rounded(s.effect, 4),
              "p_value": rounded(s.p_value, 12), "share": rounded(s.share, 3)}
             for s in localise_slices(slice_contrasts(data, findings))[:5]]
    named = state_slices(data, findings)
    taken = {(n["dimension"], n["value"]) for n in named}
    return named + [s for s in found
                    if (s["dimension"], s["value"]) not in taken][: 5 - len(named)]


NONE_DOUBT = 0.2  # a "none" read this doubtful still offers its ranked changes


def _suspects(ev: Evidence, label: str, slices: list[dict[str, Any]],
              scores: dict[str, float] | None = None
              ) -> tuple[list[dict[str, Any]], Change | None]:
    """The five best-ranked changes as rows and the one to blame (``None``: no culprit),
    ranked against the episode's onset (:mod:`bot.diagnosis.suspects`), the onset the
    label read its changes against and the diagnosis reports.

    On a doubtful "none" read (the failure labels hold at least ``NONE_DOUBT`` of
    the posterior) with a clear move, the changes are still ranked, against the
    likeliest failure label (``scores``), and offered as rows but not blamed: a
    failure read as a false alarm (a rollout only the feedback shows) still has the
    change that came right before it at the top, for the responder who relabels it.
    Rows are offered only when the best of them would be blamed on a failure
    (``BLAME_SCORE``); a confident "none" (a responder's correction, a benign
    deploy) offers none: no change explains what did not fail.
    """
    if ev.episode is None or not ev.changes:
        return [], None
    if label == "none":
        failures = {k: v for k, v in (scores or {}).items() if k != "none"}
        if sum(failures.values()) < NONE_DOUBT:
            return [], None
        rows, top = _suspects(ev, max(failures, key=lambda k: failures[k]), slices)
        return (rows if top is not None else []), None
    onset, past = ev.episode, ev.history
    named = suspects.slice_episode(ev.findings, ev.layers, local_layers(ev.data, ev.findings),
                                   ev.data, slices)
    if named is not None:  # the failure's slice moved first: history from its onset
        onset, past = named, suspects.history(ev.changes, ev.tests,
                                              suspects.healthy_since(named))
    times, candidate = suspects.in_force(ev.changes, ev.pseudo)
    clock = _load_clock(ev, label, onset.epoch, times)
    ranked = suspects.rank(ev.changes, past, clock, candidate, onset, label, slices,
                           [item.layer for item in ev.layers])
    rows = [suspect_row(ev.changes[i], score, (onset.epoch - times[i]) / 60.0)
            for i, score, _ in ranked[:5]]
    top = (ev.changes[ranked[0][0]] if ranked and ranked[0][1] > suspects.BLAME_SCORE
           else None)
    return rows, top


def _load_clock(ev: Evidence, label: str, onset: float, times: list[float]) -> list[float]:
    """Each change's time as attribution reads it: on the wall clock, or, for a capacity
    failure whose harm follows the traffic (:mod:`classifiers.load_clock`), moved up to
    the onset by the minutes since it that the load was lower than the onset's."""
    requests = _requests(ev.data)
    harm = [f for f in ev.findings if f.test.layer == "runtime" and not f.test.slice]
    if label != "infrastructure" or requests is None or not harm:
        return times
    top = max(harm, key=lambda f: f.strength)
    series = ev.data.series.get((top.test.layer, top.test.name, top.test.slice))
    if series is None or not tracks_load(series.values, series.times, onset, *traffic_rate(
            requests.times, requests.counts, onset - 2 * LOAD_STEP, float(series.times[-1]))):
        return times
    start = min([*times, float(requests.times[0])])
    mids, rate = traffic_rate(requests.times, requests.counts, start, onset)
    return in_order(times, [onset - 60.0 * load_minutes(t, onset, mids, rate) for t in times])


def diagnose(records: Iterable[Any], changes: Iterable[Change] = (), *,
             at: datetime | None = None, catalog_service: Service | None = None,
             priors: LearnedPriors | None = None,
             assembled: Assembled | None = None) -> Diagnosis:
    """Diagnose one service from its exchange records (signals, distributions, states).

    ``records`` may also hold change records (they join ``changes``) and alerts (ignored
    here). With ``at`` only records up to it are used. ``catalog_service`` (a
    ``bot.config.catalog.Service``) limits suggested runbooks to those it lists; ``priors``
    are responder corrections. ``assembled``: the data already as arrays
    (:func:`bot.diagnosis.assemble.assemble_columns`); ``records`` then adds only changes.
    """
    ev = gather(records, changes, at=at, assembled=assembled)
    # nothing measured is no evidence of health: "none" at a low confidence
    posterior = (classify_behaviour(ev.layers, ev.change_evidence, priors) if ev.kept
                 else no_evidence_posterior())
    label = posterior.label
    # where the degraded signals concentrate is a fact of the findings, not of the cause
    # the label guesses: kept on "none" too (the views show them only on a failure), so
    # a label that went wrong, or a responder who relabels, still has the slice
    slices = _slices(ev.data, ev.findings)
    suspect_rows, top_change = _suspects(ev, label, slices, posterior.scores)
    runbooks = runbooks_for(label, top_change, ev.findings)
    if catalog_service is not None and catalog_service.runbooks:
        runbooks = [r for r in runbooks if r in catalog_service.runbooks]
    onset = (format_ts(datetime.fromtimestamp(ev.onset_epoch, UTC))
             if ev.onset_epoch is not None and label != "none" else None)
    # "none" without records means nothing was measured, not that all looked healthy
    explanation = explain(label, posterior.confidence, posterior.reasons, slices,
                          suspect_rows[0] if top_change is not None else None,
                          onset) if ev.kept else NO_SIGNALS
    return Diagnosis(behavior=label, confidence=float(posterior.confidence),
                     scores={k: float(posterior.scores.get(k, 0.0)) for k in LABELS},
                     onset=onset, evidence=evidence_rows(ev.findings), slices=slices,
                     suspect_changes=suspect_rows, suggested_runbooks=runbooks,
                     explanation=explanation, service=ev.service, pattern=posterior.pattern,
                     layers=layer_rows(ev.layers))


def select_service(records: Sequence[Any], service: str | None = None) -> str | None:
    """The service to diagnose: the one asked for, the only one, the one alerts name,
    else the one with the strongest anomaly."""
    names = sorted({r.service for r in records})
    if service is not None or len(names) <= 1:
        return service if service is not None else (names[0] if names else None)
    alerts: dict[str, int] = {}
    for r in records:
        if getattr(r, "type", None) == "alert" and r.status == "firing":
            alerts[r.service] = alerts.get(r.service, 0) + 1
    if alerts:
        return max(alerts, key=lambda s: alerts[s])
    best, best_score = names[0], -1.0
    for name in names:
        d = diagnose([r for r in records if r.service == name])
        score = 0.0 if d.behavior == "none" else d.confidence + sum(
            v["strength"] for v in d.layers.values())
        if score > best_score:
            best, best_score = name, score
    return best
