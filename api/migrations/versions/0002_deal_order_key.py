"""one outside order is one deal: deals.order_source + order_number, UNIQUE together

Revision ID: 0002_deal_order_key
Revises: 0001
Create Date: 2026-12-01 10:50:00

Deals made from a store order before this revision keep NULLs (they never collide); their
order number stays readable in fields.order_id, which the intake still resolves by.
"""

from alembic import op
import sqlalchemy as sa


revision = '0002_deal_order_key'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_source', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('order_number', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint('uq_deals_order_source_number', ['order_source', 'order_number'])


def downgrade() -> None:
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_constraint('uq_deals_order_source_number', type_='unique')
        batch_op.drop_column('order_number')
        batch_op.drop_column('order_source')
