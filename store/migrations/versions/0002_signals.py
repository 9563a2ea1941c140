"""signals tables

Revision ID: 0002
Revises: 0001

Signal points, distribution sketches, states, responder corrections, learned priors.
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_S = AutoString


def _common() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", _S(length=200), nullable=False),
        sa.Column("ts", store.types.UTCDateTime(), nullable=False),
    ]


def _signal_points() -> None:
    op.create_table(
        "signal_points", *_common(),
        sa.Column("layer", _S(length=20), nullable=False),
        sa.Column("name", _S(length=200), nullable=False),
        sa.Column("slice", sa.JSON(), nullable=False),
        sa.Column("slice_key", _S(length=500), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("count", sa.Float(), nullable=True),
        sa.Column("kind", _S(length=10), nullable=False),
        sa.Column("bad", _S(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signal_points_service_ts", "signal_points", ["service", "ts"])
    op.create_index("ix_signal_points_series", "signal_points",
                    ["service", "layer", "name", "slice_key", "ts"])


def _distribution_samples() -> None:
    op.create_table(
        "distribution_samples", *_common(),
        sa.Column("layer", _S(length=20), nullable=False),
        sa.Column("name", _S(length=200), nullable=False),
        sa.Column("slice", sa.JSON(), nullable=False),
        sa.Column("slice_key", _S(length=500), nullable=False),
        sa.Column("sketch", sa.JSON(), nullable=True),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_distribution_samples_service_ts", "distribution_samples",
                    ["service", "ts"])


def _state_samples() -> None:
    op.create_table(
        "state_samples", *_common(),
        sa.Column("layer", _S(length=20), nullable=False),
        sa.Column("name", _S(length=200), nullable=False),
        sa.Column("slice", sa.JSON(), nullable=False),
        sa.Column("slice_key", _S(length=500), nullable=False),
        sa.Column("value", _S(length=500), nullable=False),
        sa.Column("expected", _S(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_state_samples_service_ts", "state_samples", ["service", "ts"])


def _relabel_corrections() -> None:
    op.create_table(
        "relabel_corrections", *_common(),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("actor", _S(length=200), nullable=False),
        sa.Column("predicted", _S(length=30), nullable=True),
        sa.Column("label", _S(length=30), nullable=False),
        sa.Column("pattern", _S(length=800), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_relabel_corrections_service", "relabel_corrections", ["service"])


def _learned_priors() -> None:
    op.create_table(
        "learned_priors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", _S(length=200), nullable=False),
        sa.Column("pattern", _S(length=800), nullable=False),
        sa.Column("label", _S(length=30), nullable=False),
        sa.Column("count", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "pattern", "label", name="uq_learned_priors"),
    )


def upgrade() -> None:
    """One helper per table; relabel_corrections refers to 0001's incidents."""
    _signal_points()
    _distribution_samples()
    _state_samples()
    _relabel_corrections()
    _learned_priors()


def downgrade() -> None:
    op.drop_table("learned_priors")
    op.drop_index("ix_relabel_corrections_service", table_name="relabel_corrections")
    op.drop_table("relabel_corrections")
    op.drop_index("ix_state_samples_service_ts", table_name="state_samples")
    op.drop_table("state_samples")
    op.drop_index("ix_distribution_samples_service_ts", table_name="distribution_samples")
    op.drop_table("distribution_samples")
    op.drop_index("ix_signal_points_series", table_name="signal_points")
    op.drop_index("ix_signal_points_service_ts", table_name="signal_points")
    op.drop_table("signal_points")
