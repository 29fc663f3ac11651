"""One batch through the core: records sorted by kind, buyers resolved, orders planned chunk by
chunk and their row sets handed to the store. On SQLite the fast path joins in: the buyers of
the next chunk are read by the snapshot reader while the write-behind thread writes this one;
on PostgreSQL the same reads and the draws of new ids go over a side connection
(``hub.core.postgres.side``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from hub.core.plan.contacts import contact_identities
from hub.core.plan.customers import CustomerPlan
from hub.core.plan.identity import (
    Prefetch,
    Resolution,
    ResolutionFailed,
    Resolver,
    clean_identities,
)
from hub.core.plan.orders import StoredOrder, never_taken, plan_order
from hub.core.plan.tombstones import Tombstones
from hub.core.postgres.side import SideReader, side_reader, using_side
from hub.core.records import (
    CheckoutRecord,
    CustomerRecord,
    DeletionRecord,
    OrderRecord,
    PrivacyRecord,
    ProductRecord,
    Record,
)
from hub.core.results import Failure, IngestOptions, IngestResult
from hub.core.sqlite.snapshot import SnapshotReader, snapshot_lookups, snapshot_reader
from hub.core.store import sales, tombstones
from hub.core.store.customers import write_customers
from hub.core.store.deals import write_checkouts
from hub.core.store.lookups import session_lookups
from hub.core.store.orders import OrderWriter, stored_orders
from hub.core.store.privacy import apply_privacy
from hub.core.store.products import delete_all, upsert_products
from hub.core.store.settings import apply_event_settings
from hub.core.store.sql import chunks, write_behind
from hub.models import Customer, Order

# Orders planned and handed to the writer at a time (see ``Batch._take_orders``).
ORDERS_PER_CHUNK = 1024


class Batch:
    """A batch applied in the session's transaction; ``run`` plans and writes it."""

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
        self.reader: SnapshotReader | SideReader | None = None
        self.undo_side: Callable[[], None] = lambda: None
        lookups = session_lookups(session, workspace_id)
        self.resolver = Resolver(workspace_id, lookups, on_conflict=options.identity_conflict)
        self.customers = CustomerPlan(workspace_id, options, result)
        self.cleaned: dict[int, tuple[list[tuple[str, str]], list[dict[str, Any]]]] = {}
        self.contacts: dict[int, list[tuple[str, str]]] = {}
        self.contact_of: dict[str, list[tuple[str, str]]] = {}
        # H3: None when the workspace deleted no customer (then nothing is hashed).
        buried = tombstones.load(session, workspace_id)
        self.tombstones: Tombstones | None = buried if buried else None

    def run(self, records: Sequence[Record]) -> None:
        try:
            self._run(records)
        finally:
            self.undo_side()
            if self.reader is not None:
                self.reader.close()

    def _run(self, records: Sequence[Record]) -> None:
        orders: dict[tuple[str, str], tuple[int, OrderRecord]] = {}
        people: list[tuple[int, CustomerRecord]] = []
        products: list[ProductRecord] = []
        deletions: list[DeletionRecord] = []
        privacy: list[PrivacyRecord] = []
        checkouts: dict[tuple[str, str], tuple[int, CheckoutRecord]] = {}
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
            elif isinstance(rec, CheckoutRecord):
                key = (rec.source, rec.external_id)
                had = checkouts.get(key)
                if had is None or _checkout_at(rec) >= _checkout_at(had[1]):
                    checkouts[key] = (i, rec)
            elif isinstance(rec, PrivacyRecord):
                privacy.append(rec)
            else:
                raise TypeError(f"not a canonical record: {type(rec).__name__}")
        if len(orders) > ORDERS_PER_CHUNK:
            # Before anything is written: on SQLite the buyers of the next chunk are looked up
            # on a connection of its own while the writer thread writes this one.
            self.reader = snapshot_reader(self.session)
            if self.reader is not None:
                self.resolver.lookups = snapshot_lookups(self.reader, self.ws)
            # PostgreSQL: lookups and id draws on a side connection, so planning never waits
            # for the write-behind thread that holds the session's connection.
            elif (side := side_reader(self.session)) is not None:
                self.reader = side
                self.resolver.lookups = side.lookups(self.ws)
                self.undo_side = using_side(side)
        if people:
            self.resolver.finish_prefetch(self._start_prefetch([r for _, r in people]))
        for i, rec in people:
            self._take_customer(i, rec)
        # checkout buyers are taken before the orders, as the batch's own customers are
        buyers = self._take_checkout_buyers(list(checkouts.values())) if checkouts else []
        if products:  # before the orders: a product their lines name is then found (W7)
            upsert_products(self.session, self.ws, products, self.result)
        taken = [r for _, r in orders.values()]
        with sales.counting(self.session, self.ws, self.options, products, taken):  # W5, at once
            if orders:
                self._take_orders(list(orders.values()))
        write_customers(self.session, self.customers, self.result)
        if checkouts:
            self._write_checkouts(buyers)
        if deletions:
            delete_all(self.session, self.ws, deletions, self.result)
        for request in privacy:  # after the batch's own writes: they are erased too
            apply_privacy(self.session, self.ws, self.connection_id, request, self.result)

    def _take_checkout_buyers(
        self, checkouts: list[tuple[int, CheckoutRecord]]
    ) -> list[tuple[CheckoutRecord, int | str | None]]:
        """Each checkout with its buyer's customer key (H6: the buyer becomes a contact, by
        the same path as an order's buyer), None without a buyer or when it fails."""
        people = [rec.buyer for _, rec in checkouts if rec.buyer is not None]
        if people:
            self.resolver.finish_prefetch(self._start_prefetch(people))
        taken: list[tuple[CheckoutRecord, int | str | None]] = []
        for index, rec in checkouts:
            key: int | str | None = None
            if rec.buyer is not None and not (
                self.tombstones is not None and self._buried(rec.buyer)
            ):
                res = self._resolve(index, rec.external_id, rec.buyer)
                if res is not None:
                    key = self.customers.take(res, rec.buyer, overwrite=False)
            taken.append((rec, key))
        return taken

    def _write_checkouts(self, taken: list[tuple[CheckoutRecord, int | str | None]]) -> None:
        """The checkouts' deals and abandoned events, their buyers' ids known by now."""
        ids = self.customers.ids
        resolved = [(rec, None if key is None else ids.get(key, key)) for rec, key in taken]
        head = (self.ws, self.connection_id)
        recorded = write_checkouts(self.session, head, resolved, self.result)  # type: ignore[arg-type]
        if recorded:
            apply_event_settings(self.session, self.ws, recorded)

    def _start_prefetch(self, people: list[CustomerRecord]) -> Prefetch:
        """Clean the records' identities and ask for their owners."""
        cleaned, contacts = self.cleaned, self.contacts
        wanted = []
        for person in people:
            key = id(person)
            cleaned[key] = clean_identities(person.identities)
            if person.mobile:  # a repeat buyer's phone is normalised once per batch
                known = self.contact_of.get(person.mobile)
                if known is None:
                    known = self.contact_of[person.mobile] = contact_identities(person, ())
                contacts[key] = [p for p in known if p not in cleaned[key][0]]
                wanted.append(cleaned[key][0] + contacts[key])
            else:
                wanted.append(cleaned[key][0])
        return self.resolver.start_prefetch(wanted)

    def _resolve(self, index: int, key: str, person: CustomerRecord) -> Resolution | None:
        try:
            res = self.resolver.resolve(
                person,
                create=self.options.create_customers,
                cleaned=self.cleaned.get(id(person)),
                contacts=self.contacts.get(id(person), ()),
            )
        except ResolutionFailed as exc:
            self.result.failures.append(Failure(index, key, f"buyer: {exc}"))
            return None
        for conflict in res.conflicts:
            self.result.conflicts.append({**conflict, "record": key})
        for suggestion in res.suggestions:
            self.result.suggestions.append({**suggestion, "record": key})
        return res

    def _buried(self, person: CustomerRecord) -> bool:
        """H3: the record is a customer the merchant deleted (one of its identities is a
        tombstone's), so it is taken without a contact; a deleted customer's contact mobile
        is never attached to another buyer."""
        assert self.tombstones is not None
        cleaned = self.cleaned.get(id(person))
        if cleaned is None:
            cleaned = self.cleaned[id(person)] = clean_identities(person.identities)
        if self.tombstones.buried(cleaned[0]):
            self.result.add("customers", "deleted_in_hub")
            return True
        contacts = self.contacts.get(id(person))
        if contacts:
            living = self.contacts[id(person)] = self.tombstones.living(contacts)
            if not cleaned[0] and not living:
                self.result.add("customers", "deleted_in_hub")
                return True
        return False

    def _take_customer(self, index: int, person: CustomerRecord) -> None:
        if self.tombstones is not None and self._buried(person):
            return
        key = person.identities[0][1] if person.identities else f"row {index}"
        res = self._resolve(index, str(key), person)
        if res is not None:
            self.customers.take(res, person, overwrite=True)

    def _take_orders(self, batch: list[tuple[int, OrderRecord]]) -> None:
        """Read what the whole batch needs first, then plan and write it chunk by chunk: the
        writes of one chunk run on a second thread while the next is planned
        (``hub.core.store.sql.write_behind``); the chunks are one transaction all the same."""
        parts = list(chunks(batch, ORDERS_PER_CHUNK))
        # The buyers of each chunk are looked up while the previous chunk is planned: on
        # SQLite by the snapshot reader, the first chunk's while the stored orders are read.
        buyers = [[rec.buyer for _, rec in part if rec.buyer] for part in parts]
        prefetch = self._start_prefetch(buyers[0])
        stored = stored_orders(self.session, self.ws, [rec for _, rec in batch])
        orders = OrderWriter(self.session, self.ws, self.connection_id, self.result)
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
        orders.finish({cid for key, cid in self.customers.ids.items() if type(key) is str})

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
            if (
                customer is None
                and rec.buyer is not None
                and (self.tombstones is None or not self._buried(rec.buyer))
            ):
                res = self._resolve(index, rec.external_id, rec.buyer)
                if res is None:
                    self.result.add("orders", "failed")
                    continue
                customer = self.customers.take(res, rec.buyer, overwrite=False)
            plans.append((rec, plan, prior[0] if prior else None, customer))
        write_customers(self.session, self.customers, self.result)
        return plans


def _checkout_at(rec: CheckoutRecord) -> Any:
    return rec.updated_at or rec.created_at
