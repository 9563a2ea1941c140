"""Shared fixtures: a database on each store (SQLite and a throwaway PostgreSQL), the bot.

``db_url`` is parametrised, so every test that takes it runs on both stores.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config.catalog import load_catalog
from bot.config.settings import Settings
from bot.core.services import Services, build_services
from store.db import upgrade
from tests.support.binaries import missing
from tests.support.postgres import PostgresCluster, pg_bin_dir

TOKEN = "test-webhook-token"  # posts alerts, signals and changes
API_TOKEN = "test-api-token"  # reads the JSON API and acts on incidents
READER = {"Authorization": f"Bearer {API_TOKEN}"}  # headers of a JSON API read


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster | None]:
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        yield None
        return
    cluster = PostgresCluster(bin_dir).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PostgresCluster | None) -> str | None:
    if pg_cluster is None:
        return None
    name = pg_cluster.create_database()
    upgrade(pg_cluster.url(name))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database for one test, on each store."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "resilio.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    cluster: PostgresCluster | None = request.getfixturevalue("pg_cluster")
    if cluster is None:
        missing("PostgreSQL binaries (initdb, postgres) not found: Debian package postgresql")
        raise AssertionError("unreachable")
    return cluster.url(cluster.create_database(template=request.getfixturevalue("pg_template")))



@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no template), on each store: for tests that migrate it
    themselves, step by step, to check what a migration does to existing rows."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    cluster: PostgresCluster | None = request.getfixturevalue("pg_cluster")
    if cluster is None:
        missing("PostgreSQL binaries (initdb, postgres) not found: Debian package postgresql")
        raise AssertionError("unreachable")
    return cluster.url(cluster.create_database())


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """For tests about logic that does not depend on the store."""
    path = tmp_path / "resilio.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def make_services(db_url: str, **settings: object) -> Services:
    values = {"DATABASE_URL": db_url, "RESILIO_WEBHOOK_TOKEN": TOKEN,
              "RESILIO_API_TOKEN": API_TOKEN, **settings}
    return build_services(Settings(**values), load_catalog(None))


@pytest.fixture
def services(db_url: str) -> Iterator[Services]:
    built = make_services(db_url)
    yield built
    built.drain(30)
    built.close()
