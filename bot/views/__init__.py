"""Block Kit as pure functions: domain objects in, Slack payload dicts out.

No I/O and no Slack client here, so every view can be checked against Slack's
limits in a unit test (and by the emulator) without a network.
"""
