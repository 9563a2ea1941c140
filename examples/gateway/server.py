"""The gateway's HTTP API on loopback (standard library only, so it starts in milliseconds).

Writes (``POST /model``, ``PUT /flags/{name}`` ...) need ``Authorization: Bearer
<token>`` when the gateway was started with a token (``--token`` or
``GATEWAY_TOKEN``). ``GET /signals?since=...&until=...`` returns the
exchange-format records the gateway has emitted; with ``--push URL`` it also posts
each tick's records to the bot's ``POST /v1/signals``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from examples.gateway.state import Gateway, Refused


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment


class _Handler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            super().log_message(format, *args)

    def _reply(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        data = json.loads(self.rfile.read(length))
        if not isinstance(data, dict):
            raise Refused("the body must be a JSON object")
        return data

    def _authorised(self) -> bool:
        token = self.server.token
        return not token or self.headers.get("Authorization") == f"Bearer {token}"

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        gateway = self.server.gateway
        if url.path == "/healthz":
            self._reply(200, {"ok": True})
        elif url.path == "/state":
            self._reply(200, gateway.snapshot())
        elif url.path == "/flags":
            self._reply(200, gateway.snapshot()["flags"])
        elif url.path == "/signals":
            try:
                records = gateway.since(_parse_time(query.get("since")),
                                        _parse_time(query.get("until")))
            except ValueError as error:
                self._reply(400, {"error": f"bad time: {error}"})
                return
            lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
            self._reply(200, lines.encode(), "application/x-ndjson")
        elif url.path == "/slow":
            time.sleep(float(query.get("seconds", "5")))
            self._reply(200, {"slept": float(query.get("seconds", "5"))})
        else:
            self._reply(404, {"error": f"no route GET {url.path}"})

    def _write(self, method: str) -> None:
        url = urlparse(self.path)
        if not self._authorised():
            self._reply(401, {"error": "missing or wrong bearer token"})
            return
        gateway = self.server.gateway
        try:
            body = self._body()
            author = body.get("author")
            previous: str | bool | int | None  # what the setting was before this write
            if method == "POST" and url.path == "/infer":
                self._reply(200, gateway.answer(str(body.get("prompt", ""))))
                return
            if method == "POST" and url.path == "/model":
                previous = gateway.set_model(str(body["version"]), author)
            elif method == "POST" and url.path == "/prompt":
                previous = gateway.set_prompt(str(body["version"]), author)
            elif method == "POST" and url.path == "/retrieval-index":
                previous = gateway.set_index(str(body["index"]), author)
            elif method == "POST" and url.path == "/fallback":
                mode = body.get("mode")
                previous = gateway.set_fallback(None if mode is None else str(mode), author)
            elif method == "PUT" and url.path.startswith("/flags/"):
                enabled = body.get("enabled")
                if not isinstance(enabled, bool):
                    raise Refused("'enabled' must be true or false")
                previous = gateway.set_flag(url.path.removeprefix("/flags/"), enabled, author)
            elif method == "POST" and url.path == "/replicas":
                previous = gateway.set_replicas(int(body["count"]), author)
            elif method == "POST" and url.path == "/token-cap":
                cap = body.get("max_tokens")
                previous = gateway.set_token_cap(None if cap is None else int(cap), author)
            else:
                self._reply(404, {"error": f"no route {method} {url.path}"})
                return
        except KeyError as error:
            self._reply(400, {"error": f"missing field {error}"})
            return
        except (Refused, ValueError, TypeError) as error:
            self._reply(400, {"error": str(error)})
            return
        self._reply(200, {"ok": True, "previous": previous, "state": gateway.snapshot()})

    def do_POST(self) -> None:  # noqa: N802
        self._write("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._write("PUT")


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 0, *,
                 token: str | None = None, tick_seconds: float = 10.0,
                 push_url: str | None = None, push_token: str | None = None,
                 verbose: bool = False) -> None:
        super().__init__((host, port), _Handler)
        self.gateway = gateway
        self.token = token
        self.tick_seconds = tick_seconds
        self.push_url = push_url
        self.push_token = push_token
        self.verbose = verbose
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_forever, daemon=True,
                                        name="gateway-ticker")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):  # the socket module's type allows bytes; IPv4 gives str
            host = host.decode()
        return f"http://{host}:{port}"

    def start(self) -> GatewayServer:
        """Serve and tick on background threads (for tests and the demo)."""
        self._ticker.start()
        threading.Thread(target=self.serve_forever, daemon=True, name="gateway-http").start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.shutdown()
        self.server_close()

    def _tick_forever(self) -> None:
        while not self._stop.is_set():
            records = self.gateway.tick()
            if self.push_url:
                self._push(records)
            self._stop.wait(self.tick_seconds)

    def _push(self, records: list[dict[str, Any]]) -> None:
        body = "".join(json.dumps(r) + "\n" for r in records).encode()
        request = urllib.request.Request(self.push_url or "", data=body, method="POST",
                                         headers={"Content-Type": "application/x-ndjson"})
        if self.push_token:
            request.add_header("Authorization", f"Bearer {self.push_token}")
        try:
            urllib.request.urlopen(request, timeout=5).close()
        except OSError as error:  # the bot may be restarting; the next tick tries again
            print(f"gateway: push failed: {error}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.gateway",
                                     description="A toy AI model gateway for Resilio demos.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700, help="0 picks a free port")
    parser.add_argument("--service", default="rag-assistant")
    parser.add_argument("--model", default="v7", help="model version served at start")
    parser.add_argument("--tick", type=float, default=10.0, help="seconds between signal ticks")
    parser.add_argument("--token", default=os.environ.get("GATEWAY_TOKEN"))
    parser.add_argument("--push", help="POST each tick's records here (the bot's /v1/signals)")
    parser.add_argument("--push-token", default=os.environ.get("RESILIO_WEBHOOK_TOKEN"))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    gateway = Gateway(service=args.service, model_version=args.model)
    server = GatewayServer(gateway, args.host, args.port, token=args.token,
                           tick_seconds=args.tick, push_url=args.push,
                           push_token=args.push_token, verbose=args.verbose)
    print(f"gateway listening on {server.url}", flush=True)
    server._ticker.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
