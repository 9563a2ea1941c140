"""A layer has come back only when its clearest moves have (issue 13): the earliest
finding of a layer is often a slice's blip that came back while the failure went on."""

from __future__ import annotations

import numpy as np

from bot.core.exchange import parse_objects
from bot.diagnosis.assemble import assemble
from bot.diagnosis.detect import Finding
from bot.diagnosis.detect import Test as DetectTest
from bot.diagnosis.pipeline import _layer_evidence
from tests.diagnosis.helpers import T0, ts

MINUTES = np.arange(240)


def _ratio(out: list[dict], name: str, p: np.ndarray, slice_: dict) -> None:
    for m, pm in enumerate(p):
        out.append({"type": "signal", "ts": ts(m), "service": "svc", "layer": "data",
                    "name": name, "value": float(pm), "count": 400, "kind": "ratio",
                    "bad": "up", "slice": slice_})


def _finding(name: str, slice_: dict, onset_minute: float, strength: float) -> Finding:
    onset = T0.timestamp() + 60.0 * onset_minute
    test = DetectTest("data", name, tuple(sorted(slice_.items())), "rate_test", 8.0, 1e-9, 0.1,
                onset, 5.0, True, True, 5.0, before=0.02, after=0.12)
    return Finding(test, 1e-8, strength, onset)


def _persistence(blip_strength: float, flood_strength: float) -> float:
    """The data layer's persistence when one language's ratio rose at 120 and was back
    by 200 (a blip) while another language's flood began at 150 and went on."""
    out: list[dict] = []
    _ratio(out, "unexpected_language_ratio",
           np.where((MINUTES >= 120) & (MINUTES < 200), 0.12, 0.02), {"language": "ja"})
    _ratio(out, "unexpected_language_ratio", np.where(MINUTES >= 150, 0.12, 0.02),
           {"language": "de"})
    data = assemble(parse_objects(out).records)
    findings = [_finding("unexpected_language_ratio", {"language": "ja"}, 120, blip_strength),
                _finding("unexpected_language_ratio", {"language": "de"}, 150, flood_strength)]
    (layer,) = _layer_evidence(findings, data)
    assert layer.onset_minutes == T0.timestamp() / 60.0 + 120  # the blip moved first
    return layer.persistence


def test_a_layer_whose_clearest_move_persists_has_not_recovered() -> None:
    assert _persistence(0.95, 1.0) > 0.9


def test_a_fainter_move_that_persists_does_not_keep_a_recovered_layer_open() -> None:
    # the strongest move came back; a fainter one beside it (0.7 of it) did not
    assert _persistence(1.0, 0.7) < 0.1


def test_what_the_traffic_explains_of_a_layer_is_read_off_its_clearest_moves() -> None:
    """Replicas that doubled with a surge at 150 are the autoscaler's answer, although a
    fainter fall of utilisation at dusk (minute 60, traffic down a fifth) in the same
    layer is no arithmetic of the traffic: the faint finding does not veto the layer."""
    requests = np.where(MINUTES >= 150, 2000, np.where(MINUTES >= 60, 800, 1000))
    out: list[dict] = []
    for m in MINUTES:
        out.append({"type": "signal", "ts": ts(int(m)), "service": "svc", "layer": "runtime",
                    "name": "error_ratio", "value": 0.01, "count": int(requests[m]),
                    "kind": "ratio", "bad": "up"})
        out.append({"type": "signal", "ts": ts(int(m)), "service": "svc", "layer": "infra",
                    "name": "replicas", "value": 8.0 if m >= 150 else 4.0, "bad": "both"})
        out.append({"type": "signal", "ts": ts(int(m)), "service": "svc", "layer": "infra",
                    "name": "gpu_util", "value": 30.0 if m >= 60 else 50.0, "bad": "both"})
    data = assemble(parse_objects(out).records)

    def finding(name: str, minute: float, strength: float, before: float,
                after: float) -> Finding:
        onset = T0.timestamp() + 60.0 * minute
        test = DetectTest("infra", name, (), "robust_shift", 8.0, 1e-9, 5.0, onset,
                          (after - before) / before, True, True, 4.0, before=before,
                          after=after)
        return Finding(test, 1e-8, strength, onset)

    (layer,) = _layer_evidence([finding("gpu_util", 60, 0.55, 50.0, 30.0),
                                finding("replicas", 150, 1.0, 4.0, 8.0)], data)
    assert layer.explained == 1.0
