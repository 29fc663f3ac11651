"""The customer template and the header names (English and Chinese) the mapping recognises."""

from __future__ import annotations

from hub.core.errors import N_

# Mapping targets: "customer_id", "name", "mobile", "email", "tags",
# "identity:<type>" and "property:<name>".
STANDARD_IDENTITIES = ("wx_openid", "wx_unionid", "yz_open_id", "sobot_id", "tmall_buyer")
STANDARD_PROPERTIES = (
    "gender",
    "birthday",
    "country",
    "province",
    "city",
    "district",
    "address",
    "company",
    "employees",
    "job_title",
    "note",
)
# What the pages and messages call the standard identities and properties (translated there).
LABELS: dict[str, str] = {
    "wx_openid": N_("WeChat openid"),
    "wx_unionid": N_("WeChat unionid"),
    "yz_open_id": N_("Youzan open id"),
    "sobot_id": N_("Sobot customer id"),
    "tmall_buyer": N_("Tmall buyer name"),
    "gender": N_("Gender"),
    "birthday": N_("Birthday"),
    "country": N_("Country"),
    "province": N_("Province"),
    "city": N_("City"),
    "district": N_("District"),
    "address": N_("Address"),
    "company": N_("Company"),
    "employees": N_("Number of company employees"),
    "job_title": N_("Job title"),
    "note": N_("Note"),
    "owner": N_("Owner"),
    "campaign": N_("Campaign"),
    "stage": N_("Stage"),
    "created_from": N_("Created from"),
    "creation_method": N_("Creation method"),
    "created_at": N_("Created at"),
    "updated_at": N_("Updated at"),
    "email_verified": N_("Email verified"),
    "mobile_verified": N_("Mobile verified"),
}
# Properties the seed says cannot be imported (they belong to the hub).
NOT_IMPORTABLE = (
    "owner",
    "campaign",
    "stage",
    "created_from",
    "creation_method",
    "created_at",
    "updated_at",
    "email_verified",
    "mobile_verified",
)

ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer id", "customerid", "hub customer id", "客户id", "客户编号"),
    "name": ("name", "full name", "customer name", "姓名", "名字", "客户姓名", "联系人"),
    "mobile": (
        "mobile",
        "mobile phone",
        "mobile number",
        "mobile phone number",
        "mobile no",
        "phone",
        "phone number",
        "cell phone",
        "手机",
        "手机号",
        "手机号码",
        "联系手机",
        "联系电话",
        "电话",
    ),
    "email": ("email", "e-mail", "email address", "mail", "邮箱", "电子邮箱", "邮箱地址", "邮件"),
    "tags": ("tags", "tag", "customer tags", "标签", "客户标签"),
    "identity:wx_openid": ("wechat openid", "openid", "wx openid", "微信openid"),
    "identity:wx_unionid": ("wechat unionid", "unionid", "wx unionid", "微信unionid"),
    "identity:yz_open_id": ("youzan open id", "yz open id", "有赞openid"),
    "identity:sobot_id": ("sobot id", "sobot customer id", "智齿客户id", "智齿id"),
    "identity:tmall_buyer": ("tmall buyer", "买家会员名", "淘宝会员名"),
    "property:gender": ("gender", "sex", "性别"),
    "property:birthday": ("birthday", "date of birth", "生日", "出生日期"),
    "property:country": ("country", "国家"),
    "property:province": ("province", "省份", "省"),
    "property:city": ("city", "城市", "市"),
    "property:district": ("district", "区县", "区"),
    "property:address": ("address", "地址", "详细地址"),
    "property:company": ("company", "公司", "公司名称"),
    "property:employees": ("number of company employees", "employees", "公司员工数", "员工数"),
    "property:job_title": ("job title", "职位"),
    "property:note": ("note", "remark", "备注"),
}

TEMPLATE_HEADERS = [
    "Name",
    "WeChat openid",
    "Mobile",
    "Gender",
    "Email",
    "Province",
    "City",
    "Number of company employees",
    "Birthday",
    "Tags",
]
TEMPLATE_EXAMPLE = [
    [
        "Li Lei",
        "oABC123",
        "+86 138-0013-9000",
        "male",
        "li.lei@example.cn",
        "浙江",
        "杭州",
        "50",
        "1990-05-01",
        "VIP, tea lovers",
    ],
]
