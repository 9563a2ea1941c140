"""The demo's Slack workspace: the people, groups and channels the example catalog names,
and what the acts read back from it (a button on a message, a run's own message)."""

from __future__ import annotations

from bot.devtools.slack_emulator import SlackEmulator

ALERTS_CHANNEL = "C0ALERTS01"
PEOPLE = ("U0SRE0001", "U0SRE0002", "U0DATA001", "U0PLAT001", "U0ML00001", "U0ML00002",
          "U0EVAL001", "U0FINOPS1", "U0ML00777", "U0INFRA01")
NAMES = {"U0SRE0001": "sam.sre", "U0SRE0002": "ola.sre", "U0DATA001": "dana.data",
         "U0PLAT001": "pat.platform", "U0ML00001": "mia.ml", "U0ML00002": "max.ml",
         "U0EVAL001": "eve.eval", "U0FINOPS1": "finn.finops", "U0ML00777": "lee.ml",
         "U0INFRA01": "ian.infra"}


def populate(emulator: SlackEmulator) -> None:
    workspace = emulator.workspace
    for user in PEOPLE:
        workspace.add_user(user, name=NAMES[user])
    workspace.add_usergroup("S0INFRA01", "infra", ["U0SRE0001", "U0INFRA01"])
    workspace.add_usergroup("S0MLTEAM1", "ml-team", ["U0ML00001", "U0ML00777"])
    workspace.add_channel("ai-alerts", channel_id=ALERTS_CHANNEL, members=[])
    workspace.add_channel("ml-platform", channel_id="C0MLPLAT1")
    workspace.add_channel("payments", channel_id="C0PAYMNT1")


def has_button(slack: SlackEmulator, channel: str, ts: str, action_id: str) -> bool:
    """Whether the message ``ts`` shows the button ``action_id`` (yet)."""
    with slack.workspace.lock:
        blocks = slack.workspace.channel(channel).message(ts).blocks or []
    return any(element.get("action_id") == action_id for block in blocks
               for element in block.get("elements", []) if isinstance(element, dict))


def run_message(slack: SlackEmulator, channel: str, run_id: int) -> str | None:
    """The ts of the run's own Slack message (the one with Approve / Reject)."""
    with slack.workspace.lock:
        for message in slack.workspace.channel(channel).messages:
            if any(b.get("block_id") == f"runbook.run.{run_id}" for b in message.blocks):
                return str(message.ts)
    return None
