"""signals tables

Revision ID: 0002
Revises: 0001

Signal points, distribution samples and control-plane states.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types  # noqa: F401

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('distribution_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('ts', store.types.UTCDateTime(), nullable=False),
    sa.Column('layer', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('values', sa.JSON(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('slice', sa.JSON(), nullable=False),
    sa.Column('slice_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('service', 'layer', 'name', 'slice_key', 'ts',
                        name='uq_distribution_samples_identity')
    )
    with op.batch_alter_table('distribution_samples', schema=None) as batch_op:
        batch_op.create_index('ix_distribution_samples_service_ts', ['service', 'ts'], unique=False)

    op.create_table('signal_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('ts', store.types.UTCDateTime(), nullable=False),
    sa.Column('layer', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('count', sa.Float(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('bad', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('slice', sa.JSON(), nullable=False),
    sa.Column('slice_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('service', 'layer', 'name', 'slice_key', 'ts',
                        name='uq_signal_points_identity')
    )
    with op.batch_alter_table('signal_points', schema=None) as batch_op:
        batch_op.create_index('ix_signal_points_service_ts', ['service', 'ts'], unique=False)

    op.create_table('state_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('ts', store.types.UTCDateTime(), nullable=False),
    sa.Column('layer', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('expected', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('slice', sa.JSON(), nullable=False),
    sa.Column('slice_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('service', 'layer', 'name', 'slice_key', 'ts',
                        name='uq_state_points_identity')
    )
    with op.batch_alter_table('state_points', schema=None) as batch_op:
        batch_op.create_index('ix_state_points_service_ts', ['service', 'ts'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('state_points', schema=None) as batch_op:
        batch_op.drop_index('ix_state_points_service_ts')

    op.drop_table('state_points')
    with op.batch_alter_table('signal_points', schema=None) as batch_op:
        batch_op.drop_index('ix_signal_points_service_ts')

    op.drop_table('signal_points')
    with op.batch_alter_table('distribution_samples', schema=None) as batch_op:
        batch_op.drop_index('ix_distribution_samples_service_ts')

    op.drop_table('distribution_samples')
