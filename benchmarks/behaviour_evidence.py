"""The evidence the behaviour classifier sees on labelled incidents, gathered once.

``python benchmarks/fit_behaviour.py collect`` runs the pipeline's evidence gathering
(``bot.diagnosis.pipeline.gather``) on development seeds of every fitted source and
writes one JSON row per incident to ``benchmarks/data/behaviour_evidence.jsonl``: the
layers that moved (strength, onset and its interval, size, shape shares), the changes,
and what attribution reads. The fits (``fit_behaviour.py fit``) read only that file, so
they take seconds where gathering takes minutes. The development seeds are disjoint
from ``benchmarks/accuracy.py``'s defaults.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.accuracy import FITTED_SOURCES, handwritten_cases, jobs_for, labelled
from bot.core.exchange import parse_objects
from bot.diagnosis import suspects
from bot.diagnosis.pipeline import Evidence, gather
from classifiers.behaviour import ChangeEvidence, LayerEvidence

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = ROOT / "benchmarks" / "data" / "behaviour_evidence.jsonl"
DEV_SEEDS = {"simulator": 40_000, "independent": 40_000, "handwritten": 100}


def _collect_one(job: tuple[str, tuple]) -> dict[str, Any]:
    source, key = job
    raw, truth = labelled(source, key)
    ev = gather(parse_objects(raw).records)
    return {"source": source, "key": list(key), "label": truth["label"],
            "variant": truth["variant"],
            "layers": [{"layer": x.layer, "strength": x.strength, "onset": x.onset_minutes,
                        "resolution": x.resolution_minutes, "halfwidth": x.onset_halfwidth,
                        "findings": x.findings, "top": x.top, "excess": x.excess,
                        "persistence": x.persistence, "recurrence": x.recurrence,
                        "explained": x.explained, "capacity": x.capacity,
                        "elsewhere": x.elsewhere}
                       for x in ev.layers],
            "culprit": truth["culprit"],
            "slice": truth["slice"],
            "changes": [{"kind": c.kind, "at": c.ts.timestamp() / 60.0, "history": past,
                         "ref": c.ref, "slice": dict(c.slice)}
                        for c, past in zip(ev.changes, ev.history, strict=True)],
            "attribution": _attribution_of(ev)}


def _attribution_of(ev: Evidence) -> dict[str, Any] | None:
    """What the pipeline's attribution reads (``bot.diagnosis.suspects``): the episode's
    onset and each change's time in force, history flag and candidacy."""
    onset = ev.episode
    if onset is None:
        return None
    times, candidate = suspects.in_force(ev.changes, ev.pseudo)
    return {"onset": onset.epoch / 60.0, "halfwidth": onset.halfwidth,
            "resolution": onset.resolution, "roots": onset.roots,
            "at": [t / 60.0 for t in times], "history": ev.history, "candidate": candidate}


def collect(per_class: int, jobs: int) -> None:
    work = []
    for source in FITTED_SOURCES:
        seed = DEV_SEEDS[source]
        if source == "handwritten":
            work += [(source, (i, seed + k)) for i in range(len(handwritten_cases()))
                     for k in range(4)]
        else:
            work += jobs_for(source, per_class, seed, 4)
    EVIDENCE.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(jobs) as pool, EVIDENCE.open("w") as out:
        for n, row in enumerate(pool.map(_collect_one, work, chunksize=2), start=1):
            out.write(json.dumps(row, separators=(",", ":")) + "\n")
            if n % 20 == 0:
                print(f"  {n}/{len(work)}", file=sys.stderr, flush=True)


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EVIDENCE.read_text().splitlines() if line.strip()]


def evidence_of(row: dict[str, Any]) -> tuple[list[LayerEvidence], list[ChangeEvidence]]:
    layers = [LayerEvidence(x["layer"], x["strength"], x["onset"], x["findings"], x["top"],
                            x["resolution"], x["halfwidth"], x.get("excess", 1.0),
                            x.get("persistence", 1.0), x.get("recurrence", 0.0),
                            x.get("explained", 0.0), x.get("capacity", 0.0),
                            x.get("elsewhere", 0.0))
              for x in row["layers"]]
    # the pipeline reads changes against the episode's onset (``Evidence.episode``) and
    # gives the label none when there is no episode; the fit must see the same
    episode = row.get("attribution")
    if not layers or episode is None:
        return layers, []
    changes = [ChangeEvidence(c["kind"], episode["onset"] - c["at"]) for c in row["changes"]
               if not c["history"]]
    return layers, changes
