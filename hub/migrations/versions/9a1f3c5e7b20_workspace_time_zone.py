"""workspace time zone

Each workspace gets an IANA time zone (default Asia/Shanghai): times are shown, filtered and
bucketed by day in it, and spreadsheet times without an offset are read in it. Storage stays UTC.

Revision ID: 9a1f3c5e7b20
Revises: 4823504394dc
Create Date: 2026-12-07 09:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9a1f3c5e7b20"
down_revision = "4823504394dc"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column(
                "time_zone", sa.String(length=64), nullable=False, server_default="Asia/Shanghai"
            )
        )


def downgrade():
    # a plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35): a batch would copy and drop the table,
    # which the rows referring to it refuse while SQLite checks foreign keys
    op.drop_column("workspaces", "time_zone")
