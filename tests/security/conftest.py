"""The security tests reuse the running bot and Slack emulator of the Slack tests."""

from tests.slack.conftest import bot, slack  # noqa: F401 - fixtures
