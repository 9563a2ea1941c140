"""Modal submissions: declare, resolve with a summary, relabel.

Validation that needs no I/O happens in the ack (``response_action: errors`` keeps
the modal open with the message under the field); the domain call runs after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.errors import UserError
from bot.incidents import service as incident_service
from bot.incidents.lifecycle import SEVERITIES
from bot.slack.listeners.common import acked, actor
from bot.slack.listeners.dedup import first_time
from bot.slack.listeners.relabel import relabel_incident
from bot.views.markup import code, escape
from bot.views.markup import error as markup_error
from bot.views.markup import user as mention
from bot.views.modals import DECLARE, RELABEL, RESOLVE, metadata, submitted_values
from classifiers.vocabulary import LABELS


def _tell(client: Any, channel: str | None, user: str, text: str, *, public: bool) -> None:
    """Say what happened where the modal came from (public) or only to its author."""
    if not channel:
        client.chat_postMessage(channel=user, text=text)
    elif public:
        client.chat_postMessage(channel=channel, text=text)
    else:
        client.chat_postEphemeral(channel=channel, user=user, text=text)


def declare_errors(values: dict[str, str | None], service_names: list[str]) -> dict[str, str]:
    errors = {}
    if not (values.get("title") or "").strip():
        errors["title"] = "An incident needs a title."
    if values.get("service") not in service_names:
        errors["service"] = "Pick a service from the catalog."
    if values.get("severity") not in SEVERITIES:
        errors["severity"] = f"Pick one of {', '.join(SEVERITIES)}."
    return errors


def register(app: Any, services: Any) -> None:
    def ack_declare(ack: Callable[..., None], view: dict[str, Any]) -> None:
        errors = declare_errors(submitted_values(view),
                                [s.name for s in services.catalog.services])
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()

    def declare(body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        values = submitted_values(view)
        if declare_errors(values, [s.name for s in services.catalog.services]):
            return
        if not first_time(services, f"view:{view['id']}", "view_submission"):
            return
        user = body["user"]["id"]
        channel = metadata(view).get("channel_id")
        try:
            incident = incident_service.declare_incident(
                services, service=values["service"] or "", title=values["title"] or "",
                severity=values["severity"] or "warning",
                description=values.get("description"), actor=actor(user))
            _tell(client, channel, user, f"{mention(user)} declared incident #{incident.id} on "
                  f"{escape(incident.service)}: {escape(incident.title)}", public=True)
        except UserError as error:
            _tell(client, channel, user, f":warning: {markup_error(error)}", public=False)

    app.view(DECLARE)(acked(services, ack_declare, declare))

    def ack_resolve(ack: Callable[..., None], view: dict[str, Any]) -> None:
        if not (submitted_values(view).get("summary") or "").strip():
            ack(response_action="errors", errors={"summary": "Say what fixed it."})
        else:
            ack()

    def resolve(body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        summary_text = (submitted_values(view).get("summary") or "").strip()
        if not summary_text or not first_time(services, f"view:{view['id']}",
                                              "view_submission"):
            return
        user = body["user"]["id"]
        meta = metadata(view)
        try:
            incident_service.change_status(services, incident_id=int(meta["incident_id"]),
                                           to="resolved", actor=actor(user), note=summary_text)
            _tell(client, meta.get("channel_id"), user,
                  f"{mention(user)} resolved incident #{int(meta['incident_id'])}: "
                  f"{escape(summary_text[:2000])}", public=True)
        except UserError as error:
            _tell(client, meta.get("channel_id"), user, f":warning: {markup_error(error)}",
                  public=False)

    app.view(RESOLVE)(acked(services, ack_resolve, resolve))

    def ack_relabel(ack: Callable[..., None], view: dict[str, Any]) -> None:
        if submitted_values(view).get("label") not in LABELS:
            ack(response_action="errors", errors={"label": "Pick a failure class."})
        else:
            ack()

    def relabel(body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        label = submitted_values(view).get("label")
        if label not in LABELS or not first_time(services, f"view:{view['id']}",
                                                          "view_submission"):
            return
        user = body["user"]["id"]
        meta = metadata(view)
        try:
            previous = relabel_incident(services, incident_id=int(meta["incident_id"]),
                                        label=label, actor=actor(user))
            _tell(client, meta.get("channel_id"), user,
                  f"{mention(user)} relabelled #{int(meta['incident_id'])}: "
                  f"{escape(previous or 'unclassified')} → {code(label)}", public=True)
        except UserError as error:
            _tell(client, meta.get("channel_id"), user, f":warning: {markup_error(error)}",
                  public=False)

    app.view(RELABEL)(acked(services, ack_relabel, relabel))
