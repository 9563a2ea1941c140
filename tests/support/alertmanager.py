"""The real Prometheus Alertmanager on loopback, configured to post to the bot."""

from __future__ import annotations

import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bot.devtools.processes import stop_process, wait_until_ready


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CONFIG = """\
route:
  receiver: resilio
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: resilio
    webhook_configs:
      - url: {url}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


class AlertmanagerProcess:
    def __init__(self, binary: str, webhook_url: str, token: str) -> None:
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="resilio-am-"))
        self.port = _free_port()
        (self.root / "alertmanager.yml").write_text(CONFIG.format(url=webhook_url, token=token))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AlertmanagerProcess:
        log = open(self.root / "alertmanager.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [self.binary, f"--config.file={self.root / 'alertmanager.yml'}",
             f"--storage.path={self.root / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
            stdout=log, stderr=subprocess.STDOUT)
        wait_until_ready(f"{self.url}/-/ready", self.process, "Alertmanager", self.log)
        return self

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=10).raise_for_status()

    def log(self) -> str:
        path = self.root / "alertmanager.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        stop_process(self.process)
