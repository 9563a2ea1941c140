"""watch models: a write token per row, and the model's bytes last in the row

The watch reads every model of every service each run to learn whether another
process moved it on (a replica after a failover, a restore). It now reads each
row's ``write_token`` instead (a random number drawn for every save), and the
model's bytes only of the rows whose token is not the one this process wrote.

On SQLite the table is rebuilt so that the bytes are the row's last column: a
row of twelve kilobytes spills onto overflow pages, and reading any column after
the bytes walks them, so the token and the timestamps come before. On
PostgreSQL the bytes are kept apart (TOAST) whatever the order: the column is
added at the end.

Revision ID: 0010_wstore
Revises: 0009_edge
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_wstore"
down_revision = "0009_edge"
branch_labels = None
depends_on = None

_ORDER = ("id", "service", "layer", "name", "slice_key", "write_token", "last_point",
          "updated_at", "model")


def upgrade() -> None:
    column = sa.Column("write_token", sa.BigInteger(), nullable=False, server_default="0")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("watch_models", recreate="always",
                                  partial_reordering=[_ORDER]) as batch_op:
            batch_op.add_column(column)
    else:
        op.add_column("watch_models", column)


def downgrade() -> None:
    with op.batch_alter_table("watch_models", schema=None) as batch_op:
        batch_op.drop_column("write_token")
