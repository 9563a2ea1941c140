"""GitHub ``deployment_status`` and ``release`` webhooks as ``code`` (or ``config``) changes.

- ``deployment_status`` with state ``success``: the deployment's commit went live in
  its environment. ``ref`` = the commit SHA; ``previous`` = the SHA last deployed to
  that environment of that repository; ``config`` when the deployment's task names
  configuration (``deploy:config``), else ``code``. Other states change nothing.
- ``release`` ``published`` / ``released``: ``ref`` = the tag, ``previous`` = the
  repository's previous release tag.

The service is the catalog's for the repository (``changes.repositories``), else
the repository's name; ``changes.environments`` limits which environments count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.changes.fields import PayloadError, field, text, timestamp
from bot.changes.model import Ignored, IncomingChange, Pointer
from bot.config.catalog import Catalog

DEPLOYMENT_POINTERS = "github-deployment"
RELEASE_POINTERS = "github-release"


def parse(event: str | None, payload: Any, catalog: Catalog, *,
          now: datetime) -> IncomingChange | Ignored:
    if not event:
        raise PayloadError("missing X-GitHub-Event header")
    if event == "ping":
        return Ignored("ping: the webhook is set up")
    if event not in ("deployment_status", "release"):
        return Ignored(f"{event}: only deployment_status and release events are recorded")
    if not isinstance(payload, dict):
        raise PayloadError(f"a GitHub webhook body is a JSON object, got {type(payload).__name__}")
    repository = str(text(payload, "repository.full_name"))
    service = catalog.service_of_repository(repository)
    author = text(payload, "sender.login", required=False)
    if event == "release":
        action = text(payload, "action")
        if action not in ("published", "released"):
            return Ignored(f"release {action}: only published releases are changes")
        tag = str(text(payload, "release.tag_name"))
        name = text(payload, "release.name", required=False)
        return IncomingChange(
            service=service, ts=timestamp(payload, "release.published_at", default=now),
            kind="code", ref=tag,
            author=text(payload, "release.author.login", required=False) or author,
            subject=repository, pointer=Pointer(RELEASE_POINTERS, repository, tag),
            description=f"release {tag}{f' ({name})' if name else ''} of {repository} published")
    state = text(payload, "deployment_status.state")
    environment = text(payload, "deployment_status.environment", required=False) or text(
        payload, "deployment.environment")
    if state != "success":
        return Ignored(f"deployment_status {state}: only successful deployments are changes")
    entry = catalog.service(service)
    if entry is not None and entry.changes.environments and \
            environment not in entry.changes.environments:
        return Ignored(f"environment {environment} is not one of {service}'s "
                       f"({', '.join(entry.changes.environments)})")
    sha = str(text(payload, "deployment.sha"))
    task = text(payload, "deployment.task", required=False) or "deploy"
    branch = text(payload, "deployment.ref", required=False)
    if not isinstance(field(payload, "deployment.id"), int):
        raise PayloadError("deployment.id: expected a number")
    return IncomingChange(
        service=service,
        ts=timestamp(payload, "deployment_status.updated_at",
                     default=timestamp(payload, "deployment_status.created_at", default=now)),
        kind="config" if "config" in task.lower() else "code", ref=sha,
        author=text(payload, "deployment.creator.login", required=False) or author,
        subject=f"{repository}@{environment}",
        pointer=Pointer(DEPLOYMENT_POINTERS, f"{repository}@{environment}", sha),
        description=f"{task} of {repository}@{branch or sha[:12]} ({sha[:12]}) to {environment} "
                    f"succeeded (GitHub deployment {field(payload, 'deployment.id')})")
