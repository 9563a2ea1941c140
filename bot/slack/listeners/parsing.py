"""Slash-command text to a typed request, or a usage error saying what was wrong.

Pure and I/O-free, so the ack function can reject a bad command within
milliseconds and the rules can be unit-tested without Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.incidents.lifecycle import ROLES, SEVERITIES
from bot.views.markup import plain_from_slack
from classifiers.vocabulary import LABELS


class UsageError(ValueError):
    """A command Slack users typed that the bot cannot take; the message says why."""


@dataclass(frozen=True)
class IncidentCommand:
    name: str
    incident_id: int | None = None
    args: dict[str, str] = field(default_factory=dict)


STATUS_COMMANDS = {"ack": "acknowledged", "mitigate": "mitigated", "reopen": "triggered"}
ID_ONLY = {"ack", "mitigate", "resolve", "reopen", "status", "timeline", "postmortem"}
TEXT_COMMANDS = {"note", "followup"}
NO_ARGS = {"list", "help"}
ALIASES = {"acknowledge": "ack", "mitigated": "mitigate", "resolved": "resolve",
           "open": "declare", "new": "declare", "ls": "list", "label": "relabel",
           "sev": "severity", "follow-up": "followup"}

_ID = re.compile(r"^#?(\d{1,12})$")
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def _incident_id(tokens: list[str], command: str) -> int | None:
    if not tokens:
        return None
    match = _ID.match(tokens[0])
    if len(tokens) > 1 or not match:
        raise UsageError(f"`{command}` takes at most an incident id (like `12`), "
                         f"not `{' '.join(tokens)}`")
    return int(match.group(1))


def parse_incident(text: str) -> IncidentCommand:
    tokens = text.split()
    if not tokens:
        return IncidentCommand("help")
    name = ALIASES.get(tokens[0].lower(), tokens[0].lower())
    rest = tokens[1:]
    if name in NO_ARGS:
        if rest:
            raise UsageError(f"`{name}` takes no arguments")
        return IncidentCommand(name)
    if name == "declare":
        return IncidentCommand(name, args={"title": plain_from_slack(" ".join(rest))})
    if name in ID_ONLY:
        return IncidentCommand(name, _incident_id(rest, name))
    if name in TEXT_COMMANDS:
        incident_id = None
        if rest and rest[0].startswith("#") and _ID.match(rest[0]):
            incident_id = int(rest[0][1:])
            rest = rest[1:]
        if not rest:
            raise UsageError(f"`{name}` needs some text: `/incident {name} [#id] <text>`")
        # Slack sends what was typed escaped, mentions as tokens: stored, it is plain text.
        return IncidentCommand(name, incident_id, {"text": plain_from_slack(" ".join(rest))})
    if name == "assign":
        if len(rest) < 2:
            raise UsageError("`assign` needs a role and a person: "
                             "`/incident assign commander @ana`")
        role, who = rest[0].lower(), rest[1]
        if role not in ROLES:
            raise UsageError(f"`{role}` is not a role; use one of {', '.join(ROLES)}")
        match = _USER.match(who)
        if not match:
            raise UsageError(f"`{who}` is not a mention of a person (type @ and pick them)")
        return IncidentCommand(name, _incident_id(rest[2:], name),
                               {"role": role, "user": match.group(1)})
    if name == "severity":
        if not rest:
            raise UsageError(f"`severity` needs a level: {', '.join(SEVERITIES)}")
        level = rest[0].lower()
        if level not in SEVERITIES:
            raise UsageError(f"`{level}` is not a severity; use one of {', '.join(SEVERITIES)}")
        return IncidentCommand(name, _incident_id(rest[1:], name), {"severity": level})
    if name == "relabel":
        if not rest:
            raise UsageError(f"`relabel` needs a label: {', '.join(LABELS)}")
        label = rest[0].lower()
        if label not in LABELS:
            raise UsageError(f"`{label}` is not a failure class; use one of "
                             f"{', '.join(LABELS)}")
        return IncidentCommand(name, _incident_id(rest[1:], name), {"label": label})
    raise UsageError(f"unknown subcommand `{tokens[0]}`")


@dataclass(frozen=True)
class RunbookCommand:
    name: str  # list | run
    runbook: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def parse_runbook(text: str) -> RunbookCommand:
    tokens = text.split()
    if not tokens or tokens[0].lower() == "list":
        if len(tokens) > 1:
            raise UsageError("`list` takes no arguments")
        return RunbookCommand("list")
    if tokens[0].lower() != "run":
        raise UsageError(f"unknown subcommand `{tokens[0]}`")
    if len(tokens) < 2:
        raise UsageError("`run` needs a runbook name: `/runbook run rollback-model`")
    params: dict[str, str] = {}
    for token in tokens[2:]:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise UsageError(f"`{token}` is not `key=value`")
        params[key] = plain_from_slack(value)
    return RunbookCommand("run", tokens[1], params)
