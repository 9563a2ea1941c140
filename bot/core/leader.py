"""One leader among replicas, so scheduled work runs once.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its
own. If the leader's process dies, PostgreSQL drops its connection and the lock with
it, and another replica takes it at its next poll (``poll_seconds``, 5 s by default),
well inside the 30 s the operators are promised. On SQLite there is one process, and
it is the leader.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

# An arbitrary constant: the advisory-lock key every Resilio replica agrees on.
ADVISORY_KEY = 0x5E511110


class LeaderElection:
    def __init__(self, engine: Engine, *, on_elected: Callable[[], None],
                 on_lost: Callable[[], None], poll_seconds: float = 5.0) -> None:
        self.engine = engine
        self.on_elected, self.on_lost = on_elected, on_lost
        self.poll_seconds = poll_seconds
        self.is_leader = False
        self._connection: Connection | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="resilio-leader", daemon=True)

    @property
    def single_process(self) -> bool:
        return self.engine.dialect.name != "postgresql"

    def start(self) -> LeaderElection:
        if self.single_process:
            self._become_leader()
            return self
        self.poll()
        self._thread.start()
        return self

    def poll(self) -> bool:
        """One round: keep the lock if we hold it, else try to take it."""
        if self.is_leader:
            if not self._still_held():
                self._lose("lost its database connection")
            return self.is_leader
        try:
            connection = self.engine.connect()
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                       {"key": ADVISORY_KEY}).scalar()
            connection.commit()
        except Exception as error:  # the database is down: stay a follower, try again later
            log.warning("leader election: cannot reach the database: %s", error)
            return False
        if taken:
            self._connection = connection
            self._become_leader()
        else:
            connection.close()
        return self.is_leader

    def _still_held(self) -> bool:
        try:
            assert self._connection is not None
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except Exception:
            return False

    def _become_leader(self) -> None:
        self.is_leader = True
        log.info("this replica is now the scheduler leader")
        self.on_elected()

    def _lose(self, why: str) -> None:
        log.warning("this replica is no longer the leader: %s", why)
        self.is_leader = False
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.invalidate()
            self._connection = None
        self.on_lost()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.poll()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.poll_seconds + 2)
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                         {"key": ADVISORY_KEY})
                self._connection.close()
            except Exception:
                pass
            self._connection = None
        self.is_leader = False
