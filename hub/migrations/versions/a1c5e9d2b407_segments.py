"""segments

Saved customer segments (issue 25, A2): a name and a filter in the condition vocabulary of
hub.automation.conditions, per workspace.

Revision ID: a1c5e9d2b407
Revises: f3a5c7e9b104
Create Date: 2026-12-07 16:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

import hub.models.types

# revision identifiers, used by Alembic.
revision = "a1c5e9d2b407"
down_revision = "f3a5c7e9b104"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("created_at", hub.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name"),
    )


def downgrade():
    op.drop_table("segments")
