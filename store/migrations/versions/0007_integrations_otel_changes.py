"""OTLP stream state (the previous point of each stream) and change pointers (what each
registry alias or deployment environment points at)

Revision ID: 0007_integrations
Revises: 0007_silences
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.types

revision = "0007_integrations"
down_revision = "0007_silences"
branch_labels = None
depends_on = None

_S = AutoString


def upgrade() -> None:
    op.create_table(
        "otel_streams",
        sa.Column("key", _S(length=40), nullable=False),
        sa.Column("service", _S(length=200), nullable=False),
        sa.Column("metric", _S(length=300), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("last_ns", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_otel_streams_updated_at", "otel_streams", ["updated_at"])
    op.create_table(
        "change_pointers",
        sa.Column("source", _S(length=40), nullable=False),
        sa.Column("subject", _S(length=400), nullable=False),
        sa.Column("value", _S(length=200), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "subject"),
    )


def downgrade() -> None:
    op.drop_table("change_pointers")
    op.drop_index("ix_otel_streams_updated_at", table_name="otel_streams")
    op.drop_table("otel_streams")
