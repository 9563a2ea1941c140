"""A clone of the repository is enough: no project file reads data from beside it.

The published reference data the tests and benchmarks use lives in the repository
(``tests/fixtures/``, ``benchmarks/data/``) with its origin and licence. This test
fails when any file of the project points at the folder the data came from, so a
checkout without it (a fresh clone, the CI copy in ``.ci/run``) keeps working.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Built from parts, so this file does not match itself.
_OUTSIDE = "sha" + "red"
FORBIDDEN = (f"../{_OUTSIDE}", f"{_OUTSIDE}/reference", f"{_OUTSIDE}/data")
# Generated or installed, not written by us.
SKIPPED_DIRS = {".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".venv",
                "venv", "build", "dist", "node_modules"}
SKIPPED_SUFFIXES = {".pyc", ".db", ".db-wal", ".db-shm", ".png", ".gz", ".zip"}


def project_files(root: Path) -> list[Path]:
    files = []
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if any(p in SKIPPED_DIRS or p.endswith(".egg-info") for p in parts):
            continue
        if path.is_file() and path.suffix not in SKIPPED_SUFFIXES:
            files.append(path)
    return files


def references_outside(root: Path) -> list[str]:
    found = []
    for path in project_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary: it cannot name a path we would read
        for number, line in enumerate(text.splitlines(), start=1):
            if any(pattern in line for pattern in FORBIDDEN):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()[:120]}")
    return found


def test_no_project_file_refers_to_data_outside_the_repository() -> None:
    found = references_outside(ROOT)
    assert not found, "files that read data from outside the repository:\n" + "\n".join(found)


def test_the_check_sees_a_reference_when_there_is_one(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "reader.py").write_text(
        f'SPEC = "../{_OUTSIDE}/reference/spec.json"\n')
    (tmp_path / "fine.py").write_text("x = 1\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "log").write_text(f"../{_OUTSIDE}/data\n")
    assert references_outside(tmp_path) == [
        f"tests/reader.py:1: SPEC = \"../{_OUTSIDE}/reference/spec.json\""]


def test_the_fixtures_the_tests_read_are_in_the_repository() -> None:
    fixtures = ROOT / "tests" / "fixtures"
    for name in ("slack_web_openapi_v2.json", "alertmanager_webhook_v4.json", "README.md"):
        assert (fixtures / name).is_file(), f"tests/fixtures/{name} is missing"
    readme = (fixtures / "README.md").read_text()
    assert "MIT" in readme and "Alertmanager 0.25" in readme
