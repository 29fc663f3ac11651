"""deals: the ecommerce pipeline (H5, H6)

One deal per order of every source and one per checkout, with its stage. Existing orders get
their deal here, set-based, their stage the cross-platform analogue of the normalised status
(pending → checkout_completed, paid → processed, shipped/completed → shipped, closed →
cancelled).

Revision ID: d7e4a1c9b305
Revises: b5e0c3a7d912
Create Date: 2026-12-07 13:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import hub.models.types

# revision identifiers, used by Alembic.
revision = "d7e4a1c9b305"
down_revision = "d4f1a2b3c5e6"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO deals (workspace_id, connection_id, source, kind, external_id, order_id,
                   customer_id, name, stage, amount, currency, properties, line_items,
                   checkout_token, stage_at, version, created_at, updated_at)
SELECT workspace_id, connection_id, source, 'order', external_id, id, customer_id, order_no,
       CASE status WHEN 'pending' THEN 'checkout_completed'
                   WHEN 'paid' THEN 'processed'
                   WHEN 'shipped' THEN 'shipped'
                   WHEN 'completed' THEN 'shipped'
                   ELSE 'cancelled' END,
       COALESCE(amount_total, amount_paid), currency, '{}', NULL, NULL,
       COALESCE(source_updated_at, ordered_at), version, created_at, updated_at
FROM orders
"""


def upgrade():
    op.create_table(
        "deals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("stage", sa.String(length=30), nullable=False),
        sa.Column("amount", hub.models.types.Money(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("line_items", sa.JSON(), nullable=True),
        sa.Column("checkout_token", sa.String(length=200), nullable=True),
        sa.Column("stage_at", hub.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", hub.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], name=op.f("fk_deals_connection_id_connections")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_deals_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_deals_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_deals_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
        sa.UniqueConstraint(
            "workspace_id",
            "source",
            "kind",
            "external_id",
            name=op.f("uq_deals_workspace_id_source_kind_external_id"),
        ),
    )
    op.create_index("ix_deals_ws_stage", "deals", ["workspace_id", "stage"])
    op.create_index("ix_deals_ws_token", "deals", ["workspace_id", "checkout_token"])
    op.create_index("ix_deals_order", "deals", ["order_id"])
    op.create_index("ix_deals_customer", "deals", ["customer_id"])
    op.execute(BACKFILL)


def downgrade():
    op.drop_table("deals")
