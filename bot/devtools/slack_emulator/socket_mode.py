"""A local Socket Mode endpoint speaking Slack's envelope protocol.

``apps.connections.open`` on the emulator hands out this server's ``ws://`` URL.
On connect the server says ``hello``; ``deliver`` wraps a payload in an envelope
(``events_api``, ``slash_commands`` or ``interactive``) and waits for the client's
acknowledgement, which must echo the ``envelope_id``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class SocketModeServer:
    def __init__(self, *, app_id: str = "A0RESILIO1") -> None:
        self.app_id = app_id
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._clients: list[ServerConnection] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self.received: list[dict[str, Any]] = []  # every frame a client sent

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> SocketModeServer:
        self._server = serve(self._handle, "127.0.0.1", 0, compression=None)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="slack-emulator-ws", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket={uuid.uuid4()}&app_id={self.app_id}"

    def wait_for_client(self, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._clients), timeout)

    @property
    def connected(self) -> bool:
        return bool(self._clients)

    # -- protocol ------------------------------------------------------------------------
    def _handle(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({
            "type": "hello", "num_connections": len(self._clients) + 1,
            "debug_info": {"host": "emulator", "approximate_connection_time": 3600},
            "connection_info": {"app_id": self.app_id}}))
        with self._cond:
            self._clients.append(connection)
            self._cond.notify_all()
        try:
            for raw in connection:
                frame = json.loads(raw)
                with self._cond:
                    self.received.append(frame)
                    if "envelope_id" in frame:
                        self._acks[frame["envelope_id"]] = frame
                        self._cond.notify_all()
        except (ConnectionClosed, ValueError):
            pass
        finally:
            with self._cond:
                self._clients.remove(connection)

    def deliver(self, kind: str, payload: dict[str, Any], *, timeout: float = 5.0
                ) -> tuple[dict[str, Any] | None, float]:
        """Send one envelope; returns the client's ack frame (None on timeout) and latency."""
        if kind not in ("events_api", "slash_commands", "interactive"):
            raise ValueError(f"unknown envelope type {kind!r}")
        if not self.wait_for_client(timeout):
            raise RuntimeError("no Socket Mode client is connected")
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": 0, "retry_reason": ""}
        started = time.perf_counter()
        self._clients[0].send(json.dumps(envelope))
        with self._cond:
            self._cond.wait_for(lambda: envelope_id in self._acks, timeout)
            ack = self._acks.pop(envelope_id, None)
        return ack, time.perf_counter() - started
