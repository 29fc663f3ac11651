"""``hub ship``: ship orders back to their shop (W8) from the command line, no worker needed.

- ``hub ship ORDER --carrier SF --waybill W [--workspace SLUG] [--json]``: ORDER is the hub's
  order id, or an order number that one order of the workspace has (then --workspace is
  needed).
- ``hub ship --file shipments.csv --workspace SLUG [--json]``: a CSV with a header and the
  columns order no, carrier, waybill; each row shipped on its own (a bad row is named by its
  line and fails alone); exit code 1 if any row failed.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import click

from hub.cli_support import CommandFailed, dumps, emit, hub_command, json_mode
from hub.core.errors import ShipmentRefused

HEADERS = {
    "order": ("order no", "order_no", "order", "order number", "订单号", "订单编号"),
    "carrier": ("carrier", "快递公司", "物流公司"),
    "waybill": ("waybill", "waybill no", "tracking number", "运单号", "快递单号"),
}
MAX_ROWS = 5000


@click.command("ship")
@click.argument("order", required=False)
@click.option("--carrier", default=None, help="The carrier: its code on the platform (e.g. SF).")
@click.option("--waybill", default=None, help="The waybill (tracking) number.")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A CSV of orders: order no, carrier, waybill (with a header).")  # fmt: skip
@click.option("--workspace", "slug", default=None, help="Workspace slug.")
@hub_command()
def ship(
    order: str | None, carrier: str | None, waybill: str | None, path: Path | None, slug: str | None
) -> None:
    """Ship an order (or every order of a CSV file) back to its shop, with a carrier and a
    waybill. Only the items not shipped yet are sent."""
    if path is not None:
        if order or carrier or waybill:
            raise CommandFailed("give either ORDER with --carrier/--waybill, or --file", "usage")
        _ship_file(path, slug)
        return
    if not order:
        raise CommandFailed("give the ORDER to ship (or --file shipments.csv)", "usage")
    _ship_one(order, carrier, waybill, slug)


def _workspace_id(slug: str | None, order: str | None) -> int:
    from hub.cli import _workspace
    from hub.models import Order

    if slug:
        return _workspace(slug).id
    from hub.extensions import db
    from hub.services.parsing import as_id

    oid = as_id(order) if order else None
    found = db.session.get(Order, oid) if oid else None
    if found is None:
        raise CommandFailed(
            f"order {order}: no such order id; give --workspace to find it by its number",
            "not_found",
        )
    return found.workspace_id


def _ship_one(ref: str, carrier: str | None, waybill: str | None, slug: str | None) -> None:
    from hub.services import shipping

    try:
        carrier, waybill = shipping.check_input(carrier, waybill)
        ws = _workspace_id(slug, ref)
        order = shipping.find_order(ws, ref)
        shipment = shipping.ship(ws, order.id, carrier, waybill, order=order, interactive=False)
    except ShipmentRefused as exc:
        raise CommandFailed(str(exc), exc.code, _field(exc)) from None
    lines, skipped = len(shipment["lines"]), len(shipment["skipped_lines"])
    also = f", {skipped} already shipped" if skipped else ""
    emit(shipment, f"Order {shipment['order_no']} shipped: {lines} item(s){also}, "
                   f"waybill {waybill}.")  # fmt: skip


def _field(exc: ShipmentRefused) -> dict[str, Any]:
    return {"field": exc.field} if exc.field else {}


def _ship_file(path: Path, slug: str | None) -> None:
    from hub.services import shipping

    if not slug:
        raise CommandFailed("--file needs --workspace: the workspace of the orders", "usage")
    ws = _workspace_id(slug, None)
    rows, bad = read_rows(path)
    results = bad + [
        {"line": line, **r}
        for line, r in zip(
            [line for line, *_ in rows],
            shipping.ship_many(
                ws, [tuple(r) for _, *r in rows], interactive=False, by_number=True
            ),  # fmt: skip
            strict=True,
        )
    ]
    results.sort(key=lambda r: r["line"])
    for r in results:
        if r["error"]:
            r["error"] = {k: v for k, v in r["error"].items() if k not in ("msgid", "params")}
    failed = sum(1 for r in results if not r["ok"])
    data = {"results": results, "shipped": len(results) - failed, "failed": failed}
    if json_mode():
        click.echo(dumps(data))
    else:
        for r in results:
            error = r["error"] or {}
            state = "shipped" if r["ok"] else f"FAILED ({error['code']}): {error['message']}"
            click.echo(f"line {r['line']}: order {r['order_id']}: {state}")
        click.echo(f"{data['shipped']} shipped, {failed} failed.")
    if failed:
        raise click.exceptions.Exit(1)


def read_rows(path: Path) -> tuple[list[tuple[int, str, str, str]], list[dict[str, Any]]]:
    """The file's rows as (line, order no, carrier, waybill), and the rows that cannot be read
    as results naming their line. The header names the columns (any order)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise CommandFailed(f"{path}: cannot be read ({exc.strerror})", "usage") from None
    except UnicodeDecodeError:
        raise CommandFailed(f"{path}: not UTF-8 text", "usage") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    columns = _columns(path, header)
    rows, bad = [], []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(rows) + len(bad) >= MAX_ROWS:
            raise CommandFailed(f"{path}: more than {MAX_ROWS} rows; split the file", "usage")
        cells = [values[i].strip() if i < len(values) else "" for i in columns]
        if not cells[0]:
            bad.append(_bad(line, "", "order", f"line {line}: the order no is empty"))
            continue
        rows.append((line, *cells))
    return rows, bad


def _columns(path: Path, header: list[str] | None) -> list[int]:
    names = [h.strip().lower() for h in header or []]
    out = []
    for accepted in HEADERS.values():
        index = next((i for i, n in enumerate(names) if n in accepted), None)
        if index is None:
            raise CommandFailed(
                f"{path}: line 1: no {accepted[0]!r} column in the header "
                "(columns: order no, carrier, waybill)",
                "usage",
            )
        out.append(index)
    return out


def _bad(line: int, ref: str, field: str, message: str) -> dict[str, Any]:
    return {
        "line": line,
        "order_id": ref,
        "ok": False,
        "error": {"code": "invalid_row", "message": message, "field": field},
        "shipment": None,
    }
