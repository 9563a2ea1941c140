from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from bot.app.server import ServerThread
from bot.config.catalog import parse_catalog
from bot.config.settings import Settings
from bot.core.services import Services, build_services
from tests.conftest import TOKEN

SECRETS = {"RESILIO_MLFLOW_WEBHOOK_SECRET": "mlflow-secret",
           "RESILIO_GITHUB_WEBHOOK_SECRET": "github-secret",
           "RESILIO_CHANGE_WEBHOOK_SECRET": "change-secret",
           "RESILIO_ARGOCD_TOKEN": "argocd-token",
           "RESILIO_API_TOKEN": "changes-api-token"}  # reads of the JSON API need it
READ = {"Authorization": f"Bearer {SECRETS['RESILIO_API_TOKEN']}"}

CATALOG = """
services:
  - name: rag-assistant
    owners: {default: {users: [U0SRE0001]}}
    registry: {kind: mlflow, url: "http://127.0.0.1:1", model: rag-llm, alias: champion,
               prompts: [rag-system-prompt]}
    changes: {repositories: [Codertocat/Hello-World], environments: [production],
              argocd_applications: [rag-config]}
"""


def changes_services(db_url: str, catalog: str = CATALOG, **settings: str) -> Services:
    values = {"DATABASE_URL": db_url, "RESILIO_WEBHOOK_TOKEN": TOKEN,
              "RESILIO_RUN_SCHEDULER": "false", **SECRETS, **settings}
    return build_services(Settings(**values), parse_catalog(yaml.safe_load(catalog)))


@pytest.fixture
def served(db_url: str) -> Iterator[tuple[Services, str]]:
    services = changes_services(db_url)
    with ServerThread(services) as server:
        yield services, server.url
    services.close()


@pytest.fixture(scope="session")
def mlflow_server() -> Iterator[object]:
    """One real ``mlflow server`` (SQLite backend) for the session: it is slow to start."""
    from bot.devtools.mlflow_server import MlflowServer, mlflow_available
    from tests.support.binaries import missing

    if not mlflow_available():
        missing("mlflow is not installed (pip install -e '.[dev]')")
    with MlflowServer() as server:
        yield server
