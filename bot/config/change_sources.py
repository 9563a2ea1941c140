"""Where a service's models and prompts live, as its catalog entry says.

The change webhooks use it to name the service a registered model or prompt
belongs to; the runbooks use it to pick their target (the MLflow registry or
the demo gateway).

.. code-block:: yaml

    services:
      - name: rag-assistant
        registry:
          kind: mlflow                  # or gateway (the default)
          url: http://mlflow:5000
          model: rag-llm                # registered model name (default: the service name)
          alias: champion               # the alias serving traffic
          prompts: [rag-system-prompt]  # prompt registry names of this service
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ModelRegistry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["mlflow", "gateway"] = "gateway"
    url: str | None = Field(default=None, pattern=r"^https?://")
    model: str | None = Field(default=None, min_length=1, max_length=200)
    alias: str = Field(default="champion", min_length=1, max_length=200)
    prompts: list[str] = Field(default_factory=list)
    prompt_alias: str = Field(default="production", min_length=1, max_length=200)


class ChangeSources(BaseModel):
    """Which CI/CD and GitOps subjects are this service's, for the change webhooks.

    Unlisted, a GitHub repository belongs to the service named like the repository,
    and an Argo CD application to the service named like the application.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    repositories: list[str] = Field(default_factory=list)  # GitHub "owner/name"
    environments: list[str] = Field(default_factory=list)  # deployments that count (empty: all)
    argocd_applications: list[str] = Field(default_factory=list)
