"""Waiting for a server process we started (Prometheus, Alertmanager) to become ready."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import httpx


def wait_until_ready(url: str, process: subprocess.Popen[bytes], what: str,
                     read_log: Callable[[], str], timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers 200; fail with the log tail if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start: " + read_log()[-2000:])


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """Ask politely (SIGTERM), then insist (SIGKILL) if it has not gone within ``timeout``."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
