"""The watch's models between runs: decoded once per process, saved as two rows per service.

Every run needs every series' model; reading and decoding thousands of them a
minute costs more than testing their new points, and writing them back cost
more still (a row of twelve kilobytes per series, two thirds of it half-hour
buckets that had not changed). So a service's models are kept in two rows of
``watch_bundles`` (:mod:`store.watch_queries`): the recent parts of all its
series, rewritten every run, and their histories, rewritten only when one moved
(a half-hour closed, a cycle was refitted). Each save draws a random write token
for the rows it writes; this process keeps the decoded states with the tokens it
wrote, and a load whose rows still carry them reads no bytes at all. Another
replica's write, a restore or a save rolled back (the rows keep the token
before) is always read and decoded afresh, and a save replaces a row only if it
still carries the token this run read, so two writers never overwrite each
other's models with an older reading.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from classifiers.watch_codec import (
    decode,
    decode_parts,
    encode_parts,
    history_part,
    recent_parts,
)
from classifiers.watch_test import WatchState
from store.db import session_scope
from store.watch_queries import (
    HISTORY,
    RECENT,
    BundleWrite,
    SeriesKey,
    StoredModel,
    WatchModelsMoved,
    delete_watch_models,
    load_bundle_blobs,
    load_bundle_rows,
    load_bundle_rows_of,
    load_watch_models,
    new_write_token,
    pack_series,
    replace_bundles,
    save_bundles,
    unpack_series,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

_NO_ROW = -1  # the token of a part with no row (every stored token is at least 0)


@dataclass(frozen=True)
class StoredModels:
    """A service's models as one run found them: decoded, and which rows hold them."""

    states: dict[SeriesKey, WatchState]
    rows: dict[str, StoredModel]  # the bundle rows by part (none for a new service)
    legacy: bool = False          # read from ``watch_models``: the save moves them


@dataclass(frozen=True)
class ModelsToSave:
    """What a run writes for a service: the bundle parts that moved, with their token."""

    token: int
    parts: dict[str, bytes]       # the recent part, and the histories when one moved
    last_point: datetime | None   # the newest point of the models (None: nothing to save)


@dataclass(frozen=True)
class _Entry:
    """A service's models as this process last read or wrote them."""

    tokens: tuple[int, int]            # the recent and history rows' tokens then
    states: dict[SeriesKey, WatchState]
    recent: dict[SeriesKey, bytes]     # each state's two parts (encoded or read)
    history: dict[SeriesKey, bytes]


class ModelCache:
    """The decoded models of the services this process watched, by the save that wrote them.

    States are immutable, so a bundle that still carries this process's tokens is
    taken as it was encoded. Bounded by the number of series kept: the services
    used least recently go first.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self._limit = limit
        self._series = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def load(self, session: Session, service: str) -> StoredModels:
        """The stored models of ``service``: the bytes read only where a token is not ours."""
        return self._found(session, service, load_bundle_rows(session=session,
                                                              service=service))

    def load_many(self, session: Session, services: Sequence[str]
                  ) -> dict[str, StoredModels]:
        """:meth:`load` for each of ``services``, their rows' tokens read in one SELECT."""
        rows = load_bundle_rows_of(session=session, services=services)
        return {service: self._found(session, service, rows.get(service, {}))
                for service in services}

    def _found(self, session: Session, service: str, rows: dict[str, StoredModel]
               ) -> StoredModels:
        """The models of ``service`` whose bundle rows are ``rows``: as cached when they
        carry the tokens this process wrote, read and decoded otherwise."""
        tokens = tuple(rows[p].token if p in rows else _NO_ROW for p in (RECENT, HISTORY))
        entry = self._entries.get(service)
        if entry is not None and entry.tokens == tokens and rows:
            self._entries.move_to_end(service)
            return StoredModels(entry.states, rows)
        legacy = False
        if RECENT in rows and HISTORY in rows:
            blobs = load_bundle_blobs(session=session, ids=[rows[RECENT].id, rows[HISTORY].id])
            recent = unpack_series(blobs[rows[RECENT].id])
            history = unpack_series(blobs[rows[HISTORY].id])
            recent = {key: part for key, part in recent.items() if key in history}
            states = {key: decode_parts(part, history[key]) for key, part in recent.items()}
        else:  # never saved as a bundle: the service's rows of ``watch_models``, if any
            states = {key: decode(blob)
                      for key, blob in load_watch_models(session=session, service=service).items()}
            legacy = bool(states)
            recent, history = {}, {}
            for key, state in states.items():
                recent[key], history[key] = encode_parts(state)
        self._put(service, _Entry((tokens[0], tokens[1]), states, recent, history))
        return StoredModels(states, rows, legacy)

    def to_save(self, service: str, stored: StoredModels,
                states: Mapping[SeriesKey, WatchState], changed: frozenset[SeriesKey]
                ) -> ModelsToSave:
        """The parts to write for the models ``changed`` among ``states``; remembered as
        written with their new token.

        The bundles hold every model of the service: those that did not change are
        packed as they were read or last written (models read from ``watch_models``
        go into the service's first bundles this way).
        """
        entry = self._entries.get(service) or _Entry((_NO_ROW, _NO_ROW), {}, {}, {})
        moved = sorted(key for key in changed
                       if key in states and math.isfinite(states[key].history.last_time))
        token = new_write_token()
        if not moved:
            return ModelsToSave(token, {}, None)
        kept, recent, history = dict(entry.states), dict(entry.recent), dict(entry.history)
        histories_moved = HISTORY not in stored.rows
        # the recent parts of all moved models converted together (one block)
        for key, part in zip(moved, recent_parts([states[key] for key in moved]), strict=True):
            before = entry.history.get(key)
            previous = entry.states.get(key)
            state = kept[key] = states[key]
            recent[key] = part
            history[key] = history_part(
                state, None if previous is None or before is None else (previous, before))
            histories_moved = histories_moved or history[key] is not before
        parts = {RECENT: pack_series(recent)}
        if histories_moved:
            parts[HISTORY] = pack_series(history)
        tokens = (token, token if histories_moved else entry.tokens[1])
        self._put(service, _Entry(tokens, kept, recent, history))
        newest = max(s.history.last_time for s in kept.values())
        return ModelsToSave(token, parts, datetime.fromtimestamp(newest, UTC))

    def _put(self, service: str, entry: _Entry) -> None:
        old = self._entries.pop(service, None)
        self._series += len(entry.states) - (len(old.states) if old is not None else 0)
        self._entries[service] = entry
        while self._series > self._limit and len(self._entries) > 1:
            _, dropped = self._entries.popitem(last=False)
            self._series -= len(dropped.states)


def save_models(*, session: Session, service: str, stored: StoredModels,
                models: ModelsToSave, now: datetime) -> None:
    """Write what :meth:`ModelCache.to_save` gave, in the run's transaction (not committed).

    Raises :class:`store.watch_queries.WatchModelsMoved` when another writer saved
    the service's models since ``stored`` was read.
    """
    if models.last_point is None:
        return
    save_bundles(session=session, service=service, parts=models.parts,
                 last_point=models.last_point, now=now, token=models.token,
                 known=stored.rows)
    if stored.legacy:
        delete_watch_models(session=session, service=service)


@dataclass(frozen=True)
class PendingSave:
    """A service's models judged in a run, to be saved with the other services' at its end."""

    service: str
    stored: StoredModels
    models: ModelsToSave


def deferrable(stored: StoredModels, models: ModelsToSave) -> bool:
    """Whether the save only replaces bundle rows the run read (what :func:`save_all`
    batches): not a service's first bundles, not a move out of ``watch_models``."""
    return not stored.legacy and all(part in stored.rows for part in models.parts)


def save_all(engine: Engine, pending: Sequence[PendingSave], now: datetime) -> list[str]:
    """Save every pending service's models in one transaction; the services left to the
    next run (another writer saved theirs meanwhile).

    One executemany UPDATE and one commit for all of them instead of one per
    service. A watch state is not an incident: until this commits, the run's
    models are in this process only, so a crash before it loses the run's
    learning (never an incident: those commit with their service's models as they
    open). The stored rows then still carry the tokens before, the next process
    (or run, whose cache no longer matches them) reads and decodes them, and the
    points since their last one are read from the signals again: the models
    catch up. When another writer saved some service meanwhile, the batch rolls
    back and each service is saved in its own transaction as before, so only
    those that moved are left out.
    """
    work = [p for p in pending if p.models.last_point is not None]
    if not work:
        return []
    try:
        with session_scope(engine) as session:
            replace_bundles(session=session, now=now, writes=[
                BundleWrite(p.service, p.models.parts, p.models.last_point, p.models.token,
                            p.stored.rows)
                for p in work if p.models.last_point is not None])
        return []
    except WatchModelsMoved:
        pass
    left = []
    for p in work:
        try:
            with session_scope(engine) as session:
                save_models(session=session, service=p.service, stored=p.stored,
                            models=p.models, now=now)
        except WatchModelsMoved:
            left.append(p.service)
    return left
