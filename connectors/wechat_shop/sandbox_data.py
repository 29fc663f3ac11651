"""The sandbox mini shop's state: SPUs, orders, the clock, and a seeded generator.

Times are epoch seconds (ints), money fen integers, ids Python ints above 2^53 (rendered as
exact JSON numbers). Rendering lives in ``sandbox_render``; transitions in ``sandbox_shop``.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from dataclasses import dataclass, field

APPID = "wx5a1d0b0c0ffee001"
SECRET = "wxsandbox-secret-000000000000001"  # noqa: S105  (the simulator's own app)
PUSH_TOKEN = "wxsandbox-push-token"  # noqa: S105
DAY = 86400
ORDER_ID_BASE = 3_705_115_058_471_208_928  # real ids look like this: far above 2^53
PRODUCT_ID_BASE = 10_000_000_000_000_000  # > 2^53 too
SKU_ID_BASE = 20_000_000_000_000_000

# SPU statuses (PLATFORMS.md §2.3) and the generator's weights for them
SPU_STATUSES = (0, 5, 6, 9, 11, 12, 13)
_SPU_WEIGHTS = (6, 60, 5, 8, 11, 5, 5)
DELIVERY_METHODS = (
    ("快递", "ShippingMethod_Express"),
    ("同城配送", "ShippingMethod_SameCity"),
    ("自提", "ShippingMethod_Pickup"),
)
COMPANIES = (
    ("SF", "顺丰速运"),
    ("YTO", "圆通速递"),
    ("ZTO", "中通快递"),
    ("STO", "申通快递"),
    ("YD", "韵达速递"),
    ("JD", "京东物流"),
    ("EMS", "中国邮政速递物流"),
    ("DBL", "德邦快递"),
)
_TEAS = ["Longjing", "Pu'er", "Jasmine", "Oolong", "White tea", "Black tea", "Tieguanyin"]
_KINDS = ["250g tin", "gift box", "tea bags x20", "357g cake", "sampler", "100g pouch"]
_SIZES = [("规格", "小"), ("规格", "中"), ("规格", "大")]
_NAMES = ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵艳", "黄杰", "周涛", "吴明"]
_ROADS = ["文三路", "南京路", "人民路"]
_PLACES = [
    ("浙江省", "杭州市", "西湖区", "310000"),
    ("上海市", "上海市", "浦东新区", "200120"),
    ("广东省", "深圳市", "南山区", "518000"),
    ("北京市", "北京市", "朝阳区", "100020"),
    ("四川省", "成都市", "武侯区", "610041"),
]


@dataclass(slots=True)
class Sku:
    sku_id: int
    sale_price: int  # fen
    stock_num: int
    sku_attrs: tuple[tuple[str, str], ...]


@dataclass(slots=True)
class Spu:
    product_id: int
    title: str
    status: int
    skus: list[Sku]
    create_time: int
    update_time: int
    edit_status: int = 4

    @property
    def min_price(self) -> int:
        return min(s.sale_price for s in self.skus)


@dataclass(slots=True)
class Line:
    product_id: int
    sku_id: int
    sku_cnt: int
    title: str
    sale_price: int  # fen, per unit
    sku_attrs: tuple[tuple[str, str], ...]
    on_aftersale_sku_cnt: int = 0
    finish_aftersale_sku_cnt: int = 0


@dataclass(slots=True)
class Shipment:
    delivery_id: str
    waybill_id: str
    items: list[tuple[int, int, int]]  # (product_id, sku_id, product_cnt)
    at: int


@dataclass(slots=True)
class Order:
    order_id: int
    create_time: int
    openid: str
    lines: list[Line]
    freight: int  # fen
    discount: int  # fen
    method: int  # index into DELIVERY_METHODS
    address: tuple[str, str, str, str, str, str]  # name, tel, province, city, county, detail
    legacy_address: bool  # rendered as ``delivery_address_info`` (the §2.2 conflict)
    status: int = 10
    update_time: int = 0
    pay_time: int = 0
    transaction_id: str = ""
    delivery_time: int = 0
    done_time: int = 0
    shipments: list[Shipment] = field(default_factory=list)
    aftersales: list[int] = field(default_factory=list)
    notes: str = ""
    rev: int = 0  # bumped on every change (render cache key)

    @property
    def product_price(self) -> int:
        return sum(ln.sale_price * ln.sku_cnt for ln in self.lines)

    @property
    def order_price(self) -> int:
        return self.product_price + self.freight - self.discount

    def shipped(self, product_id: int, sku_id: int) -> int:
        return sum(
            n for s in self.shipments for p, k, n in s.items if p == product_id and k == sku_id
        )


class Shop:
    """All SPUs and orders of one sandbox mini shop, indexed by create and update time."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.lock = threading.RLock()
        self.spus: dict[int, Spu] = {}
        self.orders: dict[int, Order] = {}
        self.by_create: list[tuple[int, int]] = []  # (create_time, order_id), sorted
        self.by_update: list[tuple[int, int]] = []  # (update_time, order_id), sorted
        self.clock_offset = 0
        self.version = 0  # bumped on every change: selection caches key on it
        self.bulk = False
        self._n = 0
        self.events: list[tuple[int, str, int]] = []  # (order_id, Event, CreateTime) to push

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def _next(self) -> int:
        self._n += 1
        return self._n

    # ------------------------------------------------------------------ index
    def put(self, order: Order, at: int) -> None:
        """Store an order change; its update time never goes back."""
        old = order.update_time
        if self.bulk:  # generating: the indexes are built once at the end (``reindex``)
            order.update_time, order.rev = max(at, old), order.rev + 1
            self.orders[order.order_id] = order
            return
        if old:
            i = bisect.bisect_left(self.by_update, (old, order.order_id))
            if i < len(self.by_update) and self.by_update[i] == (old, order.order_id):
                del self.by_update[i]
            at = max(at, old)
        else:
            bisect.insort(self.by_create, (order.create_time, order.order_id))
        order.update_time = at
        order.rev += 1
        self.orders[order.order_id] = order
        bisect.insort(self.by_update, (at, order.order_id))
        self.version += 1

    def reindex(self) -> None:
        self.by_create = sorted((o.create_time, o.order_id) for o in self.orders.values())
        self.by_update = sorted((o.update_time, o.order_id) for o in self.orders.values())
        self.bulk = False
        self.version += 1

    # ------------------------------------------------------------------ products
    def make_spu(self, created: int, status: int | None = None) -> Spu:
        rng, n = self.rng, self._next()
        if status is None:
            status = rng.choices(SPU_STATUSES, _SPU_WEIGHTS)[0]
        base = rng.randrange(19, 599) * 100 + rng.choice((0, 80, 90))
        skus = [
            Sku(SKU_ID_BASE + n * 100 + i, base + 1000 * i, rng.randrange(0, 500), (attr,))
            for i, attr in enumerate(_SIZES[: rng.randint(1, 3)])
        ]
        title = f"{rng.choice(_TEAS)} {rng.choice(_KINDS)} #{n}"
        spu = Spu(
            PRODUCT_ID_BASE + n * 1000 + rng.randrange(1000), title, status, skus, created, created
        )
        self.spus[spu.product_id] = spu
        self.version += 1
        return spu

    # ------------------------------------------------------------------ orders
    def make_order(
        self,
        created: int,
        items: list[tuple[Spu, Sku, int]] | None = None,
        method: int | None = None,
    ) -> Order:
        rng, n = self.rng, self._next()
        if items is None:
            pool = self.sellable
            items = []
            for spu in rng.sample(pool, min(len(pool), rng.choice((1, 1, 1, 2, 2, 3)))):
                items.append((spu, rng.choice(spu.skus), rng.randint(1, 3)))
        lines = [
            Line(spu.product_id, sku.sku_id, cnt, spu.title, sku.sale_price, sku.sku_attrs)
            for spu, sku, cnt in items
        ]
        bits = rng.getrandbits(64)  # one draw for the buyer's details: generation stays fast
        if method is None:
            method = (0, 0, 0, 0, 0, 0, 0, 0, 1, 2)[bits % 10]
        prov, city, county, _zip = _PLACES[(bits >> 4) % len(_PLACES)]
        tel = f"1{'3578'[(bits >> 8) % 4]}{(bits >> 10) % 10**9:09d}"
        detail = f"{(bits >> 40) % 999 + 1}号 {_ROADS[(bits >> 50) % len(_ROADS)]}"
        product_price = sum(ln.sale_price * ln.sku_cnt for ln in lines)
        order = Order(
            order_id=ORDER_ID_BASE + n * 1009 + (bits >> 54) % 1000,
            create_time=created,
            openid=f"oWx{rng.getrandbits(48):012x}{n % 997:03d}",
            lines=lines,
            freight=0 if method else (0, 0, 800, 1200)[(bits >> 36) % 4],
            discount=product_price * (0, 0, 0, 5, 10)[(bits >> 30) % 5] // 100,
            method=method,
            address=(_NAMES[(bits >> 44) % len(_NAMES)], tel, prov, city, county, detail),
            legacy_address=(bits >> 34) % 10 == 0,
        )
        self.put(order, created)
        return order

    @property
    def sellable(self) -> list[Spu]:
        """SPUs buyers could have bought: anything but drafts (0)."""
        if getattr(self, "_sellable_v", -1) != len(self.spus):
            self._sellable = [s for s in self.spus.values() if s.status != 0]
            self._sellable_v = len(self.spus)
        return self._sellable
