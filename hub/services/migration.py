"""Migrating a store into the hub (W2-W3): the rules kept in ``Connection.settings["migration"]``,
the migration run (a SyncRun with trigger "migration" over everything, ``full=True``), its
counts and the freight templates copied once, after the first successful migration.

Platform-neutral: any connector with capability "migrate" can be migrated. The connector reads
the rules from its ``config["migration"]`` (absent: the defaults below)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update

from hub import registry
from hub.connectors import MIGRATION_DEFAULTS, migration_rules
from hub.core.errors import N_, Conflict, MigrationRunning, Refused
from hub.core.results import IngestResult
from hub.extensions import db
from hub.models import Connection, SyncRun, utcnow
from hub.services import connections

log = logging.getLogger(__name__)

TRIGGER = "migration"
PRODUCT_STATUSES = ("same", "warehouse", "on_sale")
FREIGHT_MODES = ("flat", "template")


def can_migrate(conn: Connection) -> bool:
    """Whether the store's connector has capability "migrate"."""
    try:
        return "migrate" in registry.get(conn.platform).capabilities
    except registry.UnknownPlatform:
        return False


def effective_rules(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The rules in force: the stored ones over the defaults."""
    return migration_rules(settings)


def migration_run(conn: Connection) -> SyncRun | None:
    """The store's running migration, if any."""
    return db.session.scalar(
        select(SyncRun)
        .where(SyncRun.connection_id == conn.id, SyncRun.status.in_(SyncRun.ACTIVE))
        .where(SyncRun.trigger == TRIGGER)
        .order_by(SyncRun.id.desc())
        .limit(1)
    )


def refuse_while_migrating(conn: Connection, doing: str) -> None:
    """MigrationRunning (409 "migration_running") while a migration of the store runs."""
    run = migration_run(conn)
    if run is not None:
        raise MigrationRunning(
            f"store #{conn.id} is being migrated (sync run #{run.id}); "
            f"wait for the migration to finish before {doing}"
        )


def update_rules(workspace_id: int, connection_id: int, data: Any) -> Connection:
    """Validate and store the migration rules (W2); refused while a migration runs."""
    conn = connections.get(workspace_id, connection_id)
    if not can_migrate(conn):
        raise Refused(
            N_("Migration rules: this store's platform cannot be migrated."), field="migration"
        )
    if not conn.is_bound:
        raise Conflict(f"store #{conn.id} is unbound: bind it again before changing its rules")
    refuse_while_migrating(conn, "changing its migration rules")
    templates = (conn.settings or {}).get("freight_templates")
    if templates is None and _names_template(data):
        templates = _shop_templates(conn)
    rules = validate_rules(data, templates=templates, current=effective_rules(conn.settings))
    conn.settings = {**(conn.settings or {}), "migration": rules}
    db.session.commit()
    return conn


def _names_template(data: Any) -> bool:
    freight = data.get("freight") if isinstance(data, dict) else None
    return isinstance(freight, dict) and freight.get("mode") == "template"


def _shop_templates(conn: Connection) -> list[dict[str, Any]] | None:
    """The shop's freight templates read now (before the first migration copied them), to
    check a template rule; None when the shop cannot tell (any template id is then taken)."""
    from hub.sync import runtime

    try:
        return list(runtime.connector_for(conn, interactive=True).freight_templates())
    except Exception as exc:  # a best-effort check: the shop's answer never blocks the rules
        log.info("store %s: freight templates not read (%s)", conn.id, exc)
        return None


def validate_rules(
    data: Any,
    templates: list[dict[str, Any]] | None = None,
    current: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The rules from a request over the ``current`` ones (else the defaults): a rule not
    sent stays as it was. Each field checked, its error naming it."""
    if not isinstance(data, dict):
        raise Refused(
            N_("Migration rules: send an object with product_status, freight, group and "
               "skip_migrated."), field="migration",
        )  # fmt: skip
    unknown = sorted(set(data) - set(MIGRATION_DEFAULTS))
    if unknown:
        name = unknown[0]
        raise Refused(N_("Migration rules: %(name)s is not a rule."), field=f"migration.{name}",
                      name=name)  # fmt: skip
    rules = {**(current or MIGRATION_DEFAULTS), **data}
    if rules["product_status"] not in PRODUCT_STATUSES:
        raise Refused(
            N_("Product status on arrival: choose same, warehouse or on_sale."),
            field="migration.product_status",
        )
    rules["freight"] = _freight(rules["freight"], templates)
    rules["group"] = _group(rules["group"])
    if not isinstance(rules["skip_migrated"], bool):
        raise Refused(
            N_("Skip products already migrated: send true or false."),
            field="migration.skip_migrated",
        )
    return rules


def _freight(value: Any, templates: list[dict[str, Any]] | None) -> dict[str, str] | None:
    if value is None:
        return None
    mode = value.get("mode") if isinstance(value, dict) else None
    if mode not in FREIGHT_MODES:
        raise Refused(
            N_("Freight: send null (keep the shop's), {\"mode\": \"flat\", \"amount\": \"8.00\"} "
               "or {\"mode\": \"template\", \"template_id\": \"…\"}."),
            field="migration.freight.mode",
        )  # fmt: skip
    if mode == "flat":
        return {"mode": "flat", "amount": _amount(value.get("amount"))}
    template = value.get("template_id")
    if (
        not isinstance(template, str | int)
        or isinstance(template, bool)
        or not str(template).strip()
    ):
        raise Refused(N_("Freight template: enter the shop's freight template id."),
                      field="migration.freight.template_id")  # fmt: skip
    template = str(template).strip()
    known = {str(t.get("template_id")) for t in templates or [] if isinstance(t, dict)}
    if known and template not in known:
        raise Refused(
            N_("Freight template: the shop has no freight template %(id)s."),
            field="migration.freight.template_id", id=template,
        )  # fmt: skip
    return {"mode": "template", "template_id": template}


def _amount(value: Any) -> str:
    bad = Refused(
        N_("Flat freight: enter an amount of 0 or more with at most 2 decimals, such as 8.00."),
        field="migration.freight.amount",
    )
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise bad
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise bad from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise bad
    return str(amount.quantize(Decimal("0.01")))


def _group(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
        raise Refused(
            N_("Product group: enter a name of 1 to 100 characters, or null for no group."),
            field="migration.group",
        )
    return value.strip()


# --------------------------------------------------------------------------- the run
def request_migration(workspace_id: int, connection_id: int) -> SyncRun:
    """Start a migration (W3): refused if the store cannot migrate or a run is active."""
    from hub.sync import service

    conn = connections.get(workspace_id, connection_id)
    if not can_migrate(conn):
        raise Refused(N_("Migration: this store's platform cannot be migrated."),
                      field="migration")  # fmt: skip
    if not conn.is_bound:
        raise Conflict(f"store {conn.name!r} is unbound; bind it again to migrate it")
    active = connections.active_run(conn)
    if active is not None and is_migration(active) and service.is_stale(active):
        service.resume(active)  # its worker died (X2): it goes on from its last page
        return active
    refuse_while_migrating(conn, "starting another one")
    if active is not None:
        raise Conflict(
            f"store #{conn.id} has a sync in progress (sync run #{active.id}); "
            "wait for it to finish before migrating"
        )
    run = service.start_run(conn, full=True, trigger=TRIGGER)
    if run is None:
        raise Conflict(f"store #{conn.id} has a sync in progress; try again when it finishes")
    return run


def is_migration(run: SyncRun) -> bool:
    return run.trigger == TRIGGER


# The streams whose records a migration counts (the products stream's products, not those an
# order stream meets; the orders stream's orders) and the outcomes that count as migrated:
# an order never taken (first seen cancelled, Y7) or a record that failed is not.
COUNTED = ("products", "orders")
TAKEN = ("created", "updated", "unchanged", "kept")


def tally(result: IngestResult, stream: str) -> None:
    """Add a page's migrated products or orders to its counts (``migration``), committed
    with the page: a resumed migration counts nothing twice."""
    if stream in COUNTED:
        outcomes = result.counts.get(stream) or {}
        result.add("migration", stream, sum(outcomes.get(o, 0) for o in TAKEN))


def finish(run: SyncRun, conn: Connection, connector: Any) -> None:
    """At a migration's success, in its final transaction: its counts, and the shop's freight
    templates copied into the hub if no migration copied them before (never again after)."""
    counts = dict(run.counts or {})
    counts["migration"] = {**dict.fromkeys(COUNTED, 0), **(counts.get("migration") or {})}
    db.session.execute(update(SyncRun).where(SyncRun.id == run.id).values(counts=counts))
    settings = dict(conn.settings or {})
    if "freight_templates_copied_at" in settings or connector is None:
        return
    templates = connector.freight_templates()
    settings["freight_templates"] = [dict(t) for t in templates]
    settings["freight_templates_copied_at"] = utcnow().isoformat()
    conn.settings = settings
    log.info("store %s: %d freight templates copied", conn.id, len(templates))
