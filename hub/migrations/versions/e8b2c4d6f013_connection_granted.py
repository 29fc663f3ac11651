"""connection granted permissions

What the platform granted a store's credentials (Shopify: the access scopes), read when the
store is bound or bound again: kept on the connection, shown on the store page and in the API.

Revision ID: e8b2c4d6f013
Revises: d7e4a1c9b305
Create Date: 2026-12-07 13:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e8b2c4d6f013"
down_revision = "d7e4a1c9b305"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("granted", sa.JSON(), nullable=True))


def downgrade():
    # a plain ALTER TABLE … DROP COLUMN (see c3a9e51f0b62)
    op.drop_column("connections", "granted")
