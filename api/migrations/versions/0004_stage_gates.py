"""stage gates: required fields per stage, loss reasons per pipeline, the deal's loss reason

Revision ID: 0004_stage_gates
Revises: 0003_user_language
Create Date: 2026-12-01 11:00:00

Existing rows get an empty gate and an empty pick list (server defaults), so an upgraded
database behaves as before until someone declares a gate.
"""

from alembic import op
import sqlalchemy as sa


revision = '0004_stage_gates'
down_revision = '0003_user_language'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pipelines') as batch:
        batch.add_column(sa.Column('loss_reasons', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table('stages') as batch:
        batch.add_column(sa.Column('required_fields', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table('deals') as batch:
        batch.add_column(sa.Column('loss_reason', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deals') as batch:
        batch.drop_column('loss_reason')
    with op.batch_alter_table('stages') as batch:
        batch.drop_column('required_fields')
    with op.batch_alter_table('pipelines') as batch:
        batch.drop_column('loss_reasons')
