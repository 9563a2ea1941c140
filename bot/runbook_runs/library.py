"""The runbook library a running bot uses: the shipped runbooks and the catalog's."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.config.catalog import Catalog
from bot.core.errors import NotFound
from bot.core.services import Services
from runbooks.loader import load_directories
from runbooks.models import Runbook

log = logging.getLogger(__name__)


def load_library(catalog: Catalog) -> dict[str, Runbook]:
    """Shipped runbooks plus the catalog's directories (relative to the catalog file)."""
    options = catalog.runbooks
    source = Path(catalog.source)
    base = source.parent if source.is_file() else Path.cwd()
    directories = [d if Path(d).is_absolute() else base / d for d in options.directories]
    return load_directories(directories, shell_allowlist=options.shell_allowlist)


def library(services: Services) -> dict[str, Runbook]:
    """:func:`load_library`, once per ``Services``."""
    loaded = services.runbooks
    if loaded is None:
        loaded = services.runbooks = load_library(services.catalog)
    return loaded


def get_runbook(services: Services, name: str) -> Runbook:
    found = library(services).get(name)
    if found is None:
        known = ", ".join(sorted(library(services))) or "none"
        raise NotFound(f"no runbook named {name!r} (known: {known})")
    return found
