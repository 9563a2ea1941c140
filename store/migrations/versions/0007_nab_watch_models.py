"""watch models: the silent-degradation watch's running model per series

Revision ID: 0007_nab
Revises: 0006_checks
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.types

revision = "0007_nab"
down_revision = "0006_checks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", AutoString(length=200), nullable=False),
        sa.Column("layer", AutoString(length=20), nullable=False),
        sa.Column("name", AutoString(length=200), nullable=False),
        sa.Column("slice_key", AutoString(length=500), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.Column("last_point", store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service", "layer", "name", "slice_key",
                            name="uq_watch_models_series"),
    )
    op.create_index("ix_watch_models_service", "watch_models", ["service"])


def downgrade() -> None:
    op.drop_index("ix_watch_models_service", table_name="watch_models")
    op.drop_table("watch_models")
