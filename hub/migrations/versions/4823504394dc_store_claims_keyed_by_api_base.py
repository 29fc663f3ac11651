"""store claims keyed by API base

A Youzan store is claimed across all workspaces only when the official API vouched for it.
A bound store whose api_base is another one (a sandbox, a server of one's own) is keyed
``<kdt_id>@<origin of the base>`` from now on, so that it never blocks the real store.
Downgrading gives such rows their plain store id back where no other row holds it (the old
code reads bound_key only to keep a store id unique; a row still keyed stays bound).

Revision ID: 4823504394dc
Revises: b5e1f0c2d7a4
Create Date: 2026-11-24 10:00:00.000000

"""

from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "4823504394dc"
down_revision = "b5e1f0c2d7a4"
branch_labels = None
depends_on = None

OFFICIAL = "https://open.youzanyun.com"  # as in connectors/youzan/client.py at this revision
connections = sa.table(
    "connections",
    sa.column("id", sa.Integer),
    sa.column("platform", sa.String),
    sa.column("external_id", sa.String),
    sa.column("bound_key", sa.String),
    sa.column("settings", sa.JSON),
)


def _origin(url):
    """hub.sync.egress.origin_of at this revision."""
    parts = urlsplit(url.strip())
    scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def _set_key(bind, row_id, key):
    bind.execute(connections.update().where(connections.c.id == row_id).values(bound_key=key))


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(connections.c.id, connections.c.external_id, connections.c.settings).where(
            connections.c.platform == "youzan", connections.c.bound_key.is_not(None)
        )
    ).all()
    for row_id, external_id, settings in rows:
        base = str((settings or {}).get("api_base") or OFFICIAL)
        if _origin(base) != OFFICIAL or urlsplit(base.strip()).path.strip("/"):
            _set_key(bind, row_id, f"{external_id}@{_origin(base)}")


def downgrade():
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(connections.c.id, connections.c.external_id)
        .where(connections.c.platform == "youzan", connections.c.bound_key.like("%@%"))
        .order_by(connections.c.id)
    ).all()
    for row_id, external_id in rows:
        held = bind.execute(
            sa.select(connections.c.id).where(
                connections.c.platform == "youzan", connections.c.bound_key == external_id
            )
        ).first()
        if held is None:
            _set_key(bind, row_id, external_id)
