"""The modals: declare an incident, resolve it, relabel it, a runbook's parameters.

``private_metadata`` carries what the submission needs (incident id, channel), so
the submit handler never has to guess where the modal came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.views.markup import code, error, escape
from bot.views.text import cut, plain, section
from runbooks.models import Parameter, Runbook

DECLARE = "incident.declare"
RESOLVE = "incident.resolve"
RELABEL = "incident.relabel"


def _option(value: str, label: str | None = None) -> dict[str, Any]:
    return {"text": plain(cut(escape(label or value), 75)), "value": value[:150]}


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
    if initial is not None and initial in options:
        element["initial_option"] = _option(initial)
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


# -- runbook parameters --------------------------------------------------------------------

RUNBOOK_PARAMS = "runbook.params"
RUNBOOK_REFUSED = "runbook.refused"
PARAM_BLOCK = "param."  # + parameter name: the input's block_id, where errors are shown
YES_NO = ("yes", "no")


def param_block_id(name: str) -> str:
    return f"{PARAM_BLOCK}{name}"


def _param_input(parameter: Parameter, default: Any) -> dict[str, Any]:
    """One input per parameter, its type decided by the parameter's type.

    Enums and booleans are selects so they cannot be mistyped; numbers and strings
    are text, checked on submission. A secret is never prefilled: Slack would show it.
    """
    kind = parameter.type
    known = default is not None and default != ""
    if kind == "enum":
        element = _select("value", parameter.choices, str(default) if known else None)
    elif kind == "bool":
        initial = None if not known else ("yes" if default is True or
                                          str(default).lower() in ("true", "yes") else "no")
        element = _select("value", YES_NO, initial)
    else:
        element = {"type": "plain_text_input", "action_id": "value", "max_length": 3000}
        if known and not parameter.secret:
            element["initial_value"] = cut(str(default), 3000)
    hint = parameter.description or ""
    if parameter.secret:
        hint = (hint + " " if hint else "") + "Secret: left empty, the configured default " \
                                              "is used."
    optional = not parameter.required or (parameter.secret and parameter.default is not None)
    return _input(param_block_id(parameter.name), escape(f"{parameter.name} ({kind})"),
                  element, optional=optional, hint=escape(hint) or None)


def runbook_params_modal(*, runbook: Runbook, defaults: Mapping[str, Any], incident_id: int,
                         channel_id: str | None, dry_run: bool) -> dict[str, Any]:
    """The parameters of ``runbook`` for one incident, each prefilled with its resolved default.

    ``private_metadata`` says which runbook, incident and channel, and whether this
    is a dry run, so the submission needs nothing else.
    """
    intro = f"*{escape(runbook.title)}* ({code(runbook.name)}) on incident #{incident_id}"
    if runbook.description:
        intro += f"\n{escape(runbook.description.strip())}"
    if dry_run:
        intro += "\n_Dry run: every step is rendered with these values; nothing is executed._"
    elif runbook.approval.required:
        intro += "\n_Needs approval by a second person before it runs._"
    blocks = [section(cut(intro, 3000))]
    blocks += [_param_input(p, defaults.get(p.name)) for p in runbook.parameters[:99]]
    submit = "Dry run" if dry_run else ("Request run" if runbook.approval.required else "Run")
    return _modal(RUNBOOK_PARAMS, "Dry run" if dry_run else "Run runbook", submit, blocks,
                  {"incident_id": incident_id, "runbook": runbook.name,
                   "channel_id": channel_id, "dry_run": dry_run})


def runbook_refused_modal(*, runbook: str, reason: str) -> dict[str, Any]:
    """Replaces the parameter form when the person turns out not to be allowed to run it."""
    return {"type": "modal", "callback_id": RUNBOOK_REFUSED, "title": plain("Not allowed", 24),
            "close": plain("Close", 24),
            "blocks": [section(cut(f":no_entry: You may not run {code(runbook)}.\n"
                                   f"{error(reason)}", 3000))]}


def submitted_params(view: dict[str, Any]) -> dict[str, str | None]:
    """Parameter name -> the value submitted for it; fields left out are not listed."""
    return {block_id.removeprefix(PARAM_BLOCK): value
            for block_id, value in submitted_values(view).items()
            if block_id.startswith(PARAM_BLOCK)}
