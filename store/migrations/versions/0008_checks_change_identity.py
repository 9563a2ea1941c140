"""change identity takes the subject: what in the source a change moved

MLflow's "version 3 created" and "alias production set to version 3" arrive with
the same service, kind and ref, and can share a timestamp; with identity
``(service, ts, kind, ref)`` the second was taken for a retry of the first and
dropped. ``subject`` (the alias, environment, application, flag or tag the
change is about, ``""`` when the ref alone says it) joins the identity.

Existing rows keep their values and get ``subject = ""``: they were unique on the
old identity, so they are unique on the new one.

Revision ID: 0008_checks
Revises: 0007_nab
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0008_checks"
down_revision = "0007_nab"
branch_labels = None
depends_on = None

OLD = ["service", "ts", "kind", "ref"]
NEW = [*OLD, "subject"]


def upgrade() -> None:
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", AutoString(length=400),
                                      nullable=False, server_default=""))
        batch_op.drop_constraint("uq_change_events_identity", type_="unique")
        batch_op.create_unique_constraint("uq_change_events_identity", NEW)


def downgrade() -> None:
    """Back to the coarse identity: of the rows that now collide, the oldest stays."""
    op.execute(sa.text(
        "DELETE FROM change_events WHERE id NOT IN (SELECT min(id) FROM change_events "
        "GROUP BY service, ts, kind, ref)"))
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_change_events_identity", type_="unique")
        batch_op.create_unique_constraint("uq_change_events_identity", OLD)
        batch_op.drop_column("subject")
