"""digest posts: one row per team and ISO week

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team", AutoString(length=200), nullable=False),
        sa.Column("week", AutoString(length=10), nullable=False),
        sa.Column("status", AutoString(length=20), nullable=False),
        sa.Column("channel", AutoString(length=50), nullable=True),
        sa.Column("message_ts", AutoString(length=50), nullable=True),
        sa.Column("file_id", AutoString(length=50), nullable=True),
        sa.Column("path", AutoString(), nullable=True),
        sa.Column("error", AutoString(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("posted_at", store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team", "week", name="uq_digest_posts_team_week"),
    )


def downgrade() -> None:
    op.drop_table("digest_posts")
