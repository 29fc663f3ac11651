"""Sources: one canonical key per platform, sales channel or import (issue 22.5).

Storage holds the key (``youzan``, ``tmall``, ``wechat_shop``, ``customer_import`` …); pages
show ``NAMES[key]`` (translated where shown). ``key()`` turns any spelling a connector, a
spreadsheet or an older row used ("Youzan", "TMALL", "有赞", "WeChat Mini Shop") into its key;
a text that names no known source (a merchant's own label, such as "Spring fair") is kept as
written and matched case-insensitively by the filters."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from hub.core.errors import N_

# key -> the English display name (the web layer translates it where it is shown).
NAMES: dict[str, str] = {
    "youzan": N_("Youzan"),
    "wechat_shop": N_("WeChat Mini Shop"),
    "shopify": N_("Shopify"),
    "tmall": N_("Tmall"),
    "sobot": N_("Sobot"),
    "customer_import": N_("Customer import"),
    "crm": N_("CRM"),
    "weimob": N_("Weimob"),
    "douyin": N_("Douyin"),
    "kuaishou": N_("Kuaishou"),
    "jingdong": N_("Jingdong"),
    "taobao": N_("Taobao"),
    "vipshop": N_("Vipshop"),
    "xiao_e_tech": N_("Xiao E Tech"),
    "mogu": N_("Mogu"),
    "xiaohongshu": N_("Xiaohongshu"),
    "brand_mall": N_("Brand's own mall"),
}
# Other spellings of a key (its display name and the key itself are always accepted).
ALIASES: dict[str, tuple[str, ...]] = {
    "youzan": ("有赞",),
    "wechat_shop": ("WeChat Shop", "微信小商店", "视频号小店", "wechat_mini_shop"),
    "tmall": ("天猫",),
    "weimob": ("微盟",),
    "douyin": ("抖音",),
    "kuaishou": ("快手",),
    "jingdong": ("京东", "JD"),
    "taobao": ("淘宝",),
    "vipshop": ("唯品会",),
    "xiao_e_tech": ("小鹅通",),
    "mogu": ("蘑菇街",),
    "xiaohongshu": ("小红书",),
    "brand_mall": ("Self-developed mall of brand", "品牌自有商城", "品牌自营商城"),
}
_SEPARATORS = re.compile(r"[\s_\-.'’]+")


def _folded(text: str) -> str:
    return _SEPARATORS.sub("", text.casefold())


SPELLINGS: dict[str, str] = {
    _folded(spelling): key
    for key, name in NAMES.items()
    for spelling in (key, name, *ALIASES.get(key, ()))
}


def key(value: str | None) -> str | None:
    """The canonical key of ``value``; a text naming no known source, stripped, as it is."""
    if value is None:
        return None
    return _text_key(value)


@lru_cache(maxsize=4096)
def _text_key(value: str) -> str | None:
    """``key`` of a text, remembered: a batch names a handful of sources, thousands of times."""
    text = value.strip()
    if not text:
        return None
    return SPELLINGS.get(_folded(text), text)


def name(value: str | None) -> str:
    """The English display name of a key (an unknown source: itself)."""
    if not value:
        return ""
    return NAMES.get(key(value) or "", value)


def canonical_records(records: Iterable[Any]) -> None:
    """Store keys: rewrite each record's source, sales channel and original source in place."""
    canonical = _text_key
    for record in records:
        for attr in _SOURCE_FIELDS:
            value = getattr(record, attr, None)
            if isinstance(value, str) and (found := canonical(value)) is not value:
                setattr(record, attr, found)
        buyer = getattr(record, "buyer", None)
        if buyer is not None and isinstance(buyer.original_source, str):
            buyer.original_source = canonical(buyer.original_source)


_SOURCE_FIELDS = ("source", "sales_channel", "original_source")


def unique_keys(values: Iterable[str | None]) -> list[str]:
    """Distinct keys of ``values``, one per source whatever its case, by display name."""
    found: dict[str, str] = {}
    for value in values:
        k = key(value)
        if k and k.casefold() not in found:
            found[k.casefold()] = k
    return sorted(found.values(), key=lambda k: name(k).casefold())
