"""The one batch-apply entry. Every source (pulled, pushed or uploaded) ends here; nothing else
writes customers, orders or events.

``apply`` takes a batch of canonical records and, in one transaction: resolves buyers to
customers, upserts customers, products, orders, lines and refunds, derives purchase / return /
cancel events from each order's state change (Y7), applies the event settings (Y10), and
commits the source's cursor with the rows it covers. It is set-based: a batch costs a
handful of statements whatever its size. A record that cannot be taken is reported in
``IngestResult.failures`` and nothing of it is written.

Planning (``hub.core.plan``) works in memory and produces row sets; the store
(``hub.core.store``, with ``hub.core.postgres`` and the SQLite fast path ``hub.core.sqlite``)
reads what planning needs and writes the row sets; ``hub.core.batch`` runs one batch through
both.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from hub.core import sources
from hub.core.batch import ORDERS_PER_CHUNK, Batch
from hub.core.checks import check_records
from hub.core.records import Record
from hub.core.results import CursorUpdate, Failure, IngestOptions, IngestResult
from hub.core.scope import cycle_collector_paused
from hub.core.sqlite.checkpoint import checkpoint_after_commit
from hub.core.store.cursors import save_cursor

__all__ = [
    "ORDERS_PER_CHUNK",
    "CursorUpdate",
    "Failure",
    "IngestOptions",
    "IngestResult",
    "apply",
]


def apply(
    session: Session,
    workspace_id: int,
    records: Sequence[Record],
    *,
    connection_id: int | None = None,
    cursor: CursorUpdate | None = None,
    options: IngestOptions | None = None,
    commit: bool = True,
) -> IngestResult:
    """Apply a batch in one transaction (see the module docstring). With ``dry_run`` the
    report is computed the same way and the transaction is rolled back. With ``commit=False``
    the caller commits; the store's work after a commit (SQLite: a background WAL
    checkpoint) happens at that commit all the same."""
    check_records(records)  # raises InvalidRecord naming the record and field
    sources.canonical_records(records)  # every writer stores the source's key (22.5)
    options = options or IngestOptions()
    result = IngestResult()
    try:
        with cycle_collector_paused():
            Batch(session, workspace_id, connection_id, options, result).run(records)
        if cursor is not None and not options.dry_run:
            save_cursor(session, workspace_id, cursor)
        if options.dry_run:
            session.rollback()
            return result
        checkpoint_after_commit(session)
        if commit:
            session.commit()
        else:
            session.flush()
    except BaseException:
        session.rollback()
        raise
    return result
