"""Who this process is (``host:pid``), and whether a process named so is gone.

Work claimed in the database (outbox tasks, runbook runs) carries its claimant's
name. A claimant on another host is judged by its heartbeat or lease alone; one on
this host whose pid no longer exists is certainly dead, so its work can be taken
over at once instead of after the lease, which is what a restart on the same
machine needs.
"""

from __future__ import annotations

import os
import socket

HOST = socket.gethostname()
RUNNER = f"{HOST}:{os.getpid()}"


def gone(runner: str | None) -> bool:
    """True only when ``runner`` names a process of this host that has exited."""
    if not runner or runner == RUNNER:
        return False
    host, _, pid = runner.rpartition(":")
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False
