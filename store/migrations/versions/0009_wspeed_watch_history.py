"""watch history apart: a watch model's bucket ring is stored beside the model

The watch rewrites every series' model every run; three quarters of its bytes
are the half-hour buckets of its history, which change once a half-hour. They
now live in ``watch_models.history``, written only when they changed, so a run
writes a quarter of what it did. Rows written before keep everything in
``model`` (``history`` NULL) and still decode.

Revision ID: 0009_wspeed
Revises: 0008_names
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_wspeed"
down_revision = "0008_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watch_models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("history", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    """Models written in the split format need their history: the watch relearns them."""
    op.execute(sa.text("DELETE FROM watch_models WHERE history IS NOT NULL"))
    with op.batch_alter_table("watch_models", schema=None) as batch_op:
        batch_op.drop_column("history")
