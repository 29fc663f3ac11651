"""orders: the customer index covers workspace and order time

``ix_orders_customer`` becomes (customer_id, workspace_id, ordered_at): a customer's orders are
still found by its prefix, and the per-customer figures of RF segments (last order, count) are
read from the index alone, in customer order, with no table lookup and no sort.

Revision ID: b7d2e4f6a813
Revises: f3c5a7e9b1d2
Create Date: 2026-12-07 20:15:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b7d2e4f6a813"
down_revision = "f3c5a7e9b1d2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_customer")
        batch_op.create_index(
            "ix_orders_customer", ["customer_id", "workspace_id", "ordered_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_customer")
        batch_op.create_index("ix_orders_customer", ["customer_id"], unique=False)
