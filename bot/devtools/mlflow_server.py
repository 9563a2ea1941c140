"""A real ``mlflow server`` on loopback (SQLite backend): tests and ``resilio demo --mlflow``.

MLflow's webhooks refuse plain-HTTP and private addresses by default (SSRF
protection); on loopback both are what we want, so the server is started with
``MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http,https`` and
``MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true``, and no cache of the webhook list
(``MLFLOW_WEBHOOK_CACHE_TTL=0``): with MLflow's cache, an event within the cache's
lifetime of the same event before it goes to the webhooks of that moment, so a webhook
created a moment ago misses it and one deleted a moment ago still gets it (tests that
follow one another within a second lost their deliveries to the previous test's bot).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.devtools.processes import stop_process, wait_until_ready


def mlflow_available() -> bool:
    try:
        import mlflow  # noqa: F401
    except ImportError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MlflowServer:
    def __init__(self, workdir: Path | None = None) -> None:
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="resilio-mlflow-"))
        self.port = _free_port()
        self.log = self.workdir / "mlflow.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 300.0) -> MlflowServer:
        executable = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or \
            shutil.which("mlflow")
        if executable is None:
            raise RuntimeError("the mlflow command is not installed (pip install mlflow)")
        env = {**os.environ, "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
               "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true", "MLFLOW_WEBHOOK_CACHE_TTL": "0",
               "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES": "2"}
        self.process = subprocess.Popen(
            [executable, "server", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1",
             "--backend-store-uri", f"sqlite:///{self.workdir / 'mlflow.db'}",
             "--default-artifact-root", str(self.workdir / "artifacts")],
            env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        wait_until_ready(f"{self.url}/health", self.process, "mlflow server",
                         lambda: self.log.read_text(errors="replace"), timeout=timeout)
        return self

    def stop(self) -> None:
        stop_process(self.process)

    def __enter__(self) -> MlflowServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
