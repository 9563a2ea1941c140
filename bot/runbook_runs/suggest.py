"""Which runbooks fit an incident, and the defaults and checks of a run form's parameters."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.services import Services
from bot.runbook_runs.context import incident_context, load_incident, suspect_change
from bot.runbook_runs.library import get_runbook, library
from runbooks.models import Runbook, coerce
from runbooks.suggest import suggest as pure_suggest
from runbooks.templating import RenderError, is_template, render_text
from store.db import session_scope
from store.models import Incident

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Suggestion:
    """A runbook of the library that fits an incident, said for Slack and the API."""

    name: str
    title: str
    reason: str
    needs_approval: bool
    has_parameters: bool


def suggest(services: Services, *, incident_id: int) -> list[Suggestion]:
    """:func:`suggest_for` the incident with this id (:class:`NotFound` if none)."""
    with session_scope(services.engine) as session:
        incident = load_incident(session, incident_id)
    return suggest_for(services, incident)


def suggest_for(services: Services, incident: Incident) -> list[Suggestion]:
    """Runbooks of the library for this incident: its failure class, suspect change, moved
    signals, within what the catalog lists for its service.

    The library is the shipped runbooks plus the catalog's own directories, so a
    team's runbooks are suggested like the shipped ones and nothing is suggested
    that the library does not hold (the diagnosis' ``suggested_runbooks`` is the
    classifier's offline view, which knows only the shipped names). The scoring is
    :func:`runbooks.suggest.suggest`'s; this reads the incident and says it.
    """
    with session_scope(services.engine) as session:
        change = suspect_change(session, incident)
    catalog_service = services.catalog.service(incident.service)
    listed = set(catalog_service.runbooks) if catalog_service else None
    kind = change.get("kind") if change else None
    found = pure_suggest(library(services).values(), incident.behavior, kind,
                         moved_signals(incident.diagnosis), service=incident.service,
                         allowed=listed or None)
    return [Suggestion(s.runbook.name, s.runbook.title, _reason(s.reasons, change),
                       s.runbook.approval.required, bool(s.runbook.parameters)) for s in found]


def moved_signals(diagnosis: Mapping[str, Any] | None) -> list[str]:
    """The names of the signals the diagnosis found moving, for ``applies_to.signals``."""
    evidence = (diagnosis or {}).get("evidence")
    rows = evidence if isinstance(evidence, list) else []
    return list(dict.fromkeys(str(row["name"]) for row in rows
                              if isinstance(row, dict) and row.get("name")))


def _reason(reasons: tuple[str, ...], change: dict[str, Any] | None) -> str:
    """The scorer's reasons, naming the suspect change by its ref where one is named."""
    ref = change.get("ref") if change else None
    return "; ".join(f"{r} {ref}" if ref and r.startswith("suspect") and str(ref) not in r
                     else r for r in reasons)


def parameter_defaults(services: Services, *, incident_id: int, name: str) -> dict[str, Any]:
    """Each parameter's default resolved against the incident, to prefill a form.

    Unlike :func:`resolve_params` this never fails: a default that cannot be
    resolved (no suspect change, say) is ``None``, so the form opens with that
    field empty for the person to fill in instead of refusing the whole runbook.
    """
    runbook = get_runbook(services, name)
    with session_scope(services.engine) as session:
        context = incident_context(services, session, load_incident(session, incident_id))
    defaults: dict[str, Any] = {}
    for parameter in runbook.parameters:
        value = parameter.default
        if isinstance(value, str) and is_template(value):
            try:
                value = render_text(value, context, f"parameters.{parameter.name}.default")
            except RenderError:
                value = None
        if value is not None and value != "":
            with contextlib.suppress(ValueError):  # shown as it is; checked on submission
                value = coerce(parameter, value)
        defaults[parameter.name] = None if value == "" else value
    return defaults


def parameter_errors(runbook: Runbook, given: Mapping[str, Any]) -> dict[str, str]:
    """Parameter name -> what is wrong with the value typed for it (no I/O: a modal's ack).

    Empty values are left out (the default applies); whether a required value is
    still missing is decided by :func:`start`, which can resolve the defaults.
    """
    errors: dict[str, str] = {}
    for key, value in given.items():
        parameter = runbook.parameter(key)
        if parameter is None:
            errors[key] = f"{key}: {runbook.name} has no such parameter"
            continue
        if value is None or value == "":
            continue
        try:
            coerce(parameter, value)
        except ValueError as error:
            errors[key] = f"{key}: {error}"
    return errors
