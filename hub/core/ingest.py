"""The one batch-apply entry. Every source (pulled, pushed or uploaded) ends here; nothing else
writes customers, orders or events.

``apply`` takes a batch of canonical records and, in one transaction: resolves buyers to
customers, upserts customers, products, orders, lines and refunds, derives purchase / return /
cancel events from each order's state change (Y7), applies the event settings (Y10), and
commits the source's cursor with the rows it covers. It is set-based: a batch costs a
handful of statements whatever its size. A record that cannot be taken is reported in
``IngestResult.failures`` and nothing of it is written.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from hub.core import writers
from hub.core.checkpoint import checkpoint_soon
from hub.core.checks import check_records
from hub.core.events import StoredOrder, never_taken, plan_order
from hub.core.identity import (
    Prefetch,
    Resolution,
    ResolutionFailed,
    Resolver,
    clean_identities,
)
from hub.core.records import (
    CustomerRecord,
    DeletionRecord,
    OrderRecord,
    ProductRecord,
    Record,
)
from hub.core.upsert import SnapshotReader, chunks, fetch_by, snapshot_reader, write_behind
from hub.models import Customer, Order, OrderRefund

# Orders planned and handed to the writer at a time (see ``_Batch._take_orders``).
ORDERS_PER_CHUNK = 1024


@dataclass(slots=True)
class CursorUpdate:
    """Stream state committed in the same transaction as the rows it covers."""

    connection_id: int
    stream: str
    state: dict[str, Any]


@dataclass(slots=True)
class IngestOptions:
    identity_conflict: str = "drop"  # drop the conflicting identity and report | fail the record
    original_source_policy: str = "new_only"  # new_only | all
    group_id: int | None = None  # add every customer touched to this static group
    tags: list[str] = field(default_factory=list)  # add these tags to every customer touched
    dry_run: bool = False  # compute the full report, write nothing
    create_customers: bool = True


@dataclass
class Failure:
    index: int  # position of the record in the batch
    key: str  # its external id (or identity) for the report
    reason: str  # names the field and the rule


@dataclass
class IngestResult:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)

    def add(self, entity: str, outcome: str, n: int = 1) -> None:
        if n:
            bucket = self.counts.setdefault(entity, {})
            bucket[outcome] = bucket.get(outcome, 0) + n

    def merge(self, other: IngestResult) -> None:
        for entity, outcomes in other.counts.items():
            for outcome, n in outcomes.items():
                self.add(entity, outcome, n)
        self.failures.extend(other.failures)
        self.conflicts.extend(other.conflicts)
        self.skipped.extend(other.skipped)


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
    report is computed the same way and the transaction is rolled back."""
    check_records(records)  # raises InvalidRecord naming the record and field
    options = options or IngestOptions()
    result = IngestResult()
    try:
        with _cycle_collector_paused():
            _Batch(session, workspace_id, connection_id, options, result).run(records)
        if cursor is not None and not options.dry_run:
            writers.save_cursor(session, workspace_id, cursor)
        if options.dry_run:
            session.rollback()
        elif commit:
            session.commit()
            checkpoint_soon(session)
        else:
            session.flush()
    except BaseException:
        session.rollback()
        raise
    return result


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a batch is planned and written.

    A batch allocates tens of thousands of short-lived tuples and records that survive just
    long enough to be promoted, so the collector would keep rescanning the whole heap in the
    middle of it (a sixth of the ingest's time in bench/ingest.py). The batch
    is bounded and makes no reference cycles of its own; the collector resumes afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Batch:
    def __init__(
        self,
        session: Session,
        workspace_id: int,
        connection_id: int | None,
        options: IngestOptions,
        result: IngestResult,
    ) -> None:
        self.session = session
        self.ws = workspace_id
        self.connection_id = connection_id
        self.options = options
        self.result = result
        self.reader: SnapshotReader | None = None
        self.resolver = Resolver(session, workspace_id, on_conflict=options.identity_conflict)
        self.customers = writers.CustomerWriter(session, workspace_id, options, result)
        self.cleaned: dict[int, tuple[list[tuple[str, str]], list[dict[str, Any]]]] = {}

    def run(self, records: Sequence[Record]) -> None:
        try:
            self._run(records)
        finally:
            if self.reader is not None:
                self.reader.close()

    def _run(self, records: Sequence[Record]) -> None:
        orders: dict[tuple[str, str], tuple[int, OrderRecord]] = {}
        people: list[tuple[int, CustomerRecord]] = []
        products: list[ProductRecord] = []
        deletions: list[DeletionRecord] = []
        for i, rec in enumerate(records):
            if isinstance(rec, OrderRecord):
                key = (rec.source, rec.external_id)
                old = orders.get(key)
                if old is None or rec.effective_version() >= old[1].effective_version():
                    orders[key] = (i, rec)
                if old is not None:
                    self.result.add("orders", "deduplicated")
            elif isinstance(rec, CustomerRecord):
                people.append((i, rec))
            elif isinstance(rec, ProductRecord):
                products.append(rec)
            elif isinstance(rec, DeletionRecord):
                deletions.append(rec)
            else:
                raise TypeError(f"not a canonical record: {type(rec).__name__}")
        if len(orders) > ORDERS_PER_CHUNK:
            # Before anything is written: on SQLite the buyers of the next chunk are looked up
            # on a connection of its own while the writer thread writes this one.
            self.reader = self.resolver.reader = snapshot_reader(self.session)
        if people:
            self.resolver.finish_prefetch(self._start_prefetch([r for _, r in people]))
        for i, rec in people:
            self._take_customer(i, rec)
        if orders:
            self._take_orders(list(orders.values()))
        self.customers.flush()
        if products:
            writers.upsert_products(self.session, self.ws, products, self.result)
        for deletion in deletions:
            writers.delete(self.session, self.ws, deletion, self.result)

    def _start_prefetch(self, people: list[CustomerRecord]) -> Prefetch:
        """Clean the records' identities and ask for their owners."""
        cleaned = self.cleaned
        for person in people:
            cleaned[id(person)] = clean_identities(person.identities)
        return self.resolver.start_prefetch([cleaned[id(person)][0] for person in people])

    def _resolve(self, index: int, key: str, person: CustomerRecord) -> Resolution | None:
        try:
            res = self.resolver.resolve(
                person, create=self.options.create_customers, cleaned=self.cleaned.get(id(person))
            )
        except ResolutionFailed as exc:
            self.result.failures.append(Failure(index, key, f"buyer: {exc}"))
            return None
        for conflict in res.conflicts:
            self.result.conflicts.append({**conflict, "record": key})
        return res

    def _take_customer(self, index: int, person: CustomerRecord) -> None:
        key = person.identities[0][1] if person.identities else f"row {index}"
        res = self._resolve(index, str(key), person)
        if res is not None:
            self.customers.take(res, person, overwrite=True)

    def _take_orders(self, batch: list[tuple[int, OrderRecord]]) -> None:
        """Read what the whole batch needs first, then plan and write it chunk by chunk: on
        SQLite the writes of one chunk run on a second thread while the next is planned
        (``upsert.write_behind``); the chunks are one transaction all the same."""
        parts = list(chunks(batch, ORDERS_PER_CHUNK))
        # The buyers of each chunk are looked up while the previous chunk is planned: on
        # SQLite by the snapshot reader, the first chunk's while the stored orders are read.
        buyers = [[rec.buyer for _, rec in part if rec.buyer] for part in parts]
        prefetch = self._start_prefetch(buyers[0])
        stored = self._stored_orders([rec for _, rec in batch])
        orders = writers.OrderWriter(self.session, self.ws, self.connection_id, self.result)
        taken = []  # the orders that may be written: their lines' products are made up front
        for _, rec in batch:
            prior = stored.get((rec.source, rec.external_id))
            if not never_taken(prior[1] if prior else None, rec):
                taken.append(rec)
        orders.prepare(taken, [prior[0] for prior in stored.values()])
        with write_behind(self.session, (Customer.__table__, Order.__table__)):
            for k, part in enumerate(parts):
                self.resolver.finish_prefetch(prefetch)
                if k + 1 < len(parts):
                    prefetch = self._start_prefetch(buyers[k + 1])
                orders.write(self._plan_orders(part, stored), self.customers.ids)
        orders.finish()

    def _plan_orders(
        self,
        part: Sequence[tuple[int, OrderRecord]],
        stored: dict[tuple[str, str], tuple[int, StoredOrder, int | None]],
    ) -> list[tuple[OrderRecord, Any, int | None, int | str | None]]:
        """Each order's plan, its buyer resolved; new customers are written before the plans
        are returned, so the plans' customer keys all have ids."""
        plans = []
        for index, rec in part:
            prior = stored.get((rec.source, rec.external_id))
            plan = plan_order(prior[1] if prior else None, rec)
            if plan.action == "skip":
                self.result.add("orders", "skipped")
                self.result.skipped.append(Failure(index, rec.external_id, plan.reason or ""))
                continue
            if plan.action == "unchanged":
                self.result.add("orders", "unchanged")
                continue
            customer: int | str | None = prior[2] if prior else None
            if customer is None and rec.buyer is not None:
                res = self._resolve(index, rec.external_id, rec.buyer)
                if res is None:
                    self.result.add("orders", "failed")
                    continue
                customer = self.customers.take(res, rec.buyer, overwrite=False)
            plans.append((rec, plan, prior[0] if prior else None, customer))
        self.customers.flush()
        return plans

    def _stored_orders(
        self, records: list[OrderRecord]
    ) -> dict[tuple[str, str], tuple[int, StoredOrder, int | None]]:
        table = Order.__table__
        by_source: dict[str, list[str]] = {}
        for rec in records:
            by_source.setdefault(rec.source, []).append(rec.external_id)
        rows = []
        for source, ids in by_source.items():
            rows += fetch_by(
                self.session,
                table,
                [
                    "id",
                    "source",
                    "external_id",
                    "status",
                    "version",
                    "amount_paid",
                    "refunded_amount",
                    "cancelled_amount",
                    "customer_id",
                    "content_hash",
                ],
                "external_id",
                ids,
                workspace_id=self.ws,
                source=source,
            )
        refunds: dict[int, set[str]] = {}
        for order_id, ext in fetch_by(
            self.session,
            OrderRefund.__table__,
            ["order_id", "external_id"],
            "order_id",
            [r.id for r in rows],
        ):
            refunds.setdefault(order_id, set()).add(ext)
        return {
            (r.source, r.external_id): (
                r.id,
                StoredOrder(
                    r.status,
                    r.version,
                    r.amount_paid,
                    r.refunded_amount,
                    r.cancelled_amount,
                    frozenset(refunds.get(r.id, ())),
                    r.content_hash,
                ),
                r.customer_id,
            )
            for r in rows
        }
