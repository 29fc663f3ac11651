"""The Sobot order template (seed 003): columns, their Chinese names, and the fixed lists."""

from __future__ import annotations

MAX_ROWS = 5000

# field -> (English header, Chinese header, required)
COLUMNS: dict[str, tuple[str, str, bool]] = {
    "order_no": ("Order No", "订单编号", True),
    "order_source": ("Order Source", "订单来源", True),
    "order_status": ("Order Status", "订单状态", True),
    "order_time": ("Order Time", "下单时间", True),
    "store_no": ("Store No", "店铺编号", False),
    "store_id": ("Store ID", "店铺ID", False),
    "buyer_customer_id": ("Buyer Sobot Customer ID", "买家智齿客户ID", False),
    "buyer_mobile": ("Buyer Mobile", "买家手机号", False),
    "buyer_unionid": ("Buyer WeChat Unionid", "买家微信unionid", False),
    "buyer_nickname": ("Buyer Nickname", "买家昵称", False),
    "product_id": ("Product ID", "商品ID", True),
    "sku": ("Product SKU", "商品SKU", True),
    "product_name": ("Product Name", "商品名称", False),
    "quantity": ("Quantity", "购买数量", True),
    "unit_price": ("Unit Price", "商品单价", True),
    "line_total": ("Line Amount", "商品总价", False),
    "order_amount": ("Order Amount", "订单金额", False),
    "paid_amount": ("Paid Amount", "实付金额", False),
}

# Other spellings of each column's header seen in Sobot exports and hand-made files (matched
# with ``connectors.files.headers.header_key``: case, spaces, full-width and '*' do not matter).
ALIASES: dict[str, tuple[str, ...]] = {
    "order_no": ("Order No.", "Order Number", "订单号", "订单编码"),
    "order_source": ("Source", "来源", "订单渠道"),
    "order_status": ("Status", "状态"),
    "order_time": ("Order Date", "下单日期", "订单时间", "创建时间"),
    "store_no": ("Store Number", "门店编号"),
    "store_id": ("店铺id", "门店ID"),
    "buyer_customer_id": (
        "Sobot Customer ID",
        "Customer ID",
        "Buyer Customer ID",
        "智齿客户ID",
        "客户ID",
    ),
    "buyer_mobile": (
        "Mobile",
        "Mobile No.",
        "Buyer Mobile No.",
        "Phone",
        "手机号",
        "手机",
        "手机号码",
        "买家手机",
        "买家手机号码",
    ),
    "buyer_unionid": ("WeChat Unionid", "Unionid", "微信unionid", "买家unionid"),
    "buyer_nickname": ("Nickname", "Buyer Name", "昵称", "买家名称", "客户昵称"),
    "product_id": ("商品编号", "商品编码"),
    "sku": ("SKU", "SKU ID", "SKU编码", "商品规格编码"),
    "product_name": ("商品名", "商品标题"),
    "quantity": ("Qty", "数量", "商品数量"),
    "unit_price": ("Price", "单价", "价格"),
    "line_total": ("Line Total", "小计", "商品金额"),
    "order_amount": ("Order Total", "订单总额", "订单总价"),
    "paid_amount": ("Amount Paid", "实付款", "实付金额(元)"),
}

# S3: order sources (canonical English name, with the Chinese and seed spellings accepted).
SOURCES: dict[str, tuple[str, ...]] = {
    "Youzan": ("有赞",),
    "Weimob": ("微盟",),
    "Douyin": ("抖音",),
    "Kuaishou": ("快手",),
    "Jingdong": ("京东", "JD"),
    "Taobao": ("淘宝",),
    "Vipshop": ("唯品会",),
    "Xiao E Tech": ("小鹅通",),
    "Mogu": ("蘑菇街",),
    "Xiaohongshu": ("小红书",),
    "Brand's own mall": ("Self-developed mall of brand", "品牌自有商城", "品牌自营商城"),
}

# S3: order statuses -> the hub's normalised statuses. "Other" is in the list but the seed
# says it is not supported: such rows fail with that reason.
STATUSES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "Other": (None, ("其他",)),
    "To Be Paid": ("pending", ("待付款", "待支付")),
    "Paid": ("paid", ("已付款", "已支付")),
    "Shipped": ("shipped", ("已发货",)),
    "Signed for": ("completed", ("已签收",)),
    "Dealed": ("completed", ("已成交", "交易成功")),
    "Deal Closed": ("closed", ("交易关闭", "已关闭")),
}

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def template_headers() -> list[str]:
    """English headers, required ones marked '*'."""
    return [en + ("*" if req else "") for en, _cn, req in COLUMNS.values()]


def template_example() -> list[list[str]]:
    return [
        ["SO-1001", "Youzan", "Paid", "2022-09-14 11:03:23", "S01", "", "", "13800139000", "",
         "", "P-1", "P-1-RED", "Oolong tea 250g", "2", "49.50", "99.00", "99.00", "99.00"],
        ["SO-1001", "Youzan", "Paid", "2022-09-14 11:03:23", "S01", "", "", "13800139000", "",
         "", "P-2", "P-2-STD", "Tea cup", "1", "20.00", "20.00", "119.00", "119.00"],
    ]  # fmt: skip
