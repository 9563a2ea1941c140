"""Load and save the watch's models. Keyword-only; never commit.

A service's models are two rows of ``watch_bundles`` (its series' recent parts, and
their histories), each written with a random write token and replaced only while it
carries the token the writer read. What follows below the bundles' section heading
is theirs; before it, the per-series rows of ``watch_models``, what was stored
before migration 0011: read once and removed (nothing writes them any more).

The watch reads and writes every model of every service each run, so the
statements it runs every minute are Core statements compiled once that build no
ORM objects, and a run reads the bytes only where it must: one SELECT of the
bundle rows' ids and write tokens per service, one SELECT of their bytes only
when a token is not the one the reader last wrote (never, run after run, for the
process that does the watching), one UPDATE of the recent parts (and of the
histories when a half-hour closed). A run over many services reads every service's
ids and tokens in one SELECT (:func:`load_bundle_rows_of`) and replaces the rows of
all of them with one executemany UPDATE (:func:`replace_bundles`).
"""

from __future__ import annotations

import secrets
import struct
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import (
    Column,
    Select,
    Update,
    bindparam,
    delete,
    type_coerce,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import NullType
from sqlmodel import Session

from store.db import matched_rows, table_of
from store.watch_models import WatchBundle, WatchModel

SeriesKey = tuple[str, str, str]  # layer, name, slice key


@dataclass(frozen=True)
class StoredModel:
    """Where a series' model is and which save wrote it."""

    id: int
    token: int


def new_write_token() -> int:
    """A token for one save: random, positive, never 0 (what older rows carry)."""
    return secrets.randbelow(2**63 - 1) + 1


# by statement, database and parameter style (not the dialect object: engines come and go)
_FORMS: dict[tuple[ClauseElement, str, str], tuple[str, tuple[str, ...] | None]] = {}


def _run(session: Session, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]
         ) -> CursorResult[Any]:
    """``statement`` as SQLAlchemy compiles it for this database (once), run on the
    session's connection with ``rows`` as they are, one execution or an executemany.

    The values must already be what the driver takes (no type of the statement's
    converts them): per row, the ORM's parameter building cost several times the
    driver's own work on these statements.
    """
    connection = session.connection()
    dialect = connection.dialect
    where = (statement, dialect.name, dialect.paramstyle)
    form = _FORMS.get(where)
    if form is None:
        compiled = statement.compile(dialect=dialect)
        # the order of positional parameters; None where the driver takes named ones
        order = compiled.positiontup if isinstance(compiled, SQLCompiler) else None
        form = _FORMS[where] = (compiled.string, tuple(order) if order else None)
    sql, names = form
    values: list[Any] = ([tuple(row[n] for n in names) for row in rows] if names is not None
                         else [dict(row) for row in rows])
    return connection.exec_driver_sql(sql, values[0] if len(values) == 1 else values)


def load_watch_models(*, session: Session, service: str) -> dict[SeriesKey, bytes]:
    """Every stored model of ``service``, by series (all the bytes, in one SELECT)."""
    table = table_of(WatchModel)
    rows = session.execute(sa_select(table.c.layer, table.c.name, table.c.slice_key,
                                     table.c.model).where(table.c.service == service))
    return {(layer, name, key): bytes(model) for layer, name, key, model in rows}


def _bound(session: Session, column: Column[Any]) -> Callable[[datetime], Any]:
    """The column type's own conversion of a timestamp for this database, once per value.

    An UPDATE of thousands of rows carries a handful of distinct timestamps; the
    type's conversion per row (time zone, then SQLite's text form) cost more than
    the statement. The values go out as converted, bound untyped (``type_coerce``
    to ``NullType``: a typed bind in ``values()`` would take the column's type).
    """
    processor = column.type.bind_processor(session.get_bind().dialect)
    done: dict[datetime, Any] = {}

    def convert(value: datetime) -> Any:
        out = done.get(value)
        if out is None:
            out = done[value] = processor(value) if processor is not None else value
        return out

    return convert


# --- a service's models as two rows of ``watch_bundles`` -------------------------------

RECENT, HISTORY = "recent", "history"  # the parts of a service's models, one row each
_PACKED = 1  # the format of :func:`pack_series`


class WatchModelsMoved(RuntimeError):
    """A bundle no longer carries the write token this transaction read: another writer
    saved the service's models meanwhile. The run rolls back; the next one reads theirs."""


def pack_series(parts: Mapping[SeriesKey, bytes]) -> bytes:
    """The bytes of every series of a service in one blob, in key order.

    A format byte and the count, then per series the lengths of its layer, name,
    slice key and bytes (four little-endian uint32), then all of them in that order.
    """
    keys = sorted(parts)
    lengths: list[int] = []
    pieces: list[bytes] = []
    for key in keys:
        text, sizes = _key_bytes(key)
        blob = parts[key]
        lengths += sizes
        lengths.append(len(blob))
        pieces += text
        pieces.append(blob)
    return b"".join([struct.pack(f"<BI{len(lengths)}I", _PACKED, len(keys), *lengths),
                     *pieces])


@lru_cache(maxsize=65_536)
def _key_bytes(key: SeriesKey) -> tuple[tuple[bytes, ...], tuple[int, ...]]:
    """A series key as the UTF-8 of its parts and their lengths (the same keys every run)."""
    text = tuple(part.encode() for part in key)
    return text, tuple(len(t) for t in text)


def unpack_series(blob: bytes) -> dict[SeriesKey, bytes]:
    """The series' bytes :func:`pack_series` packed."""
    if len(blob) < 5 or blob[0] != _PACKED:
        raise ValueError("not a bundle of watch models of this format")
    (count,) = struct.unpack_from("<I", blob, 1)
    lengths = struct.unpack_from(f"<{4 * count}I", blob, 5)
    at = 5 + 16 * count
    out: dict[SeriesKey, bytes] = {}
    for i in range(count):
        fields = []
        for n in lengths[4 * i:4 * i + 4]:
            fields.append(blob[at:at + n])
            at += n
        if at > len(blob):
            raise ValueError("a bundle of watch models cut short")
        layer, name, key, data = fields
        out[(layer.decode(), name.decode(), key.decode())] = data
    return out


@cache
def _bundle_statements() -> tuple[Select[Any], Update]:
    """A service's bundle rows, and the replacement of a row that still carries the token
    read (built once, as :func:`_statements`)."""
    table = table_of(WatchBundle)
    rows = sa_select(table.c.part, table.c.id, table.c.write_token).where(
        table.c.service == bindparam("service"))
    replace = update(table).where(
        table.c.id == bindparam("_id"), table.c.write_token == bindparam("_read")).values(
        model=bindparam("model"), write_token=bindparam("_token"),
        last_point=type_coerce(bindparam("_last"), NullType()),
        updated_at=type_coerce(bindparam("_written"), NullType()))
    return rows, replace


def load_bundle_rows(*, session: Session, service: str) -> dict[str, StoredModel]:
    """The bundle rows of ``service`` by part: their ids and write tokens, not their bytes."""
    rows = cast(Sequence[tuple[str, int, int]],
                _run(session, _bundle_statements()[0], [{"service": service}]).all())
    return {part: StoredModel(row_id, token) for part, row_id, token in rows}


_IN_CHUNK = 500  # services per SELECT (well under any driver's limit on parameters)


def load_bundle_rows_of(*, session: Session, services: Sequence[str]
                        ) -> dict[str, dict[str, StoredModel]]:
    """The bundle rows of each of ``services`` by part (a service with none: no entry),
    as :func:`load_bundle_rows`, in one SELECT per few hundred services."""
    table = table_of(WatchBundle)
    out: dict[str, dict[str, StoredModel]] = {}
    for at in range(0, len(services), _IN_CHUNK):
        chunk = sorted(set(services[at:at + _IN_CHUNK]))
        rows = session.execute(sa_select(table.c.service, table.c.part, table.c.id,
                                         table.c.write_token).where(
            table.c.service.in_(chunk)))
        for service, part, row_id, token in rows:
            out.setdefault(service, {})[part] = StoredModel(row_id, token)
    return out


@dataclass(frozen=True)
class BundleWrite:
    """One service's bundle parts to replace: the rows as read (``known``) and the bytes."""

    service: str
    parts: Mapping[str, bytes]
    last_point: datetime
    token: int
    known: Mapping[str, StoredModel]


def replace_bundles(*, session: Session, writes: Sequence[BundleWrite], now: datetime
                    ) -> None:
    """Replace the bundle rows of every write in one executemany UPDATE (not committed).

    Every part must be one of its write's ``known`` rows (a service's first bundles
    are inserted by :func:`save_bundles`). Each row is replaced only while it still
    carries the token read; when fewer rows than written matched, another writer
    saved some service meanwhile and :class:`WatchModelsMoved` is raised: the
    caller rolls the whole statement back (it does not say which service moved).
    """
    table = table_of(WatchBundle)
    stamp = _bound(session, table.c.last_point)
    written = stamp(now)
    rows = []
    for write in writes:
        last = stamp(write.last_point)
        for part, blob in sorted(write.parts.items()):
            row = write.known[part]
            rows.append({"_id": row.id, "_read": row.token, "model": blob,
                         "_token": write.token, "_last": last, "_written": written})
    if not rows:
        return
    matched = _run(session, _bundle_statements()[1], rows).rowcount
    if matched != len(rows):
        raise WatchModelsMoved(f"{len(rows) - matched} of {len(rows)} bundle rows were "
                               "saved by another writer since this run read them")


def load_bundle_blobs(*, session: Session, ids: Collection[int]) -> dict[int, bytes]:
    """The bytes of the bundle rows ``ids`` (one statement: one snapshot on PostgreSQL)."""
    table = table_of(WatchBundle)
    rows = session.execute(sa_select(table.c.id, table.c.model).where(
        table.c.id.in_(sorted(ids))))
    return {row_id: bytes(model) for row_id, model in rows}


def save_bundles(*, session: Session, service: str, parts: Mapping[str, bytes],
                 last_point: datetime, now: datetime, token: int,
                 known: Mapping[str, StoredModel]) -> None:
    """Write the bundle rows ``parts`` of ``service`` with ``token``.

    A part in ``known`` (what :func:`load_bundle_rows` found in this transaction) is
    replaced only if its row still carries the token read then; a part not in
    ``known`` is inserted only if no row of it exists (``ON CONFLICT DO NOTHING``:
    two runs creating the same service's first bundles). Either way a row another
    writer saved since this run read raises :class:`WatchModelsMoved` (never an
    ``IntegrityError``, which would end the whole run), so two writers never
    overwrite each other's models with their own older reading.
    """
    table = table_of(WatchBundle)
    stamp = _bound(session, table.c.last_point)
    for part, blob in sorted(parts.items()):
        row = known.get(part)
        if row is None:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            written = len(session.execute(
                dialect.insert(table).on_conflict_do_nothing().values(
                    service=service, part=part, write_token=token, model=blob,
                    last_point=last_point, updated_at=now).returning(table.c.id)).all())
        else:
            written = _run(session, _bundle_statements()[1], [{
                "_id": row.id, "_read": row.token, "model": blob, "_token": token,
                "_last": stamp(last_point), "_written": stamp(now)}]).rowcount
        if written != 1:
            raise WatchModelsMoved(f"the {part} models of {service!r} were saved by "
                                   "another writer since this run read them")


def delete_watch_models(*, session: Session, service: str) -> int:
    """Remove ``service``'s rows of ``watch_models`` (read once into its bundles)."""
    table = table_of(WatchModel)
    return matched_rows(session.execute(delete(table).where(table.c.service == service)))
