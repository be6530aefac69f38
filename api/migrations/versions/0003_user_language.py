"""users.language: the language a person reads the app in, kept on the user

Revision ID: 0003_user_language
Revises: 0002_deal_order_key
Create Date: 2026-12-01 10:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003_user_language'
down_revision = '0002_deal_order_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # server_default fills the existing rows: everyone reads English until they choose.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
