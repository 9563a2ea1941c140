"""Modal submissions: declare, resolve with a summary, relabel.

Validation that needs no I/O happens in the ack (``response_action: errors`` keeps
the modal open with the message under the field); the domain call runs after.
"""

from __future__ import annotations

from functools import partial

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.errors import UserError
from bot.core.services import Services
from bot.diagnosis.feedback import relabel_incident
from bot.incidents import service as incident_service
from bot.incidents.lifecycle import SEVERITIES
from bot.slack.listeners.common import Payload, acked, actor
from bot.slack.listeners.dedup import first_time
from bot.views.markup import code, escape
from bot.views.markup import error as markup_error
from bot.views.markup import user as mention
from bot.views.modals import DECLARE, RELABEL, RESOLVE, metadata, submitted_values
from classifiers.vocabulary import LABELS


def _tell(client: WebClient, channel: str | None, user: str, text: str, *,
          public: bool) -> None:
    """Say what happened where the modal came from (public) or only to its author."""
    if not channel:
        client.chat_postMessage(channel=user, text=text)
    elif public:
        client.chat_postMessage(channel=channel, text=text)
    else:
        client.chat_postEphemeral(channel=channel, user=user, text=text)


def _first_submission(services: Services, view: Payload) -> bool:
    return first_time(services, f"view:{view['id']}", "view_submission")


# -- declare ------------------------------------------------------------------------------

def declare_errors(values: dict[str, str | None], service_names: list[str]) -> dict[str, str]:
    errors = {}
    if not (values.get("title") or "").strip():
        errors["title"] = "An incident needs a title."
    if values.get("service") not in service_names:
        errors["service"] = "Pick a service from the catalog."
    if values.get("severity") not in SEVERITIES:
        errors["severity"] = f"Pick one of {', '.join(SEVERITIES)}."
    return errors


def _service_names(services: Services) -> list[str]:
    return [s.name for s in services.catalog.services]


def ack_declare(ack: Ack, view: Payload, *, services: Services) -> None:
    errors = declare_errors(submitted_values(view), _service_names(services))
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()


def declare(body: Payload, view: Payload, client: WebClient, *, services: Services) -> None:
    values = submitted_values(view)
    if declare_errors(values, _service_names(services)):
        return
    if not _first_submission(services, view):
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


# -- resolve ------------------------------------------------------------------------------

def ack_resolve(ack: Ack, view: Payload) -> None:
    if not (submitted_values(view).get("summary") or "").strip():
        ack(response_action="errors", errors={"summary": "Say what fixed it."})
    else:
        ack()


def resolve(body: Payload, view: Payload, client: WebClient, *, services: Services) -> None:
    summary_text = (submitted_values(view).get("summary") or "").strip()
    if not summary_text or not _first_submission(services, view):
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


# -- relabel ------------------------------------------------------------------------------

def ack_relabel(ack: Ack, view: Payload) -> None:
    if submitted_values(view).get("label") not in LABELS:
        ack(response_action="errors", errors={"label": "Pick a failure class."})
    else:
        ack()


def relabel(body: Payload, view: Payload, client: WebClient, *, services: Services) -> None:
    label = submitted_values(view).get("label")
    if label is None or label not in LABELS or not _first_submission(services, view):
        return
    user = body["user"]["id"]
    meta = metadata(view)
    try:
        relabelled = relabel_incident(services, incident_id=int(meta["incident_id"]),
                                      label=label, actor=actor(user))
        _tell(client, meta.get("channel_id"), user,
              f"{mention(user)} relabelled #{int(meta['incident_id'])}: "
              f"{escape(relabelled.previous or 'unclassified')} → {code(label)}", public=True)
    except UserError as error:
        _tell(client, meta.get("channel_id"), user, f":warning: {markup_error(error)}",
              public=False)


def register(app: App, services: Services) -> None:
    app.view(DECLARE)(acked(services, partial(ack_declare, services=services),
                            partial(declare, services=services)))
    app.view(RESOLVE)(acked(services, ack_resolve, partial(resolve, services=services)))
    app.view(RELABEL)(acked(services, ack_relabel, partial(relabel, services=services)))
