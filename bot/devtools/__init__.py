"""Tools for running the bot without the outside world (the Slack emulator)."""
