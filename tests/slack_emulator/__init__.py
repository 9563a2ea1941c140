"""The Slack emulator lives in ``bot.devtools.slack_emulator`` so ``resilio demo`` can use it
from an installed package; tests import it from here or from there."""

from bot.devtools.slack_emulator import (  # noqa: F401
    Call,
    Delivery,
    SlackEmulator,
    SlackError,
    Workspace,
    render_blocks,
    render_transcript,
)

__all__ = ["Call", "Delivery", "SlackEmulator", "SlackError", "Workspace", "render_blocks",
           "render_transcript"]
