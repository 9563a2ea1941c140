"""Argo CD notifications (the webhook service with the documented template) as ``config`` changes.

Argo CD's notification engine posts whatever body its template renders; the
template in docs/changes.md renders::

    {"app": "...", "revision": "...", "phase": "Succeeded", "finished_at": "...",
     "author": "...", "repo": "...", "kind": "config"}

A sync that ``Succeeded`` is a change: ``ref`` = the synced revision,
``previous`` = the revision the application was synced to before. ``kind`` may
say ``threshold``, ``features`` or another change kind when the application
carries that (a flag or threshold repository synced by Argo CD).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.changes.fields import PayloadError, text, timestamp
from bot.changes.model import Ignored, IncomingChange, Pointer
from bot.config.catalog import Catalog
from classifiers.vocabulary import CHANGE_KINDS

POINTERS = "argocd"


def parse(payload: Any, catalog: Catalog, *, now: datetime) -> IncomingChange | Ignored:
    if not isinstance(payload, dict):
        raise PayloadError(f"the Argo CD template renders a JSON object, got "
                           f"{type(payload).__name__}")
    app = str(text(payload, "app"))
    phase = text(payload, "phase", required=False) or "Succeeded"
    if phase != "Succeeded":
        return Ignored(f"sync {phase}: only a sync that succeeded changes what runs")
    revision = str(text(payload, "revision"))
    kind = text(payload, "kind", required=False) or "config"
    if kind not in CHANGE_KINDS:
        raise PayloadError(f"kind: {kind!r} is not one of {', '.join(CHANGE_KINDS)}")
    repo = text(payload, "repo", required=False, limit=300)
    return IncomingChange(
        service=catalog.service_of_application(app),
        ts=timestamp(payload, "finished_at", default=now), kind=kind,
        ref=revision, author=text(payload, "author", required=False) or "argocd",
        subject=app, pointer=Pointer(POINTERS, app, revision),
        description=f"Argo CD synced {app} to {revision[:12]}" + (f" from {repo}" if repo else ""))
