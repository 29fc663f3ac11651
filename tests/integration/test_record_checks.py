"""A connector's mistake meets the check at the core's boundary (issue 21.2), end to end: the
sync run or the import fails with a message naming the record and the field, nothing of the
batch is written, and the stream's cursor does not move past it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hub.core.errors import InvalidRecord
from hub.extensions import db
from hub.imports import jobs as import_jobs
from hub.imports import service as imports
from hub.models import Connection, Cursor, ImportRun, Order, SyncRun, utcnow
from hub.sync import engine
from hub.sync import service as sync_service
from tests.integration.test_import_tmall import files, order, product
from tests.support.fake_platform import add_connection, make_orders, write_orders
from tests.support.spreadsheets import IMPORT_CONNECTORS


def sync(conn: Connection) -> SyncRun:
    run = sync_service.request_sync(conn.workspace_id, conn.id)
    engine.execute(run.id, job_id=run.job_id)
    return db.session.get(SyncRun, run.id, populate_existing=True)


def stored() -> set[str]:
    return set(db.session.scalars(select(Order.external_id)))


def test_a_naive_order_time_fails_the_sync_run_naming_the_order_and_field(workspace, tmp_path):
    now = utcnow()
    rows = make_orders(12, start=now - timedelta(days=2))
    naive = (now - timedelta(days=1)).replace(tzinfo=None, microsecond=0)
    rows[7]["ordered_at"] = naive.isoformat()  # the platform sent no offset; the mapping kept it
    data = tmp_path / "orders.json"
    write_orders(data, rows)
    conn = add_connection(workspace.id, data)

    run = sync(conn)
    assert (run.status, run.error_class) == ("failed", "system")
    assert run.error_message == (
        f"InvalidRecord: order '{rows[7]['id']}' from 'fake' (record 7 of the batch): "
        f"ordered_at must be timezone-aware, not the naive time {naive.isoformat()}"
    )
    assert stored() == set()  # the whole batch refused: nothing half-written
    state = db.session.scalar(select(Cursor.state).where(Cursor.connection_id == conn.id))
    assert "bookmark" not in (state or {})  # the next run reads those orders again
    conn = db.session.get(Connection, conn.id, populate_existing=True)
    assert conn.status == "active" and conn.active_run_id is None

    rows[7]["ordered_at"] = naive.isoformat() + "+00:00"  # the connector fixed
    write_orders(data, rows)
    again = sync(conn)
    assert again.status == "succeeded", again.error_message
    assert stored() == {r["id"] for r in rows}


@pytest.fixture
def app_config(app_config: dict) -> dict:
    flawed = "tests.support.flawed_import:FloatTmallConnector"
    tmall = "connectors.tmall.connector:TmallConnector"
    return {**app_config, "CONNECTORS": [flawed if c == tmall else c for c in IMPORT_CONNECTORS]}


def test_a_float_amount_fails_the_import_naming_the_order_and_field(workspace, tmp_path):
    uploads = files(tmp_path, [order("A1"), order("A2")], [product("A1"), product("A2")])
    message = (
        "order 'A1' from 'tmall' (record 0 of the batch): amount_paid money must not be a "
        "float (99.0): use Decimal"
    )
    queued = imports.start(workspace.id, "tmall-orders", uploads)  # as the web and API do
    assert import_jobs.execute(queued.id) == "failed"  # the job's body, as the worker runs it
    run = db.session.get(ImportRun, queued.id, populate_existing=True)
    assert (run.status, run.error, run.created) == ("failed", message, 0)
    with pytest.raises(InvalidRecord, match=re.escape(message)):  # inline (the CLI): raised
        imports.start(workspace.id, "tmall-orders", uploads, enqueue=False)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
