"""users.locale: the UI language a user chose (zh_CN); NULL follows the browser

Revision ID: a7c3e51f2b90
Revises: c3a9e51f0b62
Create Date: 2026-12-07 09:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c3e51f2b90"
down_revision = "c3a9e51f0b62"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=20), nullable=True))


def downgrade():
    # a plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35): a batch would copy and drop the table,
    # which the rows referring to it refuse while SQLite checks foreign keys
    op.drop_column("users", "locale")
