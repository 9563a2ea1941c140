"""Running the HTTP app with uvicorn, in the foreground or in a thread (demo, tests)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from bot.app.http import create_app
from bot.core.services import Services


def serve(app: FastAPI, host: str, port: int) -> None:
    """``resilio serve``: uvicorn tuned for Slack's 3-second ack deadline.

    No access log: a line per request written from the event loop costs more than
    the ack itself when Slack sends a burst (errors are still logged). uvicorn picks
    uvloop and httptools when installed (``uvicorn[standard]``), the faster parser
    and loop for the same reason.
    """
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """uvicorn in a daemon thread on loopback; ``url`` once started."""

    def __init__(self, services: Services, host: str = "127.0.0.1", port: int | None = None,
                 log_level: str = "warning") -> None:
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(create_app(services), host=host, port=self.port,
                                log_level=log_level, access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="resilio-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the HTTP server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
