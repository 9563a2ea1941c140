"""Offline replay of culprit ranking: diagnose once, re-rank with the code as it is now.

Run: ``python benchmarks/culprit_replay.py capture ind,93,280 [--jobs 2]``, then, after
an edit to the ranking (``classifiers/attribution.py``, ``bot/diagnosis/suspects.py``,
``pipeline._suspects``), ``python benchmarks/culprit_replay.py replay ind,93,280
[--detail]``.

Why: the ranking is a few milliseconds of the diagnosis, but a culprit figure costs a
whole accuracy run (minutes per source, tens of minutes on a shared machine). Capture
runs :func:`bot.diagnosis.pipeline.diagnose` once per incident that has a culprit and
pickles the arguments it gave ``pipeline._suspects`` (the evidence, the label read,
the slices, the posterior); replay calls ``_suspects`` on them again. It is exact for
ranking-only edits and wrong for anything that moves the evidence, the label or the
slices (run ``accuracy.py`` for those). ``--detail`` prints, for each miss, every
candidate with its time fit, kind fit, history, slice and corroboration flags.

Sets: ``ind`` (independent, default seeds), ``280`` (seed base 9,100,000, 40 a class),
``93`` (9,300,000, 20 a class), ``hand`` (handwritten), ``sim`` (simulator, default
seeds). Never the holdouts: they are report-only. Pickles go to
``/tmp/quiet/culprit-replay``, or to ``$CULPRIT_REPLAY_STORE`` (one store per worktree:
a capture is exact only for the evidence code it ran with), about 6 MB an incident.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STORE = Path(os.environ.get("CULPRIT_REPLAY_STORE", "/tmp/quiet/culprit-replay"))
SETS = {"ind": ("independent", 20, 7_000_000), "280": ("independent", 40, 9_100_000),
        "93": ("independent", 20, 9_300_000), "hand": ("handwritten", 20, 0),
        "sim": ("simulator", 20, 7_000_000)}


def _jobs(name: str) -> list[tuple[str, tuple]]:
    from benchmarks import accuracy

    source, per_class, base = SETS[name]
    return accuracy.jobs_for(source, per_class, base, 4)


def _path(name: str, key: tuple) -> Path:
    return STORE / name / ("_".join(str(k) for k in key) + ".pkl")


def capture_one(item: tuple[str, tuple[str, tuple]]) -> tuple[str, bool | None]:
    """Diagnose one incident with a culprit and pickle what ``_suspects`` was given."""
    name, job = item
    from benchmarks import accuracy
    from bot.core.exchange import parse_objects
    from bot.diagnosis import pipeline

    raw, truth = accuracy.labelled(*job)
    out = _path(name, job[1])
    if not truth.get("culprit") or out.exists():
        return name, None
    got: list[tuple[Any, ...]] = []
    original = pipeline._suspects

    def recording(ev: Any, label: str, slices: Any, scores: Any = None) -> Any:
        got.append((ev, label, slices, scores))
        return original(ev, label, slices, scores)

    pipeline._suspects = recording  # type: ignore[assignment]
    try:
        d = pipeline.diagnose(parse_objects(raw).records)
    finally:
        pipeline._suspects = original  # type: ignore[assignment]
    top = d.suspect_changes[0]["ref"] if d.suspect_changes else None
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{out}.tmp", "wb") as fh:
        pickle.dump({"key": job[1], "truth": truth, "args": got[-1] if got else None,
                     "predicted": d.behavior, "top": top}, fh)
    os.replace(f"{out}.tmp", out)
    return name, top == truth["culprit"]


def _detail(case: dict[str, Any]) -> None:
    """Every candidate of one incident, as :func:`classifiers.attribution.rank_changes`
    scored it."""
    from bot.diagnosis import pipeline, suspects

    ev, label, slices, scores = case["args"]
    seen: dict[str, Any] = {}
    original = suspects.rank_changes

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.update(args=args, kwargs=kwargs, ranked=original(*args, **kwargs))
        return seen["ranked"]

    suspects.rank_changes = recording  # type: ignore[assignment]
    try:
        pipeline._suspects(ev, label, slices, scores)
    finally:
        suspects.rank_changes = original  # type: ignore[assignment]
    if "ranked" not in seen:
        print("      (not ranked)")
        return
    args, kwargs = seen["args"], seen["kwargs"]
    print(f"      roots={args[4]} moved={sorted(kwargs['moved_layers'])} "
          f"halfwidth={kwargs['onset_halfwidth']:.2f} resolution={kwargs['resolution']:.2f} "
          f"slices={[(s['dimension'], s['value']) for s in slices[:2]]}")
    _, candidate = suspects.in_force(ev.changes, ev.pseudo)
    index = [i for i in range(len(ev.changes)) if candidate[i]]
    for r in seen["ranked"]:
        change = ev.changes[index[r.index]]
        mark = "*" if change.ref == case["truth"]["culprit"] else " "
        print(f"      {mark} {change.ref:<16} {change.kind:<9} score={r.score:.3f} "
              f"time={r.time_fit:.2f} kind={r.kind_fit:.2f} @{r.minutes_before_onset:.1f} "
              f"history={args[5][r.index]} slice={args[3][r.index]} "
              f"elsewhere={kwargs['elsewhere'][r.index]} corroborated={r.corroborated}")


def _reonset(args: tuple[Any, ...]) -> tuple[tuple[Any, ...], bool]:
    """The captured arguments with the episode's onset taken again by the code as it is
    now (:func:`bot.diagnosis.suspects.episode_onset`), and whether that is exact: the
    label and the history read the onset's estimate and lower end, so an edit that
    moves them needs ``accuracy.py``; one that changes only what attribution reads of
    the onset (its roots, how late it may lie) replays exactly."""
    import dataclasses

    from bot.diagnosis import suspects
    from bot.diagnosis.contrasts import local_layers

    ev = args[0]
    if ev.episode is None or not ev.layers:
        return args, True
    onset = suspects.episode_onset(ev.findings, ev.layers, local_layers(ev.data, ev.findings),
                                   ev.data)
    exact = onset is not None and (onset.epoch, onset.halfwidth) == (ev.episode.epoch,
                                                                     ev.episode.halfwidth)
    return (dataclasses.replace(ev, episode=onset), *args[1:]), exact


def replay(name: str, detail: bool = False) -> tuple[int, int]:
    """Culprit top-1 of one captured set with the ranking code as it is now."""
    from bot.diagnosis import pipeline

    hits = total = inexact = 0
    for path in sorted((STORE / name).glob("*.pkl")):
        with open(path, "rb") as fh:
            case = pickle.load(fh)  # noqa: S301 (our own capture)
        culprit = case["truth"]["culprit"]
        total += 1
        if case["args"] is not None:
            case["args"], exact = _reonset(case["args"])
            inexact += not exact
        rows = pipeline._suspects(*case["args"])[0] if case["args"] is not None else []
        if rows and rows[0]["ref"] == culprit:
            hits += 1
            continue
        label = case["args"][1] if case["args"] is not None else None
        best = "; ".join(f"{r['ref']} {r['kind']} {r['score']:.3g} "
                         f"@{r['minutes_before_onset']:.1f}" for r in rows[:3])
        print(f"  {name} miss {case['truth']['label']}/{case['truth'].get('variant')} "
              f"{case['key']} read {label} truth {culprit}: {best or 'none ranked'}")
        if detail and case["args"] is not None:
            _detail(case)
    print(f"{name}: culprit {hits}/{total}"
          + (f" ({inexact} with an onset moved: run accuracy.py)" if inexact else ""))
    return hits, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("capture", "replay"))
    parser.add_argument("sets", help="comma-separated: " + ",".join(SETS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--detail", action="store_true")
    args = parser.parse_args()
    names = args.sets.split(",")
    if args.what == "capture":
        work = [(name, job) for name in names for job in _jobs(name)]
        with ProcessPoolExecutor(args.jobs) as pool:
            done = list(pool.map(capture_one, work, chunksize=1))
        for name in names:
            fresh = [ok for n, ok in done if n == name and ok is not None]
            print(f"{name}: captured {len(fresh)} new, culprit {sum(fresh)}/{len(fresh)}")
        return
    for name in names:
        replay(name, args.detail)


if __name__ == "__main__":
    main()
