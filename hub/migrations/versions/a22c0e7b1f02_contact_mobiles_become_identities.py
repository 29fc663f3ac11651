"""contact mobiles become identities

Issue 22.2: a shop buyer's contact mobile (``customers.mobile``, from the consignee) is a
mobile identity from now on, so that a customer import or another shop's order with that
mobile finds the buyer. Existing customers get theirs here, as the ingest path does it: a
valid, non-placeholder number (I3 and the blocklist) that no customer of the workspace holds
as an identity, for a live customer holding no mobile identity yet; when several customers
share the number, the oldest gets it (the others are not merged). One read, one insert.
Downgrading removes the identities this revision added (their ``source`` marks them).

Revision ID: a22c0e7b1f02
Revises: c3a7d91e5f20
Create Date: 2026-12-07 09:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

from hub.core.normalise import InvalidValue, junk_reason, normalise_mobile
from hub.models.types import UTCDateTime, utcnow

# revision identifiers, used by Alembic.
revision = "a22c0e7b1f02"
down_revision = "c3a7d91e5f20"
branch_labels = None
depends_on = None

SOURCE = "contact mobile"
CANDIDATES = sa.text(
    """
    SELECT c.workspace_id, c.id, c.mobile FROM customers c
    WHERE c.mobile IS NOT NULL AND c.merged_into_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM identities i
                      WHERE i.customer_id = c.id AND i.type = 'mobile')
      AND NOT EXISTS (SELECT 1 FROM identities i
                      WHERE i.workspace_id = c.workspace_id AND i.type = 'mobile'
                        AND i.value = c.mobile)
    ORDER BY c.id
    """
)
identities = sa.table(
    "identities",
    sa.column("workspace_id", sa.Integer),
    sa.column("customer_id", sa.Integer),
    sa.column("type", sa.String),
    sa.column("value", sa.String),
    sa.column("source", sa.String),
    sa.column("created_at", UTCDateTime),
)


def _usable(value):
    try:
        return normalise_mobile(value) == value and junk_reason("mobile", value) is None
    except InvalidValue:
        return False


def upgrade():
    bind = op.get_bind()
    taken, rows = set(), []
    stamp = utcnow()
    for ws, cid, mobile in bind.execute(CANDIDATES):
        if (ws, mobile) in taken or not _usable(mobile):
            continue
        taken.add((ws, mobile))
        rows.append(
            {
                "workspace_id": ws,
                "customer_id": cid,
                "type": "mobile",
                "value": mobile,
                "source": SOURCE,
                "created_at": stamp,
            }  # fmt: skip
        )
    if rows:
        op.bulk_insert(identities, rows)


def downgrade():
    op.execute(identities.delete().where(identities.c.source == SOURCE))
