"""runbooks tables

Revision ID: 0003
Revises: 0002

Owned by the runbooks part: it adds its tables here (op.create_table ...).
"""

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

import store.types  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
