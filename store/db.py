"""Engines, sessions and migrations. Nothing is built at import time."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, create_engine

if TYPE_CHECKING:  # alembic is imported only when migrating
    from alembic.config import Config

DEFAULT_URL = "sqlite:///resilio.db"
MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str = DEFAULT_URL, *, pool_size: int = 10, max_overflow: int = 20,
                pool_timeout: float = 5.0) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
            # WAL lets readers run beside the one writer; busy_timeout waits instead of failing.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                         pool_timeout=pool_timeout, pool_pre_ping=True,
                         connect_args={"connect_timeout": max(1, int(pool_timeout))})


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def write_lock(engine: Engine) -> AbstractContextManager[object]:
    """Serialise read-then-write transactions in this process on SQLite.

    SQLite has one writer and no row locks: two threads that both read "triggered"
    would both write. PostgreSQL callers lock rows instead (``with_for_update``), so
    for them this is a no-op.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(engine, threading.Lock())


_FAILURES: weakref.WeakKeyDictionary[Engine, tuple[float, str]] = weakref.WeakKeyDictionary()


def _transient(error: OperationalError) -> bool:
    """Lock waits and PostgreSQL's broken lock cycles: the caller retries, nothing is wrong."""
    if getattr(error.orig, "sqlstate", None) in ("40P01", "40001", "55P03"):
        return True
    return "database is locked" in str(error.orig)


def last_failure(engine: Engine) -> tuple[float, str] | None:
    """When (``time.monotonic()``) and why a unit of work last failed in the database itself.

    A full disk, a read-only file or a lost server fail every write while ``SELECT 1``
    still answers; ``/healthz`` reads this to say so.
    """
    return _FAILURES.get(engine)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a table model, for bulk statements that build no ORM objects."""
    table = sa_inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


def matched_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched.

    ``Session.execute`` is typed to return any ``Result``; for a DML statement it is a
    ``CursorResult``, the one kind that counts rows.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {type(result).__name__}")
    return int(result.rowcount or 0)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException as error:
        if isinstance(error, OperationalError) and not _transient(error):
            _FAILURES[engine] = (time.monotonic(), str(error.orig or error).splitlines()[0])
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` with alembic."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
