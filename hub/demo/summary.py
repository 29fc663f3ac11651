"""What `hub demo --once` reports: stores, their runs, row counts and failed rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from hub.extensions import db
from hub.models import Connection, Customer, Event, Order, SyncRun


def count_failed(counts: Any) -> int:
    """Sum every number filed under a key naming a failure, at any depth of a counts dict."""
    if not isinstance(counts, dict):
        return 0
    total = 0
    for key, value in counts.items():
        if isinstance(value, dict):
            total += count_failed(value)
        elif isinstance(value, int | float) and "fail" in str(key).lower():
            total += int(value)
    return total


def _rows(model: Any, workspace_id: int) -> int:
    stmt = select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
    return int(db.session.scalar(stmt) or 0)


def store_line(conn: Connection, run: SyncRun | None) -> dict[str, Any]:
    return {
        "connection_id": conn.id,
        "platform": conn.platform,
        "name": conn.name,
        "run_id": run.id if run else None,
        "status": run.status if run else "not synced",
        "counts": (run.counts or {}) if run else {},
        "error": f"{run.error_class}: {run.error_message}" if run and run.error_class else None,
    }


def summarise(
    workspace_id: int, stores: Iterable[tuple[Connection, SyncRun | None]], steps: list[dict]
) -> dict[str, Any]:
    lines = [store_line(conn, run) for conn, run in stores]
    failed_rows = sum(count_failed(s["counts"]) for s in lines)
    failed_rows += sum(int(step.get("failed_rows", 0)) for step in steps)
    return {
        "stores": lines,
        "steps": steps,
        "orders": _rows(Order, workspace_id),
        "customers": _rows(Customer, workspace_id),
        "events": _rows(Event, workspace_id),
        "failed_rows": failed_rows,
        "failed_syncs": sum(1 for s in lines if s["status"] == "failed"),
    }


def import_lines(imports: dict[str, Any]) -> list[str]:
    """One line per imported kind: its counts, and why it failed if it did."""
    out = []
    for kind, entry in imports.items():
        counts = ", ".join(f"{entry.get(n, 0)} {n}" for n in ("created", "updated", "failed"))
        line = f"    import {kind}: {counts}"
        out.append(line + (f" ({entry['error']})" if entry.get("error") else ""))
    return out


def as_text(summary: dict[str, Any]) -> str:
    out = [f"Stores bound: {len(summary['stores'])}"]
    for s in summary["stores"]:
        line = f"  #{s['connection_id']} {s['platform']} {s['name']}: {s['status']}"
        if migrated := s["counts"].get("migration"):
            line += f" (migration: {migrated['products']} products, {migrated['orders']} orders)"
        out.append(line + (f" ({s['error']})" if s["error"] else ""))
    for step in summary["steps"]:
        out.append(f"  {step.get('name', 'step')}: {step.get('status', 'done')}")
        out.extend(import_lines(step.get("imports") or {}))
    out.append(
        f"Orders: {summary['orders']}  Customers: {summary['customers']}  "
        f"Events: {summary['events']}  Failed rows: {summary['failed_rows']}"
    )
    return "\n".join(out)
