"""decisions: versions of DMN decision tables beside the process versions

Revision ID: 0007_decisions
Revises: 0006_message_correlation
Create Date: 2026-12-01 16:50:00

A new table only; nothing existing changes.
"""

from alembic import op
import sqlalchemy as sa


revision = '0007_decisions'
down_revision = '0006_message_correlation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('decision_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('hit_policy', sa.String(length=20), nullable=False),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('table', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_versions')),
    sa.UniqueConstraint('key', 'version', name=op.f('uq_decision_versions_key'))
    )
    with op.batch_alter_table('decision_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_versions_key'), ['key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('decision_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_versions_key'))
    op.drop_table('decision_versions')
