"""alerts indexed by incident and status: the intake's count of firing alerts per incident

After every batch the intake counts each touched incident's firing alerts
(``store.intake_queries.firing_counts``). The index on ``incident_id`` alone found
the incident's rows and then read each one for its ``status``; with ``status`` in
the index the count is answered from the index. It replaces the old index: lookups
by ``incident_id`` alone use its first column.

Revision ID: 0009_edge
Revises: 0008_names
"""

from alembic import op

revision = "0009_edge"
down_revision = "0008_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_incident_status", ["incident_id", "status"],
                              unique=False)
        batch_op.drop_index("ix_alerts_incident")


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_incident", ["incident_id"], unique=False)
        batch_op.drop_index("ix_alerts_incident_status")
