"""Runs one runbook to its end in this process, so a test can SIGKILL it mid-run.

``python -m tests.runbooks.crash_runner DB_URL RUNBOOK_DIR GATEWAY_URL INCIDENT NAME``
"""

from __future__ import annotations

import sys

from bot import runbook_runs
from tests.runbooks.support import build_bot


def main(db_url: str, directory: str, gateway_url: str, incident_id: str, name: str) -> int:
    services = build_bot(db_url, [directory], gateway_url=gateway_url)
    started = runbook_runs.start(services, incident_id=int(incident_id), name=name,
                                 params={"gateway_url": gateway_url}, actor="U0SRE0001",
                                 wait=True)
    print(runbook_runs.run_view(services, run_id=started.run.id or 0)["status"], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
