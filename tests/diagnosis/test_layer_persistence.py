"""A layer has come back only when all of its clear moves have (issue 13): the earliest
finding of a layer is often a slice's blip that recovered while the failure went on."""

from __future__ import annotations

import numpy as np

from bot.core.exchange import parse_objects
from bot.diagnosis.pipeline import gather
from tests.diagnosis.helpers import ts


def _ratio(out: list[dict], name: str, layer: str, p: np.ndarray, slice_: dict, seed: int,
           count: int = 400) -> None:
    rng = np.random.default_rng(seed)
    for m, pm in enumerate(p):
        out.append({"type": "signal", "ts": ts(m), "service": "svc", "layer": layer,
                    "name": name, "value": float(rng.binomial(count, pm) / count),
                    "count": count, "kind": "ratio", "bad": "up", "slice": slice_})


def _records() -> list[dict]:
    minutes = np.arange(240)
    out: list[dict] = []
    # one language's ratio jumps at 150 and is back by 170 (a blip) ...
    blip = np.where((minutes >= 150) & (minutes < 170), 0.12, 0.02)
    _ratio(out, "unexpected_language_ratio", "data", blip, {"language": "ja"}, 1)
    # ... while the flood of another language starts at 160 and goes on
    flood = np.where(minutes >= 160, 0.14, 0.02)
    _ratio(out, "unexpected_language_ratio", "data", flood, {"language": "de"}, 2)
    _ratio(out, "thumbs_down_ratio", "quality", np.where(minutes >= 165, 0.12, 0.05),
           {}, 3)
    return out


def test_a_layer_whose_later_clear_move_persists_has_not_recovered() -> None:
    ev = gather(parse_objects(_records()).records)
    data = next(item for item in ev.layers if item.layer == "data")
    assert data.onset_minutes * 60.0 < min(f.onset for f in ev.findings
                                           if f.test.slice == (("language", "de"),))
    assert data.persistence > 0.9
