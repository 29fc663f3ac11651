"""order shipments

The shipments sent back to the shop from the hub (W8: ``hub ship``, the API and the order
page), kept on the order apart from its synced properties.

Revision ID: f3a5c7e9b104
Revises: e8b2c4d6f013
Create Date: 2026-12-07 16:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f3a5c7e9b104"
down_revision = "e8b2c4d6f013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("shipments", sa.JSON(), nullable=True))


def downgrade():
    # a plain ALTER TABLE … DROP COLUMN (see c3a9e51f0b62)
    op.drop_column("orders", "shipments")
