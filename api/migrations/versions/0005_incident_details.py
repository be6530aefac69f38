"""incident details: the expression that failed and the values it saw

Revision ID: 0005_incident_details
Revises: 0004_stage_gates
Create Date: 2026-12-01 14:20:00

Existing incidents get empty details (server default): their message already names what failed.
"""

from alembic import op
import sqlalchemy as sa


revision = '0005_incident_details'
down_revision = '0004_stage_gates'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('details', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('details')
