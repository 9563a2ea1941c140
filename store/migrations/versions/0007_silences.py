"""on-call: silences, schedule overrides, maintenance windows of changes, held incidents

Revision ID: 0007_silences
Revises: 0006_durable
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.types

revision = "0007_silences"
down_revision = "0006_durable"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = AutoString
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matchers", text(length=4000), nullable=False),
        sa.Column("starts_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", store.types.UTCDateTime(), nullable=True),
        sa.Column("created_by", text(length=200), nullable=False),
        sa.Column("comment", text(length=2000), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])
    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule", text(length=80), nullable=False),
        sa.Column("user", text(length=50), nullable=False),
        sa.Column("starts_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("set_by", text(length=50), nullable=False),
        sa.Column("reason", text(length=500), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_oncall_overrides_schedule", "oncall_overrides",
                    ["schedule", "ends_at"])
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("silenced_by", sa.Integer(), nullable=True))
    with op.batch_alter_table("change_events") as batch:
        batch.add_column(sa.Column("maintenance_minutes", sa.Float(), nullable=True))
        batch.add_column(sa.Column("affects", sa.JSON(), nullable=False,
                                   server_default=sa.text("'[]'")))
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("held_until", store.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("held_until")
    with op.batch_alter_table("change_events") as batch:
        batch.drop_column("affects")
        batch.drop_column("maintenance_minutes")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("silenced_by")
    op.drop_index("ix_oncall_overrides_schedule", "oncall_overrides")
    op.drop_table("oncall_overrides")
    op.drop_index("ix_silences_ends_at", "silences")
    op.drop_table("silences")
