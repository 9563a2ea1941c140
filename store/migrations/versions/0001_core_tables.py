"""core tables

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _change_events() -> None:
    op.create_table('change_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', AutoString(length=200), nullable=False),
    sa.Column('ts', store.types.UTCDateTime(), nullable=False),
    sa.Column('kind', AutoString(length=30), nullable=False),
    sa.Column('ref', AutoString(length=200), nullable=False),
    sa.Column('previous', AutoString(length=200), nullable=True),
    sa.Column('author', AutoString(length=200), nullable=True),
    sa.Column('description', AutoString(), nullable=True),
    sa.Column('slice', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('service', 'ts', 'kind', 'ref', name='uq_change_events_identity')
    )
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.create_index('ix_change_events_service_ts', ['service', 'ts'], unique=False)


def _incidents() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', AutoString(length=200), nullable=False),
    sa.Column('title', AutoString(length=500), nullable=False),
    sa.Column('severity', AutoString(length=50), nullable=False),
    sa.Column('status', AutoString(length=20), nullable=False),
    sa.Column('source', AutoString(length=20), nullable=False),
    sa.Column('group_key', AutoString(length=500), nullable=False),
    sa.Column('open_key', AutoString(length=800), nullable=True),
    sa.Column('description', AutoString(), nullable=True),
    sa.Column('behavior', AutoString(length=30), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('diagnosis', sa.JSON(), nullable=False),
    sa.Column('label_source', AutoString(length=30), nullable=True),
    sa.Column('onset', store.types.UTCDateTime(), nullable=True),
    sa.Column('budget_impact', sa.JSON(), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('followups', sa.JSON(), nullable=False),
    sa.Column('resolution', AutoString(), nullable=True),
    sa.Column('alerts_firing', sa.Integer(), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('last_alert_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('mitigated_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('slack_channel_id', AutoString(length=50), nullable=True),
    sa.Column('slack_channel_name', AutoString(length=100), nullable=True),
    sa.Column('slack_summary_ts', AutoString(length=50), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('open_key', name='uq_incidents_open_key')
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_service_status', ['service', 'status'], unique=False)


def _alerts() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', AutoString(length=200), nullable=False),
    sa.Column('source', AutoString(length=30), nullable=False),
    sa.Column('service', AutoString(length=200), nullable=False),
    sa.Column('name', AutoString(length=300), nullable=False),
    sa.Column('severity', AutoString(length=50), nullable=False),
    sa.Column('status', AutoString(length=20), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('annotations', sa.JSON(), nullable=False),
    sa.Column('starts_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('ends_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('first_seen', store.types.UTCDateTime(), nullable=False),
    sa.Column('last_seen', store.types.UTCDateTime(), nullable=False),
    sa.Column('receive_count', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fingerprint', name='uq_alerts_fingerprint')
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_incident', ['incident_id'], unique=False)


def _timeline_events() -> None:
    op.create_table('timeline_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('ts', store.types.UTCDateTime(), nullable=False),
    sa.Column('actor', AutoString(length=200), nullable=False),
    sa.Column('kind', AutoString(length=50), nullable=False),
    sa.Column('message', AutoString(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.create_index('ix_timeline_incident_ts', ['incident_id', 'ts'], unique=False)


def upgrade() -> None:
    """One helper per table, in the order foreign keys need."""
    _change_events()
    _incidents()
    _alerts()
    _timeline_events()


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_incident_ts')

    op.drop_table('timeline_events')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_incident')

    op.drop_table('alerts')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_service_status')

    op.drop_table('incidents')
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.drop_index('ix_change_events_service_ts')

    op.drop_table('change_events')
    # ### end Alembic commands ###
