"""connection warnings

What a store's platform app may not do that the hub does without (an API refused for lack of
permission, e.g. Youzan 4204): kept on the connection and shown on the store page.

Revision ID: c3a9e51f0b62
Revises: 9a1f3c5e7b20
Create Date: 2026-12-07 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3a9e51f0b62"
down_revision = "9a1f3c5e7b20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("warnings", sa.JSON(), nullable=True))


def downgrade():
    # a plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35): a batch would copy and drop the table,
    # which the rows referring to it refuse while SQLite checks foreign keys
    op.drop_column("connections", "warnings")
