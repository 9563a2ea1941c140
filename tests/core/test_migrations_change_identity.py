"""Migration 0008_checks: stored changes survive, and identity takes the subject."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from store.db import alembic_config, current_revision, make_engine, upgrade

OLD_INSERT = text(
    "INSERT INTO change_events (service, ts, kind, ref, previous, description, slice, "
    "affects) VALUES ('rag', '2026-11-26 10:00:00.000000', 'prompt', :ref, :previous, "
    ":description, '{}', '[]')")
NEW_INSERT = text(
    "INSERT INTO change_events (service, ts, kind, ref, subject, description, slice, "
    "affects) VALUES ('rag', '2026-11-26 10:00:00.000000', 'prompt', '3', :subject, "
    "'x', '{}', '[]')")



def test_existing_changes_migrate_and_the_subject_tells_changes_apart(fresh_url: str) -> None:
    upgrade(fresh_url, "0007_nab")
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as connection:
            connection.execute(OLD_INSERT, {"ref": "3", "previous": "2",
                                            "description": "version 3 created"})
            connection.execute(OLD_INSERT, {"ref": "4", "previous": None,
                                            "description": "version 4 created"})
        upgrade(fresh_url, "0008_checks")
        assert current_revision(fresh_url) == "0008_checks"
        with engine.begin() as connection:
            rows = connection.execute(text(
                "SELECT ref, previous, subject, description FROM change_events ORDER BY id"))
            assert [tuple(r) for r in rows] == [("3", "2", "", "version 3 created"),
                                                ("4", None, "", "version 4 created")]
            # an alias moved to 3 at the same moment is a change of its own now
            connection.execute(NEW_INSERT, {"subject": "rag-prompt@production"})
            # a retry of either is still refused
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(NEW_INSERT, {"subject": "rag-prompt@production"})
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(NEW_INSERT, {"subject": ""})
    finally:
        engine.dispose()


def test_downgrade_keeps_the_oldest_of_changes_that_would_collide(fresh_url: str) -> None:
    upgrade(fresh_url, "0008_checks")
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as connection:
            connection.execute(NEW_INSERT, {"subject": "rag-prompt"})
            connection.execute(NEW_INSERT, {"subject": "rag-prompt@production"})
        engine.dispose()
        command.downgrade(alembic_config(fresh_url), "0007_nab")
        assert current_revision(fresh_url) == "0007_nab"
        with engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM change_events")).scalar() == 1
    finally:
        engine.dispose()
