"""Migration 0006_checks: stored alerts survive, and fingerprints become unique per source."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from store.db import current_revision, make_engine, upgrade

INSERT = text(
    "INSERT INTO alerts (fingerprint, source, service, name, severity, status, labels, "
    "annotations, first_seen, last_seen, receive_count) VALUES (:fingerprint, :source, "
    "'checkout', 'HighLatency', 'page', 'firing', '{}', '{}', '2026-11-26 10:00:00.000000', "
    "'2026-11-26 10:00:00.000000', 3)")



def test_existing_alerts_migrate_and_sources_get_their_own_fingerprints(fresh_url: str) -> None:
    upgrade(fresh_url, "0006")
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as connection:
            connection.execute(INSERT, {"fingerprint": "abc", "source": "alertmanager"})
            connection.execute(INSERT, {"fingerprint": "def", "source": "grafana"})
            # Before: one fingerprint across sources.
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(INSERT, {"fingerprint": "abc", "source": "grafana"})
        upgrade(fresh_url, "0006_checks")  # through the migrations chained before it
        assert current_revision(fresh_url) == "0006_checks"
        with engine.begin() as connection:
            rows = connection.execute(text(
                "SELECT fingerprint, source, receive_count FROM alerts ORDER BY id")).all()
            assert [tuple(r) for r in rows] == [("abc", "alertmanager", 3), ("def", "grafana", 3)]
            connection.execute(INSERT, {"fingerprint": "abc", "source": "grafana"})  # now fine
            # Still unique within a source.
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(INSERT, {"fingerprint": "abc", "source": "alertmanager"})
            probes = connection.execute(text("SELECT count(*) FROM write_probes")).scalar()
            assert probes == 0
    finally:
        engine.dispose()
