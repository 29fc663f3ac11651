"""An order's life in the sandbox mini shop: pay, ship, complete, after-sale, refund, cancel,
and the seeded generator that plays a whole shop's history.

Every change moves ``update_time`` and queues the push event WeChat would send
(``open_product_order_*`` / ``aftersale_*``) as ``(order_id, Event, CreateTime)``.
"""

from __future__ import annotations

from connectors.wechat_shop.sandbox_data import COMPANIES, DAY, Order, Shipment, Shop


class Refused(Exception):
    """A transition the order's state does not allow (``errcode``, ``errmsg``)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


def _change(shop: Shop, order: Order, at: int, event: str | None) -> None:
    shop.put(order, at)
    if event:
        shop.events.append((order.order_id, event, order.update_time))


def pay(shop: Shop, order: Order, at: int) -> None:
    if order.status != 10:
        raise Refused(10020002, f"order {order.order_id} is not waiting for payment")
    order.status, order.pay_time = 20, at
    order.transaction_id = f"4200001{shop._next():012d}"
    _change(shop, order, at, "open_product_order_pay")


def unshipped(order: Order) -> list[tuple[int, int, int]]:
    """(product_id, sku_id, count) still to ship, after-sale units excluded."""
    out = []
    for ln in order.lines:
        left = ln.sku_cnt - ln.finish_aftersale_sku_cnt - order.shipped(ln.product_id, ln.sku_id)
        if left > 0:
            out.append((ln.product_id, ln.sku_id, left))
    return out


def send(
    shop: Shop,
    order: Order,
    delivery_id: str,
    waybill_id: str,
    items: list[tuple[int, int, int]],
    at: int,
) -> None:
    """Record one shipment (already validated); the order moves 20 → 30 once nothing is left."""
    order.shipments.append(Shipment(delivery_id, waybill_id, items, at))
    if not unshipped(order):
        order.status, order.delivery_time = 30, at
    _change(shop, order, at, None)


def ship_all(shop: Shop, order: Order, at: int) -> None:
    if order.status != 20:
        raise Refused(10020002, f"order {order.order_id} is not waiting for delivery")
    delivery_id = shop.rng.choice(COMPANIES)[0]
    send(shop, order, delivery_id, f"{delivery_id}{shop._next():012d}", unshipped(order), at)


def complete(shop: Shop, order: Order, at: int) -> None:
    if order.status != 30:
        raise Refused(10020002, f"order {order.order_id} is not shipped")
    order.status, order.done_time = 100, at
    _change(shop, order, at, "open_product_order_confirm")


def aftersale(shop: Shop, order: Order, at: int, line_no: int = 0, count: int = 1) -> None:
    """The buyer opens an after-sale request on ``count`` units of one line."""
    if order.status not in (20, 30, 100):
        raise Refused(10020002, f"order {order.order_id} cannot go into after-sale")
    line = order.lines[line_no]
    open_max = line.sku_cnt - line.on_aftersale_sku_cnt - line.finish_aftersale_sku_cnt
    if open_max <= 0:
        raise Refused(10020004, f"every unit of {line.sku_id} is already in after-sale")
    line.on_aftersale_sku_cnt += min(count, open_max)
    order.aftersales.append(5_000_000_000_000_000_000 + shop._next())
    _change(shop, order, at, "aftersale_new_order")


def refund(shop: Shop, order: Order, at: int) -> None:
    """The open after-sale units are refunded (all units when none is open); an order with
    every unit refunded moves to 200."""
    if order.status not in (20, 30, 100):
        raise Refused(10020002, f"order {order.order_id} is not paid")
    opened = any(ln.on_aftersale_sku_cnt for ln in order.lines)
    if not opened:
        order.aftersales.append(5_000_000_000_000_000_000 + shop._next())
    for ln in order.lines:
        ln.finish_aftersale_sku_cnt += ln.on_aftersale_sku_cnt if opened else ln.sku_cnt
        ln.finish_aftersale_sku_cnt = min(ln.finish_aftersale_sku_cnt, ln.sku_cnt)
        ln.on_aftersale_sku_cnt = 0
    if all(ln.finish_aftersale_sku_cnt >= ln.sku_cnt for ln in order.lines):
        order.status = 200
    elif order.status == 20 and not unshipped(order):
        order.status, order.delivery_time = 30, at
    _change(shop, order, at, "open_product_order_refund")


def cancel(shop: Shop, order: Order, at: int) -> None:
    if order.status != 10:
        raise Refused(10020002, f"order {order.order_id} is paid: refund it instead")
    order.status = 250
    _change(shop, order, at, "open_product_order_cancel")


def generate(shop: Shop, orders: int, products: int, now: int, days: int = 400) -> None:
    """A realistic shop: ``products`` SPUs (one of every status first), then ``orders`` orders
    created over the ``days`` days before ``now``, each played up to ``now``."""
    from connectors.wechat_shop.sandbox_data import SPU_STATUSES

    rng = shop.rng
    for i in range(products):
        status = SPU_STATUSES[i] if i < len(SPU_STATUSES) else None
        shop.make_spu(now - days * DAY - rng.randrange(30 * DAY), status)
    # a few from the last two days: some still unpaid, most still to ship
    recent = min(orders, max(6, orders // 40))
    stamps = sorted(
        [now - rng.randrange(days * DAY) for _ in range(orders - recent)]
        + [now - 60 - rng.randrange(2 * DAY) for _ in range(recent)]
    )
    shop.bulk = True
    for created in stamps:
        _live(shop, shop.make_order(created), now - 30)
    shop.reindex()
    shop.events.clear()


def _live(shop: Shop, order: Order, now: int) -> None:
    rng, age, roll = shop.rng, now - order.create_time, shop.rng.random()
    t = order.create_time + rng.randint(30, 900)
    if age < DAY and roll < 0.4:
        return  # still unpaid (10)
    if roll < 0.08:
        cancel(shop, order, min(t + DAY, now))
        return
    pay(shop, order, min(t, now))
    if roll < 0.13:
        refund(shop, order, min(t + rng.randint(600, DAY), now))  # 200
        return
    if roll < 0.16:
        aftersale(shop, order, min(t + 300, now))  # paid, one item in after-sale
        return
    if age < 3 * DAY and rng.random() < 0.6:
        return  # still to ship (20)
    if roll < 0.19 and order.method == 0 and len(order.lines) > 1:
        first = order.lines[0]
        send(
            shop,
            order,
            "SF",
            f"SF{shop._next():012d}",
            [(first.product_id, first.sku_id, first.sku_cnt)],
            min(t + DAY, now),
        )
        return  # partly shipped, still 20
    ship_all(shop, order, min(t + rng.randint(3600, 2 * DAY), now))
    if age > 10 * DAY or rng.random() < 0.3:
        complete(shop, order, min(t + rng.randint(3 * DAY, 10 * DAY), now))
