"""outbox: follow-up work written with the change that needs it; who claimed a channel

Revision ID: 0006_durable
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.types

revision = "0006_durable"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event", AutoString(length=60), nullable=False),
        sa.Column("handler", AutoString(length=200), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("pending_key", AutoString(length=64), nullable=True),
        sa.Column("state", AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("lease_until", store.types.UTCDateTime(), nullable=True),
        sa.Column("claimed_by", AutoString(length=200), nullable=True),
        sa.Column("last_error", AutoString(), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pending_key", name="uq_outbox_pending_key"),
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "available_at"])
    op.create_index("ix_outbox_incident", "outbox", ["incident_id"])
    with op.batch_alter_table("slack_channel_claims") as batch:
        batch.add_column(sa.Column("claimed_by", AutoString(length=200),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slack_channel_claims") as batch:
        batch.drop_column("claimed_by")
    op.drop_index("ix_outbox_incident", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
