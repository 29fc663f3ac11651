"""The sandbox shop's state: buyers, trades, refunds, the clock, and a seeded generator.

Times are kept as epoch seconds (ints); money as Decimal yuan. Rendering into Youzan's JSON
shapes lives in ``sandbox_render``; the HTTP surface in ``sandbox`` and ``sandbox_control``.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

CLIENT_ID = "yzsandbox-client"
CLIENT_SECRET = "yzsandbox-secret-0001"  # noqa: S105  (the simulator's own app)
KDT_ID = "91000001"
SHOP_NAME = "Sandbox Tea House"

OPEN_STATES = ("WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_CONFIRM_GOODS", "TRADE_SUCCESS")
DAY = 86400
CENT = Decimal("0.01")

_SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu"]
_GIVEN = ["Wei", "Fang", "Na", "Min", "Jing", "Lei", "Yang", "Yan", "Jie", "Tao", "Ming"]
_PLACES = [
    ("Zhejiang", "Hangzhou", "Xihu"),
    ("Shanghai", "Shanghai", "Pudong"),
    ("Guangdong", "Shenzhen", "Nanshan"),
    ("Beijing", "Beijing", "Chaoyang"),
    ("Sichuan", "Chengdu", "Wuhou"),
    ("Jiangsu", "Nanjing", "Gulou"),
]
_ITEMS = [
    (1001, "Longjing green tea 250g", Decimal("128.00")),
    (1002, "Pu'er cake 357g", Decimal("268.00")),
    (1003, "Jasmine tea bags x20", Decimal("39.90")),
    (1004, "Celadon tea cup", Decimal("59.00")),
    (1005, "Oolong gift box", Decimal("398.00")),
    (1006, "Bamboo tea tray", Decimal("149.50")),
    (1007, "White tea 100g", Decimal("88.80")),
]
_PAY_TYPES = ["WEIXIN_DAIXIAO", "ALIPAY", "WEIXIN", "BANKCARDPAY"]


@dataclass(slots=True)
class Buyer:
    yz_open_id: str
    name: str
    phone: str
    place: tuple[str, str, str]
    address: str
    openid: str | None = None
    unionid: str | None = None


@dataclass(slots=True)
class Line:
    oid: str
    item_id: int
    sku_id: int
    title: str
    num: int
    price: Decimal
    total_fee: Decimal
    payment: Decimal


@dataclass(slots=True)
class Refund:
    refund_id: str
    tid: str
    refund_fee: Decimal
    status: str
    created: int
    modified: int
    reason: str = "Buyer changed mind"
    oid: str | None = None  # the line an after-sale case is about (None: the whole trade)


# Refund statuses of a case still open: the buyer's after-sale is in progress.
AFTER_SALE_OPEN = (
    "WAIT_SELLER_AGREE",
    "WAIT_BUYER_RETURN_GOODS",
    "WAIT_SELLER_CONFIRM_GOODS",
    "CUSTOMER_SERVICE_IN",
)


@dataclass(slots=True)
class Delivery:
    """One shipment sent with youzan.logistics.online.confirm: the lines it covers."""

    oids: list[str]
    express_id: int
    waybill: str
    at: int


@dataclass(slots=True)
class Trade:
    tid: str
    buyer: Buyer
    created: int
    lines: list[Line]
    post_fee: Decimal
    status: str = "WAIT_BUYER_PAY"
    update_time: int = 0
    pay_time: int | None = None
    consign_time: int | None = None
    success_time: int | None = None
    close_type: int = 0
    pay_type_str: str = ""
    transaction: str = ""
    refunds: list[Refund] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    seq: int = 0  # changes so far: the push ``version`` is update_time ms + seq

    @property
    def total_fee(self) -> Decimal:
        return sum((ln.total_fee for ln in self.lines), Decimal(0)) + self.post_fee

    @property
    def payment(self) -> Decimal:
        return sum((ln.payment for ln in self.lines), Decimal(0)) + self.post_fee

    @property
    def refunded(self) -> Decimal:
        return sum((r.refund_fee for r in self.refunds if r.status == "SUCCESS"), Decimal(0))

    @property
    def refund_state(self) -> int:
        refunded = self.refunded
        if not refunded:
            return 0
        return 12 if refunded >= self.payment else 2

    @property
    def shipped_oids(self) -> set[str]:
        return {oid for d in self.deliveries for oid in d.oids}


class Shop:
    """All trades of one sandbox store, indexed by update time for the order search."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.lock = threading.RLock()
        self.trades: dict[str, Trade] = {}
        self._by_update: list[tuple[int, str]] = []
        self.buyers: list[Buyer] = []
        self.clock_offset = 0
        self._seq = 0
        self.served_open: set[str] = set()
        # (tid, topic, status, version) of every change, for the push sender
        self.changes: list[tuple[str, str, str, int]] = []
        self.snapshots: dict[str, tuple[float, dict | None]] = {}  # lag: tid -> (until, old)

    # ------------------------------------------------------------------ clock and ids
    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def _next_id(self) -> int:
        self._seq += 1
        return self._seq

    def new_tid(self, created: int) -> str:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(created + 8 * 3600))
        return f"E{stamp}{self._next_id():010d}"

    # ------------------------------------------------------------------ index
    def put(self, trade: Trade, update_time: int) -> None:
        """Store a trade change; a trade's update time (whole seconds) never goes back."""
        old = self.trades.get(trade.tid)
        if old is not None and old.update_time:
            idx = bisect.bisect_left(self._by_update, (old.update_time, trade.tid))
            if idx < len(self._by_update) and self._by_update[idx] == (old.update_time, trade.tid):
                del self._by_update[idx]
            update_time = max(update_time, old.update_time)
        trade.update_time = update_time
        self.trades[trade.tid] = trade
        bisect.insort(self._by_update, (update_time, trade.tid))

    def updated_between(self, start: int, end: int) -> list[str]:
        lo = bisect.bisect_left(self._by_update, (start, ""))
        hi = bisect.bisect_right(self._by_update, (end, "\uffff"))
        return [tid for _, tid in self._by_update[lo:hi]]

    # ------------------------------------------------------------------ generation
    def make_buyer(self) -> Buyer:
        rng = self.rng
        n = self._next_id()
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        if self.buyers and rng.random() < 0.08:
            phone = rng.choice(self.buyers).phone  # family members sharing a phone
        kind = rng.random()
        buyer = Buyer(
            yz_open_id=f"yzo{n:08d}{rng.randrange(16**6):06x}",
            name=rng.choice(_SURNAMES) + " " + rng.choice(_GIVEN),
            phone=phone,
            place=rng.choice(_PLACES),
            address=f"{rng.randint(1, 999)} {rng.choice(['Wensan', 'Nanjing', 'Renmin'])} Road",
        )
        if kind > 0.35:
            buyer.openid = f"oWx{n:08d}{rng.randrange(16**8):08x}"
        if kind > 0.7:
            buyer.unionid = f"oUn{n:08d}{rng.randrange(16**8):08x}"
        self.buyers.append(buyer)
        return buyer

    def pick_buyer(self) -> Buyer:
        if self.buyers and self.rng.random() < 0.45:
            return self.rng.choice(self.buyers)  # a returning buyer
        return self.make_buyer()

    def make_trade(self, created: int) -> Trade:
        rng = self.rng
        tid = self.new_tid(created)
        lines = []
        for i in range(rng.randint(1, 4)):
            item_id, title, price = rng.choice(_ITEMS)
            num = rng.randint(1, 3)
            total = price * num
            discount = (total * Decimal(rng.choice([0, 0, 0, 5, 10])) / 100).quantize(CENT)
            sku = 0 if item_id % 2 else item_id * 10 + rng.randint(1, 3)
            oid = f"{tid[1:15]}{self._next_id():08d}{i}"
            lines.append(Line(oid, item_id, sku, title, num, price, total, total - discount))
        post_fee = rng.choice([Decimal("0.00"), Decimal("0.00"), Decimal("8.00"), Decimal("12.00")])
        trade = Trade(
            tid=tid, buyer=self.pick_buyer(), created=created, lines=lines, post_fee=post_fee
        )
        self.put(trade, created)
        return trade

    def generate(self, orders: int, days: int = 400, now: int | None = None) -> None:
        """A realistic shop: ``orders`` trades created over the ``days`` days before ``now``
        (epoch seconds; default the current time)."""
        with self.lock:
            now = now or self.now()
            stamps = sorted(now - self.rng.randrange(days * DAY) for _ in range(orders))
            for created in stamps:
                self._live(self.make_trade(created), now)

    def _live(self, trade: Trade, now: int) -> None:
        """Play a generated trade's history up to ``now`` (kept a little in the past, so that
        the strictly growing update times of a trade never run ahead of the clock)."""
        now -= 30
        rng, age = self.rng, now - trade.created
        roll = rng.random()
        if age < DAY and roll < 0.15:
            return  # still waiting for payment
        t = trade.created + rng.randint(30, 900)
        if roll < 0.07:
            self.close(trade, min(t + DAY, now), close_type=1)
            return
        self.pay(trade, min(t, now))
        if roll < 0.12:
            self.refund(trade, trade.payment, min(t + rng.randint(600, DAY), now), close=True)
            return
        if age > 2 * DAY or rng.random() < 0.5:
            self.ship(trade, min(t + rng.randint(3600, 2 * DAY), now))
        if age > 10 * DAY or (trade.consign_time and rng.random() < 0.3):
            self.succeed(trade, min(t + rng.randint(3 * DAY, 10 * DAY), now))
            if rng.random() < 0.1:
                part = rng.random() < 0.5
                fee = (trade.payment / 2).quantize(CENT) if part else trade.payment
                self.refund(trade, fee, min(trade.success_time + rng.randint(DAY, 7 * DAY), now))

    # ------------------------------------------------------------------ transitions
    def _change(self, trade: Trade, status: str, at: int, topic: str) -> None:
        trade.status = status
        self.put(trade, at)
        self.changes.append((trade.tid, topic, status, self.version(trade)))

    @staticmethod
    def version(trade: Trade) -> int:
        """A growing push version: the update time in ms plus the trade's change count."""
        trade.seq += 1
        return trade.update_time * 1000 + min(trade.seq, 999)

    def pay(self, trade: Trade, at: int) -> None:
        trade.pay_time = at
        trade.pay_type_str = self.rng.choice(_PAY_TYPES)
        trade.transaction = f"42000{self._next_id():012d}"
        self._change(trade, "WAIT_SELLER_SEND_GOODS", at, "trade_TradeBuyerPay")

    def ship(self, trade: Trade, at: int) -> None:
        trade.consign_time = at
        self._change(trade, "WAIT_BUYER_CONFIRM_GOODS", at, "trade_TradeSellerShip")

    def deliver(self, trade: Trade, oids: list[str], express_id: int, waybill: str) -> None:
        """Ship ``oids`` with one waybill: the trade moves to WAIT_BUYER_CONFIRM_GOODS once
        every line is shipped; before that it stays awaiting shipment (partly shipped)."""
        at = self.now()
        trade.deliveries.append(Delivery(list(oids), express_id, waybill, at))
        if trade.shipped_oids >= {ln.oid for ln in trade.lines}:
            self.ship(trade, at)
        else:
            trade.consign_time = trade.consign_time or at
            self._change(trade, trade.status, at, "trade_TradePartlySellerShip")

    def after_sale(self, trade: Trade, oid: str | None) -> Refund:
        """The buyer opens an after-sale case (refund requested, awaiting the seller)."""
        at = self.now()
        line = next((ln for ln in trade.lines if ln.oid == oid), trade.lines[0])
        refund = Refund(
            f"20{self._next_id():016d}", trade.tid, line.payment, "WAIT_SELLER_AGREE", at, at
        )
        refund.oid = line.oid
        trade.refunds.append(refund)
        self._change(trade, trade.status, at, "trade_refund_BuyerCreated")
        return refund

    def succeed(self, trade: Trade, at: int) -> None:
        trade.success_time = at
        self._change(trade, "TRADE_SUCCESS", at, "trade_TradeSuccess")

    def close(self, trade: Trade, at: int, close_type: int = 2) -> None:
        trade.close_type = close_type
        self._change(trade, "TRADE_CLOSED", at, "trade_TradeClose")

    def refund(self, trade: Trade, fee: Decimal, at: int, close: bool = False) -> Refund:
        fee = min(fee, trade.payment - trade.refunded)
        refund = Refund(f"20{self._next_id():016d}", trade.tid, fee, "SUCCESS", at - 60, at)
        trade.refunds.append(refund)
        if close:
            self.close(trade, at, close_type=2)
        else:
            self._change(trade, trade.status, at, "trade_refund_RefundSuccess")
        return refund
