"""The ``mlflow_alias`` step: point a registered model's (or prompt's) alias at a version.

Through MLflow's REST API (``POST /api/2.0/mlflow/registered-models/alias``), then
read the alias back (``GET .../registered-models/alias``) and fail unless the
registry answers with the version asked for: a rollback is done when the
registry says so, not when a request went out. Prompts of MLflow's prompt
registry are registered models underneath, so the same step pins a prompt
version. The output keeps the version before, for the timeline and a reverse
run.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from runbooks.steps import Outcome, StepFailed, Tools, _body_summary, _send, step_kind

ALIAS_PATH = "/api/2.0/mlflow/registered-models/alias"


def _headers(step: dict[str, Any], tools: Tools) -> dict[str, str]:
    secret = tools.secret(step["secret_env"], required=step["secret_required"]) \
        if step.get("secret_env") else None
    return {"Authorization": f"Bearer {secret}"} if secret else {}


def _alias_version(base: str, model: str, alias: str, headers: dict[str, str], tools: Tools,
                   deadline: float) -> str | None:
    """The version ``alias`` points at, or ``None`` when the alias does not exist."""
    url = f"{base}{ALIAS_PATH}?{urlencode({'name': model, 'alias': alias})}"
    response = _send(tools, "GET", url, headers=headers, body=None, deadline=deadline)
    if response.status_code == 404:
        return None
    if not response.is_success:
        raise StepFailed(f"GET {url} answered {response.status_code}: "
                         f"{_body_summary(response, tools)}",
                         retryable=response.status_code >= 500)
    try:
        return str(response.json()["model_version"]["version"])
    except (ValueError, KeyError, TypeError):
        raise StepFailed(f"GET {url}: not an MLflow alias answer: "
                         f"{_body_summary(response, tools)}") from None


@step_kind("mlflow_alias")
def run_mlflow_alias(step: dict[str, Any], tools: Tools, deadline: float) -> Outcome:
    base = str(step["registry_url"]).rstrip("/")
    model, alias, version = str(step["model"]), str(step["alias"]), str(step["version"])
    if not base.startswith(("http://", "https://")):
        raise StepFailed(f"registry_url {base!r} is not an http(s) URL (set the service's "
                         "registry.url in the catalog)", retryable=False)
    if not version or version == "None":
        raise StepFailed("no version to point the alias at", retryable=False)
    headers = _headers(step, tools)
    before = _alias_version(base, model, alias, headers, tools, deadline)
    response = _send(tools, "POST", base + ALIAS_PATH, headers=headers,
                     body={"name": model, "alias": alias, "version": version}, deadline=deadline)
    if not response.is_success:
        raise StepFailed(f"MLflow refused alias {alias} of {model} -> version {version}: "
                         f"{response.status_code} {_body_summary(response, tools)}",
                         output={"before": before, "status": response.status_code},
                         retryable=response.status_code >= 500 or response.status_code == 429)
    after = _alias_version(base, model, alias, headers, tools, deadline)
    output = {"registry": base, "model": model, "alias": alias, "before": before,
              "after": after}
    if after != version:
        raise StepFailed(f"MLflow answers version {after} for alias {alias} of {model}, not "
                         f"{version}", output=output)
    return Outcome(f"alias {alias} of {model}: version {before} -> {after} "
                   "(the registry confirms)", output)
