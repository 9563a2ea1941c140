"""slack tables: channel claims and processed interactions

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_channel_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("state", AutoString(length=20), nullable=False),
        sa.Column("channel_id", AutoString(length=50), nullable=True),
        sa.Column("channel_name", AutoString(length=100), nullable=True),
        sa.Column("error", AutoString(), nullable=True),
        sa.Column("claimed_at", store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", name="uq_slack_channel_claims_incident"),
    )
    op.create_table(
        "slack_processed_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", AutoString(length=300), nullable=False),
        sa.Column("kind", AutoString(length=40), nullable=False),
        sa.Column("processed_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_slack_processed_requests_key"),
    )


def downgrade() -> None:
    op.drop_table("slack_processed_requests")
    op.drop_table("slack_channel_claims")
