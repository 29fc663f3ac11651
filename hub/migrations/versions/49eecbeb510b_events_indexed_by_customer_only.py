"""events indexed by customer only

The timeline sorts a customer's few events itself; the narrower key halves what every
event insert writes (bench/ingest.py).

Revision ID: 49eecbeb510b
Revises: 30311662e339
Create Date: 2026-11-23 01:36:02.459427

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "49eecbeb510b"
down_revision = "30311662e339"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_customer_time"))
        batch_op.create_index("ix_events_customer", ["customer_id"], unique=False)


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_customer")
        batch_op.create_index(
            batch_op.f("ix_events_customer_time"), ["customer_id", "occurred_at"], unique=False
        )
