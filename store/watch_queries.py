"""Load and save the watch's per-series models. Keyword-only; never commit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, select

from store.watch_models import WatchModel

SeriesKey = tuple[str, str, str]  # layer, name, slice key


def load_watch_models(*, session: Session, service: str) -> dict[SeriesKey, bytes]:
    """Every stored model of ``service``, by series."""
    rows = session.exec(select(WatchModel).where(WatchModel.service == service)).all()
    return {(r.layer, r.name, r.slice_key): r.model for r in rows}


def save_watch_models(*, session: Session, service: str,
                      models: Mapping[SeriesKey, tuple[bytes, datetime]], now: datetime) -> None:
    """Insert or replace the models of ``service`` (``key -> (bytes, newest point)``)."""
    if not models:
        return
    rows = {(r.layer, r.name, r.slice_key): r for r in session.exec(
        select(WatchModel).where(WatchModel.service == service)).all()}
    for key, (blob, last_point) in models.items():
        row = rows.get(key)
        if row is None:
            session.add(WatchModel(service=service, layer=key[0], name=key[1],
                                   slice_key=key[2], model=blob, last_point=last_point,
                                   updated_at=now))
        else:
            row.model, row.last_point, row.updated_at = blob, last_point, now
            session.add(row)
    session.flush()
