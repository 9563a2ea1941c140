"""The modals: declare an incident, resolve it with a summary, relabel its diagnosis.

``private_metadata`` carries what the submission needs (incident id, channel), so
the submit handler never has to guess where the modal came from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.views.text import cut, plain

DECLARE = "incident.declare"
RESOLVE = "incident.resolve"
RELABEL = "incident.relabel"


def _option(value: str, label: str | None = None) -> dict[str, Any]:
    return {"text": plain(cut(label or value, 75)), "value": value[:150]}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False,
           hint: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "label": plain(label, 2000),
                             "element": element, "optional": optional}
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _select(action_id: str, options: Sequence[str], initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "action_id": action_id,
                               "options": [_option(o) for o in options[:100]]}
    if initial in options:
        element["initial_option"] = _option(initial)  # type: ignore[arg-type]
    return element


def _modal(callback_id: str, title: str, submit: str, blocks: list[dict[str, Any]],
           metadata: dict[str, Any]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "title": plain(title, 24),
            "submit": plain(submit, 24), "close": plain("Cancel", 24), "blocks": blocks,
            "private_metadata": json.dumps(metadata)[:3000]}


def declare_modal(*, services: Sequence[str], severities: Sequence[str],
                  channel_id: str | None, initial_title: str = "") -> dict[str, Any]:
    title_input: dict[str, Any] = {"type": "plain_text_input", "action_id": "value",
                                   "max_length": 500}
    if initial_title:
        title_input["initial_value"] = cut(initial_title, 500)
    return _modal(DECLARE, "Declare an incident", "Declare", [
        _input("title", "Title", title_input),
        _input("service", "Service", _select("value", services, services[0] if len(services) == 1
                                             else None)),
        _input("severity", "Severity", _select("value", severities, "warning")),
        _input("description", "What is happening?",
               {"type": "plain_text_input", "action_id": "value", "multiline": True,
                "max_length": 3000}, optional=True),
    ], {"channel_id": channel_id})


def resolve_modal(*, incident_id: int, channel_id: str | None) -> dict[str, Any]:
    return _modal(RESOLVE, f"Resolve #{incident_id}", "Resolve", [
        _input("summary", "Resolution summary",
               {"type": "plain_text_input", "action_id": "value", "multiline": True,
                "max_length": 3000},
               hint="What fixed it? This goes on the timeline and into the postmortem."),
    ], {"incident_id": incident_id, "channel_id": channel_id})


def relabel_modal(*, incident_id: int, labels: Sequence[str], current: str | None,
                  channel_id: str | None) -> dict[str, Any]:
    return _modal(RELABEL, f"Relabel #{incident_id}", "Relabel", [
        _input("label", "What kind of failure is it?", _select("value", labels, current),
               hint="Your label trains the classifier and invites the owners of that class."),
    ], {"incident_id": incident_id, "channel_id": channel_id})


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def submitted_values(view: dict[str, Any]) -> dict[str, str | None]:
    """block_id -> the text typed or the option chosen in a submitted view."""
    values: dict[str, str | None] = {}
    for block_id, actions in (view.get("state", {}).get("values", {}) or {}).items():
        for state in actions.values():
            if "selected_option" in state:
                option = state["selected_option"]
                values[block_id] = option.get("value") if option else None
            elif "selected_user" in state:
                values[block_id] = state["selected_user"]
            else:
                values[block_id] = state.get("value")
    return values
