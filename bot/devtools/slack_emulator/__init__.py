"""A local Slack (Web API, Socket Mode, and the people clicking) for tests and the demo.

    from bot.devtools.slack_emulator import SlackEmulator, render_transcript

    with SlackEmulator() as slack:            # serves on 127.0.0.1
        settings.slack_api_url = slack.url    # the bot's WebClient talks to it
        ...
        print(render_transcript(slack, channel_id))
"""

from bot.devtools.slack_emulator.server import Call, Delivery, SlackEmulator
from bot.devtools.slack_emulator.transcript import render_blocks, render_transcript
from bot.devtools.slack_emulator.workspace import SlackError, Workspace

__all__ = ["Call", "Delivery", "SlackEmulator", "SlackError", "Workspace", "render_blocks",
           "render_transcript"]
