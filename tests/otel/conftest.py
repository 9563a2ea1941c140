from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.otel.support import running_bot, write_catalog
from tests.support.replicas import Replica


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    return write_catalog(tmp_path)


@pytest.fixture
def bot(db_url: str, catalog_file: Path) -> Iterator[Replica]:
    with running_bot(db_url, catalog_file) as replica:
        yield replica
