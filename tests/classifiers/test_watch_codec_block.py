"""The watch's block encoding of a service's recent parts is the per-series encoding.

:func:`classifiers.watch_codec.recent_parts` converts the states of a service
together; the store must hold the very bytes :func:`encode_parts` writes (existing
rows and readers know only that format), and the states built by
:func:`classifiers.frozen.build` must be those ``__init__`` builds.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from classifiers.frozen import build
from classifiers.series_history import SeriesHistory
from classifiers.watch_codec import decode_parts, encode_parts, history_part, recent_parts
from classifiers.watch_test import WatchState, advance


def _states() -> list[WatchState]:
    """States of every shape the watch keeps: empty, ring filling, full, alarmed, sliced."""
    rng = np.random.default_rng(7)
    out = [WatchState.empty()]
    for series in range(3):
        state = WatchState.empty()
        for i in range(420):
            value = rng.normal(10.0, 1.0) + (40.0 if series == 1 and 300 < i < 330 else 0.0)
            state, _ = advance(state, np.array([1.7e9 + 60.0 * i]), np.array([value]))
            if i % 41 == 0 or i in (47, 48, 255, 256, 257):
                out.append(state)
    return out


def test_recent_parts_are_encode_parts_byte_for_byte() -> None:
    states = _states()
    sizes = {s.recent_times.size for s in states}
    assert len(sizes) > 3  # states of several shapes, grouped apart
    assert recent_parts(states) == [encode_parts(s)[0] for s in states]
    assert recent_parts([]) == []


def test_history_part_reuses_the_bytes_of_an_unchanged_history() -> None:
    states = _states()
    for before, after in zip(states[1:], states[2:], strict=False):
        old = encode_parts(before)[1]
        part = history_part(after, (before, old))
        assert part == encode_parts(after, (before, old))[1]
        if after.history.keys is before.history.keys and (
                after.history.open_key == before.history.open_key):
            assert part is old
    state = states[-1]
    recent, history = encode_parts(state)
    again = decode_parts(recent_parts([state])[0], history_part(state))
    assert recent_parts([again]) == [recent]


def test_build_makes_the_instance_init_makes() -> None:
    state = _states()[-1]
    made = build(WatchState, {f.name: getattr(state, f.name)
                              for f in dataclasses.fields(WatchState)})
    assert list(vars(made)) == list(vars(state)) == [f.name for f in
                                                     dataclasses.fields(WatchState)]
    assert all(vars(made)[k] is v for k, v in vars(state).items())
    history = build(SeriesHistory, dict(vars(state.history)))
    assert list(vars(history)) == [f.name for f in dataclasses.fields(SeriesHistory)]
    try:
        history.level = 1.0  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a built instance must stay frozen")


def test_build_refuses_fields_missing_or_out_of_order() -> None:
    fields = dict(vars(_states()[-1]))
    fields.pop("episode_points")

    class Fresh(WatchState):  # a class never built before: its names are checked
        pass

    for wrong in (fields, dict(reversed(list(vars(_states()[-1]).items())))):
        try:
            build(dataclasses.dataclass(frozen=True)(Fresh), wrong)
        except (TypeError, AssertionError):
            continue
        raise AssertionError("build must refuse fields that are not the class's")


def test_the_stored_format_is_the_one_rows_already_hold() -> None:
    # the digest of these states' bytes as written by the per-series encoder before the
    # block encoding came (142983f): stored rows and their readers know only that format
    digest = hashlib.sha256()
    for state in _states():
        recent, history = encode_parts(state)
        digest.update(recent)
        digest.update(history)
    assert digest.hexdigest() == (
        "d6393bfa7f3e23b5f4eaac4200e88262821ba469fd165a2e4f4678b8c96fb6dd")


def test_a_block_of_states_whose_arrays_differ_in_shape_only_is_encoded_as_flattened() -> None:
    # arrays are joined along their first axis when their other dimensions agree; a
    # state holding the same numbers in another shape falls back to flattening
    state = _states()[-1]
    assert state.thresholds.shape == (4, 2) and state.calibration.ndim == 3
    flat = dataclasses.replace(state, thresholds=state.thresholds.reshape(-1),
                               calibration=state.calibration.reshape(4, -1))
    alone = recent_parts([state])[0]
    assert recent_parts([state, flat, state]) == [alone] * 3
    assert recent_parts([flat]) == [alone]
