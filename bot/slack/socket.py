"""Socket Mode: the same Bolt app over a websocket Slack opens, for bots without a public URL.

``resilio serve --socket-mode`` calls ``start_socket_mode`` (connects and returns, so
the HTTP server still takes webhooks); tests use it too against the emulator, whose
``apps.connections.open`` hands out a local ``ws://`` URL.
"""

from __future__ import annotations

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.core.errors import UserError
from bot.core.services import Services
from bot.slack.app import build_slack_app


def _handler(services: Services) -> SocketModeHandler:
    token = services.settings.slack_app_token
    if not token:
        raise UserError("Socket Mode needs SLACK_APP_TOKEN (an xapp- token with "
                         "connections:write)")
    app = build_slack_app(services, socket_mode=True)
    return SocketModeHandler(app, app_token=token, web_client=app.client)


def start_socket_mode(services: Services) -> SocketModeHandler:
    """Connect and return the handler (``close()`` it to disconnect)."""
    handler = _handler(services)
    handler.connect()
    return handler

