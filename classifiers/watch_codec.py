"""The watch's per-series state as bytes for the store, and back.

The watch decodes and encodes every watched series every run (thousands a
minute), so the format is raw arrays, not an archive: a version byte, the
scalars, the lengths of the arrays, then the arrays grouped by stored type
(int32 bucket offsets; float32 bucket means, cycle, recent time offsets, scores,
calibration counts, hourly noise; float64 values and thresholds), each group one
block that is read with one call and sliced. Bucket keys are kept as offsets from
the open bucket and recent times as offsets from the newest point, so float32
holds them exactly enough. Models written in the first format (1) still decode.

Pure: bytes in, :class:`classifiers.watch_test.WatchState` out.
"""

from __future__ import annotations

import numpy as np

from classifiers.arrays import Floats
from classifiers.series_history import SeriesHistory
from classifiers.watch_tails import EDGES
from classifiers.watch_test import SCALES, WatchState

_HISTORY_SCALARS = ("open_key", "open_sum", "open_count", "level", "quantum", "resolution",
                    "step", "last_time", "last_value", "smooth")
_STATE_SCALARS = ("points", "risk", "noise", "pending_decay", "episode_points")
_COUNT = len(_HISTORY_SCALARS) + len(_STATE_SCALARS)

_FORMAT = 2
_ARRAYS = ("offsets", "means", "cycle", "recent_times", "recent_values", "scores",
           "calibration", "hourly", "thresholds", "episodes", "episode")
_DTYPES = {"offsets": np.int32, "means": np.float32, "cycle": np.float32,
           "recent_times": np.float32, "recent_values": np.float64, "scores": np.float32,
           "calibration": np.float32, "hourly": np.float32, "thresholds": np.float64,
           "episodes": np.float64, "episode": np.float64}
_GROUPS = tuple((dtype, tuple(n for n in _ARRAYS if _DTYPES[n] is dtype))
                for dtype in (np.int32, np.float32, np.float64))


_HEADER = 1 + 8 * _COUNT + 4 * len(_ARRAYS)
_HISTORY_ARRAYS = ("offsets", "means", "cycle")  # the data's first bytes, in this order
_REST32 = tuple(n for n in _GROUPS[1][1] if n not in _HISTORY_ARRAYS)
_REST64 = _GROUPS[2][1]
# the order :func:`encode_parts` writes them in
assert _REST32 == ("recent_times", "scores", "calibration", "hourly")
assert _REST64 == ("recent_values", "thresholds", "episodes", "episode")


def _offsets(h: SeriesHistory) -> np.ndarray:
    return np.where(h.keys >= 0, h.open_key - h.keys, -1)


def _scalars(state: WatchState) -> Floats:
    return np.array(_scalar_tuple(state), dtype=float)


def _same_history(a: SeriesHistory, b: SeriesHistory) -> bool:
    """Whether the bucket ring and cycle of ``a`` are those of ``b`` (the same arrays).

    Arrays are never changed in place (:func:`classifiers.series_history.add_points`
    copies before it writes), so the same objects with the same open bucket encode
    to the same bytes.
    """
    return (a.keys is b.keys and a.means is b.means and a.cycle is b.cycle
            and a.open_key == b.open_key)


def encode_parts(state: WatchState, history: tuple[WatchState, bytes] | None = None
                 ) -> tuple[bytes, bytes]:
    """The state as two byte strings: what moves with every point, and its history.

    The history part is the bucket ring and cycle (eight kilobytes of the twelve),
    which change when a half-hour closes or the cycle is refitted; the recent part
    is everything else (scalars, ring of recent points, scores, calibration). The
    store writes the history part only when it moved. ``history`` is an earlier
    state and the history part this function returned for it: when the ring and
    cycle are still the same arrays (29 runs in 30 on a one-minute series) that
    very bytes object is returned, so the caller knows it by identity.
    """
    return recent_parts([state])[0], history_part(state, history)


def history_part(state: WatchState, history: tuple[WatchState, bytes] | None = None) -> bytes:
    """The history part of :func:`encode_parts` (``history`` as there): bucket offsets
    as int32, then the bucket means and the cycle as float32."""
    h = state.history
    if history is not None and _same_history(history[0].history, h):
        return history[1]
    return b"".join([_offsets(h).astype(np.int32).tobytes(), np.concatenate(
        [h.means, h.cycle], dtype=np.float32).tobytes()])


def _sizes(state: WatchState) -> tuple[int, ...]:
    h = state.history
    return (h.keys.size, h.means.size, h.cycle.size, state.recent_times.size,
            state.recent_values.size, state.scores.size, state.calibration.size,
            state.hourly_noise.size, state.thresholds.size, state.episodes.size,
            state.episode.size)


def recent_parts(states: list[WatchState]) -> list[bytes]:
    """The recent part of :func:`encode_parts` for each of ``states``: the format byte,
    the scalars, the arrays' sizes (in the order of ``_ARRAYS``), then ``_REST32`` as
    float32 (recent times from the last one) and ``_REST64`` as float64.

    The watch encodes every series of a service every run; per series the
    conversions and joins cost more than the bytes. States whose arrays have the
    same sizes (nearly all of a service's, once their rings are full) are
    converted together as the rows of one block, and each row's bytes are sliced
    from it.
    """
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, state in enumerate(states):
        groups.setdefault(_sizes(state), []).append(i)
    out: list[bytes] = [b""] * len(states)
    for sizes, members in groups.items():
        rows = [states[i] for i in members]
        n = len(rows)
        times, values = sizes[3], sizes[4]
        wide32 = times + sizes[5] + sizes[6] + sizes[7]
        wide64 = values + sizes[8] + sizes[9] + sizes[10]
        head = 8 * _COUNT + 4 * len(_ARRAYS)
        block = np.empty((n, 1 + head + 4 * wide32 + 8 * wide64), dtype=np.uint8)
        block[:, 0] = _FORMAT
        block[:, 1:1 + 8 * _COUNT] = np.array(
            [_scalar_tuple(s) for s in rows], dtype=float).view(np.uint8)
        block[:, 1 + 8 * _COUNT:1 + head] = np.frombuffer(
            np.array(sizes, dtype=np.uint32).tobytes(), dtype=np.uint8)
        f32 = np.empty((n, wide32), dtype=np.float32)
        at = 0
        if times:
            last = np.array([s.history.last_time for s in rows])
            f32[:, :times] = _rows([s.recent_times for s in rows], n) - last[:, None]
            at = times
        for width, name in ((sizes[5], "scores"), (sizes[6], "calibration"),
                            (sizes[7], "hourly_noise")):
            if width:
                f32[:, at:at + width] = _rows([getattr(s, name) for s in rows], n)
            at += width
        f64 = np.empty((n, wide64), dtype=np.float64)
        at = 0
        for width, name in ((values, "recent_values"), (sizes[8], "thresholds"),
                            (sizes[9], "episodes"), (sizes[10], "episode")):
            if width:
                f64[:, at:at + width] = _rows([getattr(s, name) for s in rows], n)
            at += width
        block[:, 1 + head:1 + head + 4 * wide32] = f32.view(np.uint8)
        block[:, 1 + head + 4 * wide32:] = f64.view(np.uint8)
        blob, width = block.tobytes(), block.shape[1]
        for row, i in enumerate(members):
            out[i] = blob[row * width:(row + 1) * width]
    return out


def _rows(arrays: list[Floats], n: int) -> Floats:
    """Equal-sized arrays as the rows of one, each row an array's elements in C order
    (``np.stack`` is slower).

    Joined along their first axis when their other dimensions agree (a service's
    calibrations are all ``[scale, side, bin]``): the rows are the same as those of
    the flattened arrays, without a ``reshape`` per array, which cost more than the
    join. Arrays whose shapes differ (sizes equal) are flattened one by one.
    """
    try:
        return np.concatenate(arrays).reshape(n, -1)
    except ValueError:
        return np.concatenate([a.reshape(-1) for a in arrays]).reshape(n, -1)


def _scalar_tuple(state: WatchState) -> tuple[float, ...]:
    """The scalars in the order of ``_HISTORY_SCALARS`` then ``_STATE_SCALARS``."""
    h = state.history
    return (h.open_key, h.open_sum, h.open_count, h.level, h.quantum, h.resolution, h.step,
            h.last_time, h.last_value, h.smooth, state.points, state.risk, state.noise,
            state.pending_decay, state.episode_points)


def encode(state: WatchState, previous: tuple[WatchState, bytes] | None = None) -> bytes:
    """The state as bytes for the store: arrays in their smallest faithful types.

    The two parts of :func:`encode_parts` joined in one blob, the history after
    the header. ``previous`` is a state and the bytes this function wrote for it:
    when the bucket ring and cycle are still the same arrays, their bytes are
    copied from it instead of converted again.
    """
    prior = None
    if previous is not None and previous[1][:1] == bytes([_FORMAT]):
        h = previous[0].history
        length = 4 * (h.keys.size + h.means.size + h.cycle.size)
        prior = (previous[0], previous[1][_HEADER:_HEADER + length])
    recent, history = encode_parts(state, prior)
    return b"".join([recent[:_HEADER], history, recent[_HEADER:]])


def decode_parts(recent: bytes, history: bytes) -> WatchState:
    """The state :func:`encode_parts` wrote as these two parts."""
    return decode(b"".join([recent[:_HEADER], history, recent[_HEADER:]]))


def _state(scalars: list[float], data: dict[str, np.ndarray]) -> WatchState:
    hs = dict(zip(_HISTORY_SCALARS, scalars[:len(_HISTORY_SCALARS)], strict=True))
    ss = dict(zip(_STATE_SCALARS, scalars[len(_HISTORY_SCALARS):], strict=True))
    open_key = int(hs["open_key"])
    offsets = data["offsets"]
    history = SeriesHistory(
        keys=np.where(offsets >= 0, open_key - offsets, -1), means=data["means"],
        open_key=open_key, open_sum=hs["open_sum"], open_count=int(hs["open_count"]),
        cycle=data["cycle"], level=hs["level"], quantum=hs["quantum"],
        resolution=hs["resolution"], step=hs["step"], last_time=hs["last_time"],
        last_value=hs["last_value"], smooth=bool(hs["smooth"]))
    thresholds = data["thresholds"]
    return WatchState(
        history=history, recent_times=data["recent_times"] + history.last_time,
        recent_values=data["recent_values"], scores=data["scores"],
        calibration=data["calibration"].reshape(len(SCALES), 2, EDGES.size),
        points=int(ss["points"]), hourly_noise=data["hourly"],
        thresholds=thresholds.reshape(len(SCALES), 2) if thresholds.size else thresholds,
        risk=ss["risk"], noise=ss["noise"], pending_decay=int(ss["pending_decay"]),
        episodes=data["episodes"].reshape(-1, 3), episode=data["episode"],
        episode_points=int(ss["episode_points"]))


def decode(blob: bytes) -> WatchState:
    """The state :func:`encode` wrote (or the first format wrote)."""
    if blob and blob[0] == 1:
        return _decode_v1(blob)
    if not blob or blob[0] != _FORMAT:
        raise ValueError("not a watch state of this format")
    scalars = np.frombuffer(blob, dtype=np.float64, count=_COUNT, offset=1).tolist()
    at = 1 + 8 * _COUNT
    sizes = dict(zip(_ARRAYS, np.frombuffer(blob, dtype=np.uint32, count=len(_ARRAYS),
                                            offset=at).tolist(), strict=True))
    at += 4 * len(_ARRAYS)
    data: dict[str, np.ndarray] = {}
    for dtype, names in _GROUPS:
        total = sum(sizes[n] for n in names)
        block = np.frombuffer(blob, dtype=dtype, count=total, offset=at)
        block = block.astype(np.int64 if dtype is np.int32 else np.float64)
        at += total * np.dtype(dtype).itemsize
        first = 0
        for name in names:
            data[name] = block[first:first + sizes[name]]
            first += sizes[name]
    return _state(scalars, data)


def _decode_v1(blob: bytes) -> WatchState:
    """The first format: each array as its byte length and its raw bytes."""
    scalars = np.frombuffer(blob, dtype=np.float64, count=_COUNT, offset=1).tolist()
    at = 1 + 8 * _COUNT
    data = {}
    for name in _ARRAYS:
        size = int(np.frombuffer(blob, dtype=np.uint32, count=1, offset=at)[0])
        at += 4
        dtype = _DTYPES[name]
        data[name] = np.frombuffer(blob, dtype=dtype, count=size // np.dtype(
            dtype).itemsize, offset=at).astype(np.float64 if name != "offsets" else np.int64)
        at += size
    return _state(scalars, data)
