"""Runbooks in Slack: summary Run / Dry run buttons, a run's message, a dry-run plan, the list.

Pure functions from domain objects (runbooks, suggestions, a run's view, a plan)
to Block Kit, so what a person sees can be tested without a running bot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from bot.views.markup import actor, code, escape
from bot.views.text import MESSAGE_BLOCKS, button, context, cut, section

RUN = "runbook.run:"  # + runbook name; value {"incident_id", "runbook"}
DRY_RUN = "runbook.dry_run:"  # + runbook name; same value
APPROVE, REJECT, CANCEL = "runbook.approve", "runbook.reject", "runbook.cancel"
STEP_LINE = 700


class SuggestedRunbook(Protocol):
    """What a view shows of a suggestion (``bot.runbook_runs.Suggestion`` is one): the
    library's runbook, why it fits, and whether a second person must approve it."""

    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def needs_approval(self) -> bool: ...


def summary_buttons(incident_id: int | None,
                    suggestions: Sequence[SuggestedRunbook]) -> list[dict[str, Any]]:
    """A Run and a Dry run button per suggested runbook (the click decides about a form)."""
    elements: list[dict[str, Any]] = []
    for suggestion in suggestions:
        name = suggestion.name
        value = json.dumps({"incident_id": incident_id, "runbook": name})
        elements.append(button(f"Run {escape(name)}", f"{RUN}{name}", value))
        elements.append(button(f"Dry run {escape(name)}", f"{DRY_RUN}{name}", value))
    return elements[:25]


def suggestion_line(suggestion: SuggestedRunbook, *, mark: str = " ") -> str:
    """``rollback-model`` — Roll back the model (model failure; suspect model change v8)
    · needs approval``; ``mark`` goes between the title and the reason."""
    return (f"{code(suggestion.name)} — {escape(suggestion.title)}{mark}"
            f"({escape(suggestion.reason)})"
            + (" · needs approval" if suggestion.needs_approval else ""))


def run_message(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's parent message: what, who asked, its state, and the buttons that apply."""
    params = escape(", ".join(f"{k}={v}" for k, v in view["params"].items())) or "no parameters"
    text = (f"*Runbook {code(view['runbook'])}* (run {view['id']}) — "
            f"*{escape(view['status'])}*\nasked by {actor(view['requested_by'])} · {params}")
    if view.get("verdict"):
        text += f"\nverification: *{escape(view['verdict'])}*"
    blocks: list[dict[str, Any]] = [section(cut(text, 2900))]
    value = str(view["id"])
    if view["status"] == "pending_approval":
        blocks.append({"type": "actions", "block_id": f"runbook.run.{value}", "elements": [
            button("Approve", APPROVE, value, "primary"),
            button("Reject", REJECT, value, "danger")]})
        blocks.append(context("A second person approves: the one who asked for the run "
                              "cannot."))
    elif view["status"] in ("approved", "running"):
        blocks.append({"type": "actions", "block_id": f"runbook.run.{value}", "elements": [
            button("Cancel", CANCEL, value, "danger")]})
    return blocks


def _step_line(step: Any) -> str:
    head = f"{code(step.path)} *{escape(step.step_id)}* ({escape(step.kind)})"
    if step.error:
        return cut(f"{head}: :warning: {escape(step.error)}", STEP_LINE)
    return cut(f"{head}: {code(json.dumps(step.rendered, default=str))}", STEP_LINE)


def plan_text(plan: Any) -> str:
    """The notification text of a dry run (and its fallback where blocks are not shown)."""
    problems = f", {len(plan.problems)} problems" if plan.problems else ""
    return cut(f"Dry run of {escape(plan.runbook)}: {len(plan.steps)} steps rendered{problems}; "
               "nothing was executed", 3000)


def plan_blocks(plan: Any, incident_id: int | None = None) -> list[dict[str, Any]]:
    """Every step of a dry run with what it would send, and the parameters it used.

    Steps go several to a section, up to Slack's limits; what does not fit is
    counted, never silently dropped.
    """
    where = f" on #{incident_id}" if incident_id is not None else ""
    params = escape(", ".join(f"{k}={v}" for k, v in plan.params.items())) or "no parameters"
    blocks: list[dict[str, Any]] = [
        section(cut(f"*Dry run of {code(plan.runbook)}*{where} — nothing was executed\n"
                    f"Parameters: {params}", 3000))]
    chunk: list[str] = []
    lines = [_step_line(step) for step in plan.steps]
    shown = 0
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            if len(blocks) >= MESSAGE_BLOCKS - 3:
                break
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
        shown += 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if shown < len(lines):
        blocks.append(context(f"… and {len(lines) - shown} more steps not shown "
                              "(`resilio runbook run --dry-run` prints them all)"))
    if plan.problems:
        blocks.append(context(cut(":warning: A real run would fail here: "
                                  + escape("; ".join(plan.problems)), 2000)))
    return blocks


def runbook_list_blocks(runbooks: Iterable[Any],
                        suggestions: Sequence[SuggestedRunbook] | None,
                        incident_id: int | None = None) -> list[dict[str, Any]]:
    """Every runbook; in an incident channel the ones suggested for it come first, marked.

    Showing the others too (unmarked) lets a responder run one the diagnosis did
    not think of, by name.
    """
    suggested = {s.name: s for s in suggestions or []}
    lines = [f":star: {suggestion_line(suggestion, mark=' · *suggested* ')}"
             for suggestion in suggestions or []]
    for runbook in sorted(runbooks, key=lambda r: r.name):
        if runbook.name in suggested:
            continue
        lines.append(f"• {code(runbook.name)} — {escape(runbook.title)}"
                     + (" · needs approval" if runbook.approval.required else ""))
    title = "*Runbooks*"
    if suggestions is not None and incident_id is not None:
        title += (f" — :star: suggested for incident #{incident_id}" if suggested
                  else f" — none suggested for incident #{incident_id}")
    text = "\n".join(lines) or "No runbooks are defined."
    blocks = [section(cut(f"{title}\n{text}", 3000))]
    blocks.append(context("`/runbook run &lt;name&gt; key=value` in an incident channel "
                          "runs one"))
    return blocks
