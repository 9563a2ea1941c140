"""The Slack emulator fixture of tests/slack, for the digest posting tests."""

from tests.slack.conftest import slack  # noqa: F401
