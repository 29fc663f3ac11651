"""identity owner index on SQLite only

On PostgreSQL the unique key (workspace_id, type, value) of identities answers identity
resolution's owner lookup by the same leading columns (EXPLAIN: an index scan of
uq_identities_workspace_id_type_value), so ix_identities_owner was a second copy of that key
that every insert paid for. SQLite keeps it: there it covers the lookup without reading rows.

Revision ID: b5e0c3a7d912
Revises: a22c0e7b1f02
Create Date: 2026-12-07 09:50:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b5e0c3a7d912"
down_revision = "a22c0e7b1f02"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_identities_owner", table_name="identities")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_identities_owner",
            "identities",
            ["workspace_id", "type", "value", "customer_id"],
            unique=False,
        )
