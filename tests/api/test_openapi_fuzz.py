"""Schemathesis against the served OpenAPI of a real ``resilio serve``, with and without a token.

Every check schemathesis has runs (``--checks all``: no 5xx, status codes, content
types, headers and response bodies as documented, schema-valid requests accepted and
schema-violating ones refused, auth not ignored, ...), over its examples, coverage,
fuzzing and stateful phases, bounded by a fixed seed and a number of cases per
operation. ``schemathesis.toml`` beside this file says how the intake operations,
which keep good records and refuse bad ones per line, are judged. The HAR report of
each run counts the requests and the server errors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from store.db import upgrade
from tests.support.replicas import Replica

TOKEN = "fuzz-api-token"  # the JSON API's
WEBHOOK_TOKEN = "fuzz-webhook-token"  # intake's (schemathesis.toml sends it there)
CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 1


def fuzz(url: str, report: Path, *, token: str | None, examples: int,
         phases: str) -> tuple[int, str]:
    # One worker: hypothesis describing strategies from several threads trips a CPython
    # 3.11 bug in ast.parse ("AST constructor recursion depth mismatch").
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
               f"{url}/openapi.json", "--checks", "all", "--max-examples", str(examples),
               "--seed", str(SEED), "--workers", "1", "--request-timeout", "30",
               "--wait-for-schema", "60",
               "--phases", phases,
               "--report", "har", "--report-har-path", str(report), "--no-color"]
    env = {**os.environ, "FUZZ_INTAKE_AUTHORIZATION": f"Bearer {WEBHOOK_TOKEN}" if token else ""}
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env,
                          cwd=report.parent)  # its run cache goes there, not in the repo
    return done.returncode, done.stdout + done.stderr


def failures(output: str) -> str:
    """The failures section of schemathesis's output, without the reproducing curl lines."""
    start = output.find("=== FAILURES ===")
    lines = output[start if start >= 0 else -8000:].splitlines()
    return "\n".join(line[:400] for line in lines if not line.lstrip().startswith("curl "))[:8000]


def statuses(report: Path) -> Counter[int]:
    entries = json.loads(report.read_text())["log"]["entries"]
    return Counter(int(entry["response"]["status"]) for entry in entries)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # about 2 minutes on a quiet 2-core machine
def test_fuzzing_the_served_openapi_finds_no_5xx_and_no_violation(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'fuzz.db'}"
    upgrade(database)
    server = Replica({"DATABASE_URL": database, "RESILIO_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
                      "RESILIO_API_TOKEN": TOKEN, "RESILIO_RUN_SCHEDULER": "false"}, "fuzz")
    try:
        server.wait_ready()
        # One real incident with alerts, so reads of id 1 and its alert pages have data.
        seeded = httpx.post(f"{server.url}/webhooks/generic", timeout=10,
                            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
                            json=[{"type": "alert", "ts": "2026-11-26T10:00:00Z",
                                   "service": "rag-assistant", "name": f"Seed{i}"}
                                  for i in range(3)])
        assert seeded.status_code == 200, seeded.text
        totals: dict[str, Counter[int]] = {}
        runs = (("with token", TOKEN, 10, "examples,coverage,fuzzing,stateful"),
                ("without token", None, 3, "examples,coverage,fuzzing"))
        for label, token, examples, phases in runs:
            report = tmp_path / f"{label.replace(' ', '-')}.har"
            code, output = fuzz(server.url, report, token=token, examples=examples,
                                phases=phases)
            assert report.exists(), output[-4000:]
            totals[label] = statuses(report)
            errors = sum(n for status, n in totals[label].items() if status >= 500)
            print(f"schemathesis {label}: {sum(totals[label].values())} requests, "
                  f"{errors} answered 5xx; statuses {dict(sorted(totals[label].items()))}")
            assert code == 0, failures(output)
            assert errors == 0, failures(output)
        assert server.process.poll() is None, server.log.read_text()[-3000:]
        requests = sum(sum(c.values()) for c in totals.values())
        assert requests >= 1500, totals  # bounded, but enough to mean something
        assert totals["without token"][401] > 0
    finally:
        server.stop()
