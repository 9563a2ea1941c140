"""watch bundles: a service's watch models in two rows (recent parts, histories)

A run of the watch wrote one row of twelve kilobytes per series every minute,
eight of them the half-hour buckets that had not changed. ``watch_bundles``
holds per service one row of the parts that move with every point and one of
the histories, written only when a half-hour closes. Rows of ``watch_models``
are kept: the watch reads a service's models from there until its first save
into ``watch_bundles``, which removes them.

Revision ID: 0011_wsave
Revises: 0010_wstore
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.types

revision = "0011_wsave"
down_revision = "0010_wstore"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_bundles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", AutoString(length=200), nullable=False),
        sa.Column("part", AutoString(length=20), nullable=False),
        sa.Column("write_token", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_point", store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service", "part", name="uq_watch_bundles_part"),
    )


def downgrade() -> None:
    op.drop_table("watch_bundles")
