"""runbooks tables

Revision ID: 0003
Revises: 0002

Owned by the runbooks part: runbook runs and their step records.
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runbook_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("runbook", AutoString(length=100), nullable=False),
        sa.Column("status", AutoString(length=30), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("requested_by", AutoString(length=200), nullable=False),
        sa.Column("decided_by", AutoString(length=200), nullable=True),
        sa.Column("reason", AutoString(), nullable=True),
        sa.Column("idempotency_key", AutoString(length=200),
                  nullable=False),
        sa.Column("active_key", AutoString(length=300), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("next_step", sa.Integer(), nullable=False),
        sa.Column("verdict", AutoString(length=30), nullable=True),
        sa.Column("error", AutoString(), nullable=True),
        sa.Column("runner", AutoString(length=200), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("started_at", store.types.UTCDateTime(), nullable=True),
        sa.Column("ended_at", store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key", name="uq_runbook_runs_idempotency_key"),
        sa.UniqueConstraint("active_key", name="uq_runbook_runs_active_key"),
    )
    with op.batch_alter_table("runbook_runs", schema=None) as batch_op:
        batch_op.create_index("ix_runbook_runs_incident", ["incident_id"], unique=False)
        batch_op.create_index("ix_runbook_runs_status", ["status"], unique=False)

    op.create_table(
        "runbook_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("path", AutoString(length=300), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("step_id", AutoString(length=100), nullable=False),
        sa.Column("kind", AutoString(length=20), nullable=False),
        sa.Column("status", AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("summary", AutoString(), nullable=False),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("error", AutoString(), nullable=True),
        sa.Column("started_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", store.types.UTCDateTime(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runbook_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("runbook_steps", schema=None) as batch_op:
        batch_op.create_index("ix_runbook_steps_run", ["run_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("runbook_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_runbook_steps_run")
    op.drop_table("runbook_steps")
    with op.batch_alter_table("runbook_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runbook_runs_status")
        batch_op.drop_index("ix_runbook_runs_incident")
    op.drop_table("runbook_runs")
