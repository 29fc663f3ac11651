"""Tmall Seller Center export headers (PLATFORMS.md §7) and the states the seed takes."""

from __future__ import annotations

ORDER_NO = "订单编号"
# Rows per report: the product report is held in memory (by order no) while the orders stream.
MAX_ROWS = 100_000

# The order report (ExportOrderList*.csv): the columns the import reads must all be there.
ORDER_REQUIRED = (
    "订单编号",
    "买家会员名",
    "买家应付货款",
    "买家应付邮费",
    "总金额",
    "买家实际支付金额",
    "订单状态",
    "收货人姓名",
    "收货地址",
    "联系电话",
    "联系手机",
    "订单创建时间",
    "订单付款时间",
    "店铺Id",
    "店铺名称",
)
# The product report (ExportOrderDetailList*.csv); newer exports say 主订单编号.
PRODUCT_REQUIRED = ("标题", "价格", "购买数量", "外部系统编号", "商品属性", "订单状态", "商家编码")
PRODUCT_ORDER_NO = ("订单编号", "主订单编号")
PRODUCT_LINE_NO = "子订单编号"

# I7: only these four states are taken (the comma is full-width in real files).
STATES = {
    "交易成功": "completed",
    "买家已付款，等待卖家发货": "paid",
    "卖家已发货，等待买家确认": "shipped",
    "卖家部分发货": "paid",
}
NOT_TAKEN = ("等待买家付款", "交易关闭")

ORDER_TEMPLATE = [
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分",
    "总金额", "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言",
    "收货人姓名", "收货地址", "运送方式", "联系电话", "联系手机", "订单创建时间", "订单付款时间",
    "宝贝标题", "宝贝种类", "物流单号", "物流公司", "订单备注", "宝贝总数量", "店铺Id", "店铺名称",
    "订单关闭原因", "卖家服务费", "买家服务费", "发票抬头", "是否手机订单", "分阶段订单信息",
    "特权订金订单id", "定金排名", "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣",
    "集分宝抵扣", "是否是O2O交易",
]  # fmt: skip
PRODUCT_TEMPLATE = [
    "订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息", "备注",
    "订单状态", "商家编码",
]  # fmt: skip
