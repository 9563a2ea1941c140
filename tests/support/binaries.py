"""Finding the system programs tests need, and what to do when one is missing.

Outside CI a missing binary skips its tests with the reason; under ``CI=true`` a
skip would hide a broken set-up, so it fails instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> None:
    """Skip (or fail in CI) because a system dependency is absent."""
    if in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def find(name: str, *extra_dirs: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in extra_dirs:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


def require(name: str, package: str, *extra_dirs: str) -> str:
    path = find(name, *extra_dirs)
    if path is None:
        missing(f"{name} not found (Debian package {package}; scripts/test installs it as root)")
        raise AssertionError("unreachable")
    return path
