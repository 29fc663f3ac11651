"""customer deletion that sticks (H3), original source detail (H4), privacy requests

customers.original_source_detail (the drill-down of original_source, first value kept);
customer_tombstones: digests of deleted customers' identities, so a later record carrying
one is taken without a contact; privacy_requests: the shops' compliance requests and what the
hub did about them.

Revision ID: d4f1a2b3c5e6
Revises: b5e0c3a7d912
Create Date: 2026-12-07 12:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

import hub.models.types

# revision identifiers, used by Alembic.
revision = "d4f1a2b3c5e6"
down_revision = "b5e0c3a7d912"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("original_source_detail", sa.String(100), nullable=True))
    op.create_table(
        "customer_tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", hub.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_customer_tombstones_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_tombstones")),
        sa.UniqueConstraint(
            "workspace_id", "digest", name=op.f("uq_customer_tombstones_workspace_id_digest")
        ),
    )
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("request_id", sa.String(200), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("erased", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("created_at", hub.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_privacy_requests_workspace_id_workspaces"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_privacy_requests_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index("ix_privacy_requests_ws", "privacy_requests", ["workspace_id", "id"])


def downgrade():
    op.drop_index("ix_privacy_requests_ws", table_name="privacy_requests")
    op.drop_table("privacy_requests")
    op.drop_table("customer_tombstones")
    op.drop_column("customers", "original_source_detail")
