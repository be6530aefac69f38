"""message correlation: the correlation key value a message wait is correlated by

Revision ID: 0006_message_correlation
Revises: 0005_incident_details
Create Date: 2026-12-01 16:50:00

Existing waits get none: they take any message of their name for their deal, as before.
"""

from alembic import op
import sqlalchemy as sa


revision = '0006_message_correlation'
down_revision = '0005_incident_details'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message_waits') as batch:
        batch.add_column(sa.Column('correlation', sa.String(length=200), nullable=True))
        batch.create_index('ix_message_waits_correlation', ['correlation'])


def downgrade() -> None:
    with op.batch_alter_table('message_waits') as batch:
        batch.drop_index('ix_message_waits_correlation')
        batch.drop_column('correlation')
