"""SQLite's write-behind thread (hub.core.sqlite.behind.write_behind): what it is handed is written,
in order, inside the caller's transaction; reads wait for it; the ids it gives are the rows'
ids; no other connection can write meanwhile; a failure fails the block and leaves nothing.

The thread exists only on SQLite, so these tests use a SQLite database of their own in both
runs of the suite; on PostgreSQL the ingest tests cover the same batches without it."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.core.sqlite.behind import write_behind
from hub.core.sqlite.sql import raw_cursor
from hub.core.store.sql import insert_returning_ids, insert_rows
from hub.models import Customer, Event, Tag, utcnow


def tags(session: Session) -> list[tuple[int, str]]:
    return list(session.execute(select(Tag.id, Tag.name).order_by(Tag.id)))


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hub-write-behind"]


@pytest.mark.parametrize("n", [1, 3, 127, 128, 200, 1023, 1024, 1025, 2500])
def test_rows_of_every_count_arrive_whole_and_in_order(sqlite_file_session, n):
    """Counts split into full statements, powers of two and a remainder below 128 rows in one
    statement; constant columns (the workspace, the timestamp, an empty email) are bound once
    per statement, the rest per row."""
    session, ws, _ = sqlite_file_session
    now = utcnow()
    rows = [
        (ws, f"buyer {i}", f"139{i:08d}" if i % 3 else None, None, 0, {}, now, now)
        for i in range(n)
    ]
    rows[-1] = (ws, "last", "139", "last@example.com", 7, {"vip": True}, now, now)  # differs
    columns = ("workspace_id", "name", "mobile", "email", "activity_score", "properties",
               "created_at", "updated_at")  # fmt: skip
    with write_behind(session, (Customer.__table__,)):
        ids = insert_returning_ids(session, Customer.__table__, columns, rows)
    session.commit()
    stored = session.execute(
        select(Customer.id, Customer.name, Customer.mobile, Customer.email,
               Customer.activity_score, Customer.properties, Customer.created_at)
        .order_by(Customer.id)
    ).all()  # fmt: skip
    assert [r.id for r in stored] == ids == list(range(ids[0], ids[0] + n))
    assert [(r.name, r.mobile, r.email, r.activity_score, r.properties) for r in stored] == [
        row[1:6] for row in rows
    ]
    assert {r.created_at for r in stored} == {now}


def test_a_read_inside_the_block_sees_what_was_handed_over(sqlite_file_session):
    session, ws, _ = sqlite_file_session
    with write_behind(session, (Tag.__table__,)):
        insert_rows(session, Tag.__table__, ("workspace_id", "name"),
                    [(ws, f"t{i}") for i in range(3000)])  # fmt: skip
        assert session.scalar(select(func.count()).select_from(Tag)) == 3000  # SQLAlchemy
        cursor = raw_cursor(session)
        assert cursor.execute("SELECT count(*) FROM tags").fetchone() == (3000,)  # driver
        cursor.close()
        insert_rows(session, Tag.__table__, ("workspace_id", "name"), [(ws, "t3000")])
    assert len(tags(session)) == 3001
    assert writer_threads() == []


def test_no_other_connection_can_write_while_the_block_assigns_ids(sqlite_file_session):
    """The ids are max(id) + 1 onwards: that holds only because the block owns the write lock
    from its start, before it reads max(id)."""
    session, ws, path = sqlite_file_session
    other = sqlite3.connect(path, timeout=0)
    with write_behind(session, (Tag.__table__,)):
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("INSERT INTO tags (workspace_id, name) VALUES (?, 'intruder')", (ws,))
        ids = insert_returning_ids(session, Tag.__table__, ("workspace_id", "name"), [(ws, "a")])
    session.commit()
    other.execute("INSERT INTO tags (workspace_id, name) VALUES (?, 'after')", (ws,))
    other.commit()
    other.close()
    assert tags(session) == [(ids[0], "a"), (ids[0] + 1, "after")]


def test_a_failed_statement_fails_the_block_and_the_rollback_leaves_nothing(sqlite_file_session):
    session, ws, _ = sqlite_file_session
    columns = ("workspace_id", "name")
    behind = write_behind(session, (Tag.__table__,))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"), behind:
        insert_rows(session, Tag.__table__, columns, [(ws, "first"), (ws, "second")])
        insert_rows(session, Tag.__table__, columns, [(ws, "dup"), (ws, "dup")])
        insert_rows(session, Tag.__table__, columns, [(ws, "never")])
    session.rollback()
    assert tags(session) == []
    assert writer_threads() == []
    insert_rows(session, Tag.__table__, columns, [(ws, "again")])  # the session still works
    session.commit()
    assert [name for _, name in tags(session)] == ["again"]


def test_an_error_while_planning_drops_the_queued_writes(sqlite_file_session):
    session, ws, _ = sqlite_file_session
    behind = write_behind(session, (Tag.__table__,))
    with pytest.raises(RuntimeError, match="planning failed"), behind:
        insert_rows(session, Tag.__table__, ("workspace_id", "name"),
                    [(ws, f"t{i}") for i in range(5000)])  # fmt: skip
        raise RuntimeError("planning failed")
    session.rollback()
    assert tags(session) == []
    assert writer_threads() == []


@pytest.mark.parametrize("behind", [True, False], ids=["write-behind", "executemany"])
def test_money_and_times_in_bulk_are_stored_as_the_column_types_store_them(
    sqlite_file_session, behind
):
    """Money converted column by column is stored as integer cents (sums and comparisons in
    SQL depend on it), rounded half up; times converted in bulk read back as the same
    instants, on both paths of ``insert_rows``."""
    session, ws, _ = sqlite_file_session
    amounts = [Decimal("1.05"), Decimal("-0.05"), Decimal("0.00"), Decimal("9999999999999999.99")]
    amounts += [Decimal("1.005"), Decimal("7")]
    at = datetime(2026, 5, 1, 12, 30, 15, 250, tzinfo=timezone(timedelta(hours=8)))
    rows = [
        (ws, "purchase", at + timedelta(hours=i), amount, f"k{i}", {}, at)
        for i, amount in enumerate(amounts)
    ]
    columns = ("workspace_id", "type", "occurred_at", "amount", "dedupe_key", "properties",
               "created_at")  # fmt: skip
    with write_behind(session) if behind else contextlib.nullcontext():
        insert_rows(session, Event.__table__, columns, rows[:4])  # Decimals only
        insert_rows(session, Event.__table__, columns, rows[4:])
    session.commit()
    cursor = raw_cursor(session)
    stored = cursor.execute("SELECT amount, typeof(amount) FROM events ORDER BY id").fetchall()
    cursor.close()
    assert stored == [
        (105, "integer"), (-5, "integer"), (0, "integer"), (999999999999999999, "integer"),
        (101, "integer"), (700, "integer"),
    ]  # fmt: skip
    events = session.scalars(select(Event).order_by(Event.id)).all()
    assert [e.amount for e in events] == [Decimal("1.05"), Decimal("-0.05"), Decimal("0.00"),
                                          Decimal("9999999999999999.99"), Decimal("1.01"),
                                          Decimal("7.00")]  # fmt: skip
    assert [e.occurred_at for e in events] == [at + timedelta(hours=i) for i in range(6)]
