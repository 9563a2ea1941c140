"""What each registry alias or deployment environment points at, as the bot last heard.

A model registry's webhook says "alias champion now points at version 2" but not
what it pointed at before; the change's ``previous`` (what a rollback goes back
to) comes from this table, kept up to date by the same webhooks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


class ChangePointer(SQLModel, table=True):
    __tablename__ = "change_pointers"

    # e.g. "mlflow-model" / "rag-llm@champion", "github-deployment" / "org/repo@production"
    source: str = Field(primary_key=True, max_length=40)
    subject: str = Field(primary_key=True, max_length=400)
    value: str = Field(max_length=200)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
