"""alert fingerprints are unique per source; a table for /healthz's write probe

An Alertmanager fingerprint and a Grafana one are different namespaces: the same
string from two sources is two alerts. Existing rows keep their values (a globally
unique fingerprint is also unique per source); only the constraint changes.

Revision ID: 0006_checks
Revises: 0007_integrations
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.types

revision = "0006_checks"
down_revision = "0007_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_alerts_fingerprint", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_source_fingerprint",
                                          ["source", "fingerprint"])
    op.create_table(
        "write_probes",
        sa.Column("replica", AutoString(length=200), nullable=False),
        sa.Column("probed_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("replica"),
    )


def downgrade() -> None:
    op.drop_table("write_probes")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_alerts_source_fingerprint", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_fingerprint", ["fingerprint"])
