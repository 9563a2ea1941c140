"""MLflow 3.x model and prompt registry webhooks as ``model`` and ``prompt`` changes.

MLflow posts ``{"entity", "action", "timestamp", "data"}``. What is recorded:

- ``model_version.created``: a ``model`` change, ``ref`` = the new version;
  ``previous`` = the version the serving alias points at (what would be replaced);
- ``model_version_alias.created`` (an alias set or moved): ``ref`` = the version it
  now points at, ``previous`` = the version it pointed at before, as the bot last
  heard it (MLflow's payload does not say; the bot keeps each alias's pointer);
- ``model_version_alias.deleted``: ``ref`` = ``(deleted)``, ``previous`` = the old version;
- ``model_version_tag.set`` / ``.deleted``: ``ref`` = the version tagged;
- the prompt registry's ``prompt_version.created``, ``prompt_alias.created`` /
  ``.deleted`` and tag events likewise, as ``prompt`` changes.

The service is the catalog's for the registered model (``registry.model``) or the
prompt (``registry.prompts``), else the model's or prompt's name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.changes.fields import PayloadError, field, text, timestamp
from bot.changes.model import Ignored, IncomingChange, Pointer
from bot.config.catalog import Catalog
from classifiers.vocabulary import ChangeKind

MODEL_POINTERS = "mlflow-model"
PROMPT_POINTERS = "mlflow-prompt"
DELETED = "(deleted)"
AUTHOR = "mlflow"


def _serving_alias(catalog: Catalog, service: str, prompt: bool) -> str:
    entry = catalog.service(service)
    if entry is None:
        return "production" if prompt else "champion"
    return entry.registry.prompt_alias if prompt else entry.registry.alias


def parse(payload: Any, catalog: Catalog, *, now: datetime,
          current: Any) -> IncomingChange | Ignored:
    """One delivery. ``current(source, subject)`` reads a pointer (the serving version)."""
    if not isinstance(payload, dict):
        raise PayloadError(f"an MLflow webhook body is a JSON object, got {type(payload).__name__}")
    entity, action = text(payload, "entity"), text(payload, "action")
    data = field(payload, "data")
    ts = timestamp(payload, "timestamp", default=now)
    event = f"{entity}.{action}"
    prompt = bool(entity and entity.startswith("prompt"))
    if entity in ("registered_model", "prompt") and action == "created":
        return Ignored(f"{event}: a new name in the registry serves nothing yet")
    if entity == "budget_policy" or entity is None:
        return Ignored(f"{event}: not a registry change")
    name = text(data, "name")
    assert name is not None
    service = catalog.service_of_prompt(name) if prompt else catalog.service_of_model(name)
    kind: ChangeKind = "prompt" if prompt else "model"
    what = "prompt" if prompt else "registered model"
    pointers = PROMPT_POINTERS if prompt else MODEL_POINTERS
    serving = f"{name}@{_serving_alias(catalog, service, prompt)}"

    if entity in ("model_version", "prompt_version") and action == "created":
        version = text(data, "version")
        return IncomingChange(
            service=service, ts=ts, kind=kind, ref=str(version), author=AUTHOR,
            subject=name, previous=current(pointers, serving),
            description=f"version {version} of {what} {name} created")
    if entity in ("model_version_alias", "prompt_alias"):
        alias = text(data, "alias")
        subject = f"{name}@{alias}"
        if action == "created":
            version = text(data, "version")
            return IncomingChange(
                service=service, ts=ts, kind=kind, ref=str(version), author=AUTHOR,
                subject=subject, pointer=Pointer(pointers, subject, str(version)),
                description=f"alias {alias} of {what} {name} set to version {version}")
        if action == "deleted":
            return IncomingChange(
                service=service, ts=ts, kind=kind, ref=DELETED, author=AUTHOR,
                subject=subject, pointer=Pointer(pointers, subject, None),
                description=f"alias {alias} of {what} {name} deleted")
    if entity in ("model_version_tag", "prompt_version_tag", "prompt_tag"):
        key = text(data, "key")
        version = text(data, "version", required=entity != "prompt_tag")
        value = text(data, "value", required=False, limit=120) if action == "set" else None
        tag = f"{key}={value}" if value is not None else str(key)
        on = f"version {version} of {what} {name}" if version else f"{what} {name}"
        ref = str(version) if version else f"tag:{key}"
        return IncomingChange(service=service, ts=ts, kind=kind, ref=ref[:200], author=AUTHOR,
                              subject=f"{name}:tag:{key}",
                              description=f"tag {tag} {action} on {on}")
    return Ignored(f"{event}: not a change the bot records")
